"""The probe: every admin URL and every portal page, once, and the ledger entries each look needs.

The URL lists are built from the admin site's registry and the portal's URL
resolver, never by hand: a new model admin, custom admin view or portal page
is walked the next time this runs. Each page is opened as a superuser with a
verified OTP device and a stated purpose (the admin) or as a signed-in,
OTP-verified resident (the portal). A response that shows a resident (their
name, national ID, phone, e-mail, account name or card number) must come
with at least one ledger entry about that resident, recorded by that request
and committed: the test is transactional, so the sequencer runs on commit as
in production, and entries are read from the log and the pending table.
Every response must also be below 500.
"""

import datetime
import io
import json
import re
import uuid
from decimal import Decimal

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from cards.admin_base import ResidentDataAdmin
from cards.models import Card, Resident
from ledger import models as ledger_models
from ledger.api import Actor, access_context, subject_pseudonyms
from portal import dashboard
from portal.actions import access_report_open, backup_codes_regenerate, proxy_invitation_create
from portal.models import ProxyGrant
from services.core.actions import consent_grant
from services.core.models import Agency
from services.grants import actions as grant_actions
from services.grants.models import Application, Programme
from services.pharmacy.models import Dispensation, DispensingSession, SettlementReport, SuspiciousPatternFlag
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.factories.core import AgencyFactory
from tests.factories.grants import ProgrammeFactory, apply, assess, cycle_signed_off, to_review
from tests.factories.grants import caseworker as grants_caseworker
from tests.factories.grants import staff as grants_staff
from tests.factories.pharmacy import prescription
from tests.factories.portal import resident_with_account, sign_in
from tests.portal.staff import admin_login, fast_password_hashing, purpose_state, staff_create  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_password_hashing")]

# Admin URLs the walk does not open, each with the reason.
ADMIN_NOT_WALKED = {
    "logout": "ends the session the walk runs in",
}
# Portal pages the walk opens signed out (they are for signing in); everything else is opened signed in.
PORTAL_SIGNED_OUT = {"login", "activate", "password-reset", "password-reset-sent", "password-reset-confirm"}
PORTAL_NOT_WALKED = {
    "logout": "ends the session the walk runs in",
}


def ledger_mark() -> tuple[int, int]:
    pending = ledger_models.PendingEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    entry = ledger_models.Entry.objects.order_by("-index").values_list("index", flat=True).first()
    return pending, -1 if entry is None else entry


def subjects_since(mark: tuple[int, int]) -> set[str]:
    """Return the subjects of every entry recorded (pending or sequenced) after MARK."""
    pending = set(ledger_models.PendingEntry.objects.filter(id__gt=mark[0]).values_list("subject", flat=True))
    sequenced = set(ledger_models.Entry.objects.filter(index__gt=mark[1]).values_list("subject", flat=True))
    return pending | sequenced


def markers_of(resident: Resident) -> list[str]:
    """Return what identifies RESIDENT on a page: name, national ID, phone, e-mail, account name, card numbers."""
    found = [resident.full_name, resident.national_id]
    found += [value for value in (resident.phone, resident.email) if value and len(value) >= 6]
    if resident.user_id:
        found.append(resident.user.username)
    for card in Card.objects.filter(resident=resident):
        found += [card.number, card.number_display]
    return found


def shown_text(response) -> str | None:
    """Return the response's text as a reader sees it, or None for a binary body (images, PDFs)."""
    content_type = response.get("Content-Type", "")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if content_type.startswith("application/json") or content_type.endswith("+json"):
        try:
            return json.dumps(json.loads(body), ensure_ascii=False)
        except ValueError:
            return body.decode("utf-8", "replace")
    if content_type.startswith(("text/", "application/xhtml", "image/svg")):
        return body.decode("utf-8", "replace")
    return None


class Walk:
    """Open pages, and note each response that failed or showed a resident without recording them."""

    def __init__(self, residents: list[Resident]):
        self.markers = {resident: markers_of(resident) for resident in residents}
        self.pseudonyms = {resident: set(subject_pseudonyms(resident)) for resident in residents}
        self.problems: list[str] = []
        self.opened: list[str] = []
        self.landed: dict[str, str] = {}

    def open(self, client, label: str, method: str, path: str, data=None) -> None:
        mark = ledger_mark()
        response = getattr(client, method)(path, data or {}, follow=True)
        self.opened.append(label)
        self.landed[label] = response.request["PATH_INFO"]
        if response.status_code >= 500:
            self.problems.append(f"{label}: {method.upper()} {path} answered {response.status_code}")
            return
        text = shown_text(response)
        if text is None:
            return
        # What the request sent (a search term echoed in the search box) is not shown to the sender by the page.
        for sent in (data or {}).values():
            text = text.replace(str(sent), "")
        recorded = subjects_since(mark)
        for resident, markers in self.markers.items():
            shown = [marker for marker in markers if marker and marker in text]
            if shown and not (self.pseudonyms[resident] & recorded):
                self.problems.append(
                    f"{label}: {method.upper()} {path} shows resident {resident.pk} ({len(shown)} identifiers) "
                    "with no ledger entry about them"
                )


