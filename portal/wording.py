"""Say each access in the resident's words: who did what to their data, and why, in English or Chinese.

The ledger names an access by codes (``health.visits.read``, ``insurance-claims``,
an agency code, a staff group). A resident reads a sentence instead:

    Ping An Insurance read your hospital visits to settle an insurance claim.
    平安保险读取了您的就诊记录，用于保险理赔。

``DEEDS`` gives every declared action an active phrase with no subject ("read
your hospital visits"), ``REASONS`` every declared purpose a clause ("to
settle an insurance claim"); a staff admin's five looks are phrased from
``ADMIN_RECORDS``. An action or purpose declared later without a phrase here
falls back to its declared description or name, which is plain language too;
no code is ever shown (tests/portal/web/test_access_wording.py renders every
declared action and purpose in both languages).
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from ledger.api import UnknownPurpose, action_get, purpose_check

DEEDS: dict[str, Promise] = {
    "cards.cards.activate": _("activated your card"),
    "cards.cards.activation_code.create": _("made an activation code for your card"),
    "cards.cards.expire": _("marked your card as expired"),
    "cards.cards.history": _("viewed your card's history"),
    "cards.cards.issue": _("issued a card to you"),
    "cards.cards.list": _("listed your cards"),
    "cards.cards.lose": _("reported your card lost"),
    "cards.cards.print": _("viewed your printable card"),
    "cards.cards.read": _("viewed your card"),
    "cards.cards.replace": _("replaced your card"),
    "cards.cards.resume": _("resumed your card"),
    "cards.cards.revoke": _("revoked your card"),
    "cards.cards.suspend": _("suspended your card"),
    "cards.credentials.dynamic.issue": _("made a one-use QR code of your card"),
    "cards.credentials.mdoc.issue": _("issued your card as a digital credential for phone wallets (ISO mdoc)"),
    "cards.credentials.sd_jwt.issue": _("issued your card as a digital credential for wallet apps (SD-JWT)"),
    "cards.credentials.static.issue": _("made the QR code of your card"),
    "cards.credentials.verify": _("checked that your card is valid"),
    "cards.payments.credit": _("credited a payment to your card"),
    "cards.payments.list": _("listed the payments to your card"),
    "cards.photos.approve": _("approved your card photo"),
    "cards.photos.list": _("listed your card photos"),
    "cards.photos.reject": _("rejected your card photo"),
    "cards.photos.submit": _("sent a card photo for approval"),
    "cards.photos.update": _("set your card photo"),
    "cards.photos.view": _("viewed your photo"),
    "cards.residents.create": _("added you to the resident register"),
    "cards.residents.lookup": _("looked up your register entry by your national ID number"),
    "cards.residents.update": _("corrected your register entry"),
    "checks.age_gte.evaluate": _("asked whether you are old enough"),
    "checks.card_active.evaluate": _("asked whether your card is in force"),
    "checks.contribution_months_gte.evaluate": _("asked whether you contributed for enough months"),
    "checks.insured_medical.evaluate": _("asked whether you have medical insurance"),
    "checks.receiving_unemployment_benefit.evaluate": _("asked whether you receive unemployment benefit"),
    "checks.resident_of_province.evaluate": _("asked whether your ID card was issued in a given province"),
    "grants.applications.appeal": _("appealed a grant decision"),
    "grants.applications.approve": _("approved your grant application"),
    "grants.applications.assess": _("checked your grant application against the rules"),
    "grants.applications.create": _("started a grant application for you"),
    "grants.applications.list": _("listed your grant applications"),
    "grants.applications.read": _("read a grant application of yours"),
    "grants.applications.recommend": _("recommended a decision on your grant application"),
    "grants.applications.reject": _("rejected your grant application"),
    "grants.applications.review_start": _("started reviewing your grant application"),
    "grants.applications.schedule": _("scheduled your grant payment"),
    "grants.applications.submit": _("submitted your grant application"),
    "grants.cycles.approve": _("approved a round of grant payments that includes you"),
    "grants.cycles.create": _("opened a round of grant payments that includes you"),
    "grants.cycles.queue": _("queued a round of grant payments that includes you"),
    "grants.disbursements.confirm": _("confirmed a grant payment to your card"),
    "grants.disbursements.export": _("sent your grant payment to the paying bank"),
    "grants.disbursements.read": _("read your grant payment"),
    "grants.disbursements.schedule": _("scheduled a grant payment to your card"),
    "grants.eligibility.evaluate": _("checked whether you can get a grant"),
    "grants.notifications.send": _("told you about your grant application"),
    "grants.programmes.save": _("saved a grant programme that concerns you"),
    "health.coverage.read": _("checked your medical insurance coverage"),
    "health.prescriptions.cancel": _("cancelled a prescription of yours"),
    "health.prescriptions.issue": _("issued a prescription to you"),
    "health.prescriptions.read": _("read your prescriptions"),
    "health.visits.read": _("read your hospital visits"),
    "health.visits.record": _("recorded a hospital visit of yours"),
    "matching.active_card.match": _("matched their list against card holders and found you on it"),
    "matching.grant_recipient.match": _(
        "matched their list against a grant programme's recipients and found you on it"
    ),
    "matching.insured_months.match": _("matched their list against the insured and found you on it"),
    "pharmacy.dispensations.create": _("dispensed drugs to you"),
    "pharmacy.dispensations.read": _("read your drug purchases"),
    "pharmacy.flags.raise": _("flagged an unusual pattern in your drug purchases"),
    "pharmacy.flags.review": _("reviewed a flag on your drug purchases"),
    "pharmacy.holders.read": _("showed your name at the pharmacy counter"),
    "pharmacy.prescriptions.read": _("read your prescriptions at the pharmacy counter"),
    "pharmacy.sessions.open": _("scanned your one-use QR code"),
    "pharmacy.settlements.export": _("settled your drug purchases with medical insurance"),
    "portal.access_history.read": _("read who accessed your data"),
    "portal.access_history.digest": _("checked who accessed your data"),
    "portal.access_digests.send": _("sent you a summary of who accessed your data"),
    "portal.access_reports.answer": _("answered your report of an access"),
    "portal.access_reports.open": _("reported an access you do not recognise"),
    "portal.access_reports.reply": _("replied to a caseworker's answer about an access"),
    "portal.accounts.activate": _("activated your OneCard account"),
    "portal.notification_settings.read": _("viewed your notification settings"),
    "portal.notification_settings.update": _("changed your notification settings"),
    "portal.otp_devices.enrol": _("set up an authenticator app for signing in"),
    "portal.proxies.accept": _("took up a family proxy invitation"),
    "portal.proxies.act": _("acted for a family member"),
    "portal.proxies.end": _("ended a family proxy"),
    "portal.proxies.invite": _("made a family proxy invitation"),
    "portal.proxies.link": _("linked a family proxy"),
    "portal.proxies.list": _("listed your family proxies"),
    "portal.proxies.start": _("started acting for a family member"),
    "portal.proxies.stop": _("stopped acting for a family member"),
    "services.consents.grant": _("recorded a consent you gave"),
    "services.consents.list": _("listed your consents"),
    "services.consents.receipt": _("viewed a consent receipt of yours"),
    "services.consents.revoke": _("withdrew a consent of yours"),
    "services.residents.verify": _("checked your national ID number and name against the register"),
    "social_security.claims.assess": _("assessed your benefit claim"),
    "social_security.claims.decide": _("decided your benefit claim"),
    "social_security.claims.read": _("read your benefit claims"),
    "social_security.claims.submit": _("applied for unemployment benefit"),
    "social_security.contributions.read": _("read your social insurance contributions"),
    "social_security.contributions.report": _("reported your social insurance contributions"),
    "social_security.employments.read": _("read your employment record"),
    "social_security.employments.report": _("reported your employment"),
    "social_security.statement.read": _("read your contribution statement"),
    "statistics.release": _("counted your data, with noise added, in published statistics"),
}

# What a staff admin (cards.admin_base.admin_actions) shows, by its ledger prefix, for its five looks.
ADMIN_RECORDS: dict[str, Promise] = {
    "cards.cards": _("your card"),
    "cards.photos": _("your card photos"),
    "cards.residents": _("your register entry"),
    "grants.applications": _("your grant applications"),
    "grants.disbursements": _("your grant payments"),
    "health.prescriptions": _("your prescriptions"),
    "health.visits": _("your hospital visits"),
    "pharmacy.dispensations": _("your drug purchases"),
    "pharmacy.flags": _("the flags on your drug purchases"),
    "portal.access_reports": _("your reports of accesses"),
    "portal.proxies": _("your family proxies"),
    "services_core.consents": _("your consents"),
    "social_security.claims": _("your benefit claims"),
    "social_security.contributions": _("your social insurance contributions"),
    "social_security.employments": _("your employment record"),
}

ADMIN_LOOKS: dict[str, Promise] = {
    "list": _("saw %(what)s in a list"),
    "search": _("found %(what)s in a search"),
    "read": _("opened %(what)s"),
    "export": _("exported %(what)s"),
    "action": _("selected %(what)s for a bulk action"),
}

REASONS: dict[str, Promise] = {
    "access-notification": _("to tell you who accessed your data, as you asked"),
    "access-report-investigation": _("to look into an access you reported"),
    "benefit-administration": _("to handle a social security benefit claim"),
    "benefit-eligibility": _("to check whether you can get a benefit or grant"),
    "card-administration": _("to manage your card"),
    "consent-management": _("to record a consent given or withdrawn"),
    "contribution-reporting": _("to report social insurance contributions"),
    "credit-assessment": _("to assess an application for credit"),
    "demo-seeding": _("to create demonstration data"),
    "drug-dispensing": _("to dispense prescribed drugs"),
    "family-proxy": _("on behalf of a family member"),
    "face-to-face-identification": _("to identify you face to face"),
    "grant-administration": _("to handle a grant application"),
    "grant-disbursement": _("to pay a grant onto your card"),
    "grant-review": _("to review or approve a grant application"),
    "health-administration": _("to review hospital visits and prescriptions"),
    "identity-verification": _("to check who you are"),
    "insurance-claims": _("to settle an insurance claim"),
    "ledger-audit": _("to audit the record of accesses"),
    "ledger-witnessing": _("to witness the record of accesses"),
    "medical-treatment": _("to treat you"),
    "official-statistics": _("to publish statistics, with noise added to protect you"),
    "partner-administration": _("to manage a partner organisation"),
    "pharmacy-regulation": _("to supervise drug dispensing"),
    "pharmacy-settlement": _("to settle pharmacy sales with medical insurance"),
    "registration": _("to register you or correct your register entry"),
    "self-service": _("for your own use"),
    "social-security-administration": _("to review employment and contributions"),
    "staff-duty": _("in the course of their work (no narrower purpose was given)"),
}

# Staff act under the name of their group (portal.roles); "superuser" and "staff" are the middleware's fallbacks.
STAFF_ROLES: dict[str, Promise] = {
    "registrar": _("registrar"),
    "card-officer": _("card officer"),
    "social-security-officer": _("social security officer"),
    "health-officer": _("health officer"),
    "pharmacy-regulator": _("drug regulator"),
    "grants-reviewer": _("grants reviewer"),
    "grants-approver": _("grants approver"),
    "auditor": _("auditor"),
    "agency-manager": _("partner manager"),
    "superuser": _("administrator"),
}

OUTCOMES: dict[str, Promise] = {
    "ok": pgettext_lazy("access outcome", "allowed"),
    "denied": pgettext_lazy("access outcome", "refused"),
    "not_found": pgettext_lazy("access outcome", "nothing was found"),
    "invalid": pgettext_lazy("access outcome", "the request was invalid"),
    "error": pgettext_lazy("access outcome", "it failed"),
}

CHANNELS: dict[str, Promise] = {
    "web": _("on the OneCard website"),
    "api": _("through the interface for partner organisations"),
    "admin": _("in the caseworkers' office system"),
    "task": _("automatically, by OneCard"),
    "command": _("by an operator at OneCard"),
}


def _chinese() -> bool:
    return (get_language() or "").lower().startswith("zh")


def deed(action: str) -> str | None:
    """Return what ACTION did, as an active phrase without a subject ("read your hospital visits"), or None."""
    if action in DEEDS:
        return str(DEEDS[action])
    prefix, _dot, look = action.rpartition(".admin.")
    if prefix in ADMIN_RECORDS and look in ADMIN_LOOKS:
        return str(ADMIN_LOOKS[look]) % {"what": ADMIN_RECORDS[prefix]}
    return None


def action_description(action: str) -> str:
    """Return ACTION as the passive sentence it was declared with, or a plain phrase for an action retired since."""
    declared = action_get(action)
    return str(declared.description) if declared is not None else gettext("Something was done with your data")


def reason(purpose: str) -> str:
    """Return why an access was made for PURPOSE, as a clause ("to settle an insurance claim")."""
    if purpose in REASONS:
        return str(REASONS[purpose])
    try:
        name = purpose_check(purpose).name
    except UnknownPurpose:
        return gettext("for a purpose that is no longer in use")
    return gettext("for this purpose: %(purpose)s") % {"purpose": name}


def purpose_label(purpose: str) -> str:
    """Return the declared name of PURPOSE in the active language, never its code."""
    try:
        return purpose_check(purpose).name
    except UnknownPurpose:
        return gettext("a purpose that is no longer in use")


def staff_role(role: str) -> str:
    """Return a caseworker's ROLE in plain words."""
    return str(STAFF_ROLES[role]) if role in STAFF_ROLES else gettext("staff member")