def world() -> dict:
    """Seed the demo, then add one of each record the demo does not make, so every admin page has a row to open."""
    call_command("seed_demo", "--json", stdout=io.StringIO())
    user, resident, card, device = resident_with_account()
    agency = AgencyFactory(grants=(["residents:verify"], ["identity-verification"]))
    context = {"actor": Actor(type="system", id="probe"), "role": "system", "channel": "command"}
    with access_context(**context, purpose="registration"):
        consent = consent_grant(
            resident=resident, agency=agency, scope="residents:verify", purpose="identity-verification"
        )
        report = access_report_open(resident=resident, entry_index=None, entry_summary="an access", text="not me")
        proxy_invitation_create(dependant=resident, relationship="parent")
    pharmacy = Agency.objects.filter(kind="pharmacy").first() or agency
    SettlementReport.objects.get_or_create(
        pharmacy=pharmacy,
        day=timezone.localdate() - datetime.timedelta(days=1),
        defaults={"dispensation_count": 0, "total_price": 0, "insured_total": 0, "resident_total": 0},
    )
    if not SuspiciousPatternFlag.objects.exists():
        SuspiciousPatternFlag.objects.create(
            resident=resident, kind=SuspiciousPatternFlag.Kind.PHARMACY_HOPPING, detail="probe"
        )
    _dispensation(resident, card, pharmacy)
    _disbursement()
    backup_codes_regenerate(user=user)
    common = {"user_agent": "probe", "ip_address": "10.0.0.9", "http_accept": "*/*", "path_info": "/login/"}
    AccessAttempt.objects.create(username=user.username, get_data="", post_data="", failures_since_start=1, **common)
    AccessLog.objects.create(username=user.username, **common)
    AccessFailureLog.objects.create(username=user.username, locked_out=False, **common)
    call_command("ledger", "seal", stdout=io.StringIO())
    return {
        "user": user,
        "resident": resident,
        "card": card,
        "device": device,
        "consent": consent,
        "report": report,
    }


def _dispensation(resident, card, pharmacy) -> None:
    rx = prescription(resident)
    session = DispensingSession.objects.create(
        pharmacy=pharmacy,
        resident=resident,
        card=card,
        jti=uuid.uuid4().hex,
        reimbursement_rate=Decimal("0.700"),
        expires_at=timezone.now() + datetime.timedelta(minutes=5),
    )
    Dispensation.objects.create(
        session=session,
        pharmacy=pharmacy,
        resident=resident,
        prescription=rx,
        drug_code=rx.drug_code,
        drug_name=rx.drug_name,
        quantity=10,
        price=Decimal("100.00"),
        reimbursement_rate=Decimal("0.700"),
        insured_share=Decimal("70.00"),
        resident_share=Decimal("30.00"),
    )


def _disbursement() -> None:
    """Pay one approved grant application through a signed-off cycle, as the grants tests do."""
    bank = AgencyFactory(kind="bank")
    programme = ProgrammeFactory(paying_agency=bank)
    reviewer, approver = grants_caseworker("review_application"), grants_caseworker("approve_application")
    cycle = cycle_signed_off(programme, creator=approver)
    resident = ResidentFactory()
    CardFactory(resident=resident)
    application = to_review(assess(apply(programme, resident)), reviewer)
    with grants_staff(approver):
        grant_actions.application_approve(application=application, user=approver, reason="ok")
    with grants_staff(purpose="grant-administration"):
        grant_actions.cycle_batch_run(cycle=cycle)


def _route_kwargs(pattern) -> list[str]:
    converters = getattr(pattern.pattern, "converters", None)
    if converters:
        return list(converters)
    return list(getattr(pattern.pattern, "regex", re.compile("")).groupindex)


def admin_pages(residents: list[Resident]):
    """Yield (label, method, path, data) for every URL of the admin site and of each registered model admin."""
    site = admin.site
    first = {model: model._default_manager.order_by("pk").first() for model in site._registry}
    missing = [
        model._meta.label
        for model, obj in first.items()
        if obj is None and isinstance(site._registry[model], ResidentDataAdmin)
    ]
    assert not missing, f"add a row of each to the probe's world: {missing}"
    searched = residents[0]
    for model, model_admin in site._registry.items():
        opts = model._meta
        # A model without rows (a ledger alert, say) still has its object pages opened, for an absent row.
        pk = first[model].pk if first[model] is not None else 0
        for pattern in model_admin.get_urls():
            if not isinstance(pattern, URLPattern) or not pattern.name:
                continue  # the catch-all that redirects an old change URL
            name = f"admin:{pattern.name}"
            kwargs = {key: pk for key in _route_kwargs(pattern)}
            path = reverse(name, kwargs=kwargs)
            if pattern.name.endswith("_search"):
                yield name, "post", path, {"q": searched.national_id}
                yield name, "post", path, {"q": searched.full_name}
            else:
                yield name, "get", path, None
            if pattern.name.endswith("_changelist"):
                yield f"{name} (popup)", "get", path, {"_popup": "1", "_to_field": opts.pk.attname}
    for pattern in site.get_urls():
        if isinstance(pattern, URLResolver) or not pattern.name or pattern.name in ADMIN_NOT_WALKED:
            continue
        name = f"admin:{pattern.name}"
        keys = _route_kwargs(pattern)
        if pattern.name == "app_list":
            for app_label in sorted({model._meta.app_label for model in site._registry}):
                yield name, "get", reverse(name, kwargs={"app_label": app_label}), None
        elif pattern.name == "view_on_site":
            for model, obj in first.items():
                object_id = obj.pk if obj is not None else 0
                kwargs = {"content_type_id": ContentType.objects.get_for_model(model).pk, "object_id": object_id}
                yield name, "get", reverse(name, kwargs=kwargs), None
        elif pattern.name == "autocomplete":
            yield from _autocomplete_requests(name, searched)
        elif pattern.name == "onecard_dashboard_csv":
            for source in dashboard.CHARTS:
                yield name, "get", reverse(name, kwargs={"code": source.code}), None
        else:
            assert not keys, f"the probe does not know how to fill {keys} of {name}: teach it"
            yield name, "get", reverse(name), None