def who(*, actor_type: str, actor_id: str, role: str, own: set[str], agencies: dict) -> str:
    """Return who made an access: an organisation's name, a caseworker's role, you, or OneCard itself."""
    if actor_type == "agency":
        agency = agencies.get(actor_id)
        if agency is None:
            return gettext("An organisation no longer registered")
        return agency.name_zh_hans if _chinese() else agency.name_en
    if actor_type == "staff":
        return gettext("A caseworker (%(role)s)") % {"role": staff_role(role)}
    if actor_type == "resident":
        return gettext("You") if actor_id in own else gettext("Another resident")
    return gettext("OneCard")


def channel(code: str) -> str:
    """Return how an access reached OneCard, in plain words."""
    return str(CHANNELS[code]) if code in CHANNELS else gettext("in another way")


def listing(items: list[str]) -> str:
    """Return ITEMS as one phrase, separated as the active language separates a list."""
    return gettext(", ").join(items)


def outcome(code: str) -> str:
    """Return how an access ended, in plain words."""
    return str(OUTCOMES.get(code, OUTCOMES["error"]))


@dataclass(frozen=True)
class Sentence:
    """An access told in one sentence, with the parts a page may show apart."""

    text: str
    who: str
    did: str
    why: str


def sentence(*, who_name: str, action: str, purpose: str) -> Sentence:
    """Return the access as one sentence: "Ping An Insurance read your hospital visits to settle a claim."."""
    why = reason(purpose)
    did = deed(action)
    if did is None:
        did = action_description(action)
        text = gettext("%(description)s, by %(who)s, %(why)s.") % {"description": did, "who": who_name, "why": why}
    else:
        text = gettext("%(who)s %(did)s %(why)s.") % {"who": who_name, "did": did, "why": why}
    return Sentence(text=text, who=who_name, did=did, why=why)