def _autocomplete_requests(name: str, searched: Resident):
    path = reverse(name)
    for model in admin.site._registry:
        for field in model._meta.get_fields():
            if not (field.is_relation and field.many_to_one and field.concrete):
                continue
            for term in ("", searched.full_name, searched.national_id):
                query = {
                    "app_label": model._meta.app_label,
                    "model_name": model._meta.model_name,
                    "field_name": field.name,
                    "term": term,
                }
                yield f"{name} {model._meta.label}.{field.name}", "get", path, query


def portal_pages(seeded: dict):
    """Yield (label, method, path, signed_in) for every page of the resident portal, from its URL resolver."""
    resident = seeded["resident"]
    own = ledger_models.Entry.objects.filter(subject__in=subject_pseudonyms(resident)).order_by("-index").first()
    application = Application.objects.filter(resident=resident).first() or Application.objects.first()
    fills = {
        "receipt_id": seeded["consent"].receipt_id,
        "code": Programme.objects.order_by("pk").first().code,
        "application_id": application.pk,
        "reference": own.index if own is not None else 0,
        "uidb64": "MQ",
        "token": "set-password",
        "report_id": seeded["report"].pk,
        "grant_id": ProxyGrant.objects.order_by("pk").first().pk,
    }
    resolver = get_resolver()
    portal = next(
        p for p in resolver.url_patterns if isinstance(p, URLResolver) and getattr(p, "namespace", None) == "portal"
    )
    for pattern in portal.url_patterns:
        if pattern.name in PORTAL_NOT_WALKED:
            continue
        keys = _route_kwargs(pattern)
        unknown = [key for key in keys if key not in fills]
        assert not unknown, f"the probe does not know how to fill {unknown} of portal:{pattern.name}: teach it"
        path = reverse(f"portal:{pattern.name}", kwargs={key: fills[key] for key in keys})
        yield f"portal:{pattern.name}", "get", path, pattern.name not in PORTAL_SIGNED_OUT


def test_every_admin_url_that_shows_a_resident_records_them(client):
    seeded = world()
    residents = list(Resident.objects.all())
    superuser = staff_create("superuser")
    admin_login(client, superuser)
    purpose_state(client, "registration")
    walk = Walk(residents)

    for label, method, path, data in admin_pages(residents):
        walk.open(client, label, method, path, data)

    assert len(walk.opened) > 100
    # The walk really was signed in with a purpose: pages opened, not the login or purpose form.
    assert walk.landed["admin:cards_resident_changelist"] == "/admin/cards/resident/"
    assert walk.landed["admin:cards_resident_change"].endswith("/change/")
    assert seeded["resident"] in residents
    assert not walk.problems, "\n".join(walk.problems)


def test_every_portal_page_that_shows_a_resident_records_them(client):
    seeded = world()
    residents = list(Resident.objects.all())
    walk = Walk(residents)
    signed_out = client.__class__()
    sign_in(client, seeded["user"], seeded["device"], step_up=True)

    for label, method, path, signed_in in portal_pages(seeded):
        walk.open(client if signed_in else signed_out, label, method, path)

    assert len(walk.opened) >= 25
    assert walk.landed["portal:dashboard"] == "/me/" and walk.landed["portal:access-history"] == "/me/access/"
    assert not walk.problems, "\n".join(walk.problems)


def test_the_probe_notices_a_page_that_shows_a_resident_without_recording(client):
    seeded = world()
    walk = Walk([seeded["resident"]])
    admin_login(client, staff_create("superuser"))
    purpose_state(client, "registration")

    # Stand-in for a page that leaks: the index shows the site header and records nothing.
    walk.markers[seeded["resident"]].append("OneCard staff")
    walk.open(client, "index", "get", reverse("admin:index"))

    assert len(walk.problems) == 1 and "no ledger entry" in walk.problems[0]
