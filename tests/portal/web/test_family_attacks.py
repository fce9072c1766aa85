"""Family proxies attacked: every portal page walked while acting, and the invitation code guessed.

A proxy acting for a family member must, on every page, either act for the
dependant with both people recorded (the dependant as subject with the proxy
as actor, and one ``portal.proxies.act`` entry under the proxy) or be refused;
never show or change the proxy's own data in the dependant's name, and never
record in the proxy's own resident context while acting.
"""

import datetime
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from PIL import Image

from cards.actions import resident_photo_set
from cards.models import ResidentPhoto
from ledger.api import Actor, access_context, subject_pseudonym
from ledger.models import PendingEntry
from portal.actions import proxy_invitation_accept, proxy_invitation_create, proxy_minor_link
from portal.models import ProxyGrant
from services.grants.models import Application
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.factories.core import AgencyFactory
from tests.factories.grants import ProgrammeFactory, apply, assess
from tests.factories.portal import resident_with_account, sign_in
from tests.factories.services import consent
from tests.idnumbers import make_national_id

pytestmark = pytest.mark.django_db

# Arguments for the portal URLs that take one; the values need not exist (a 404 is a fine refusal).
URL_ARGUMENTS = {
    "uidb64": "MQ",
    "token": "set-password",
    "receipt_id": "00000000-0000-0000-0000-000000000001",
    "code": "no-such-programme",
    "application_id": "1",
    "reference": "1",
    "report_id": "1",
}


def _system():
    return access_context(actor=Actor(type="system", id="test"), role="test", channel="task", purpose="family-proxy")


def _years_ago(years: int) -> str:
    today = timezone.localdate()
    return (today.replace(year=today.year - years) - datetime.timedelta(days=1)).strftime("%Y%m%d")


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (400, 500), (120, 140, 160)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _portal_paths(**arguments: str) -> list[str]:
    """Return a path for every URL of the resident portal, read from its urlconf (not listed by hand)."""
    paths = []
    for resolver in get_resolver().url_patterns:
        if not isinstance(resolver, URLResolver) or resolver.namespace != "portal":
            continue
        for pattern in resolver.url_patterns:
            assert isinstance(pattern, URLPattern)
            route = str(pattern.pattern)
            for name, value in {**URL_ARGUMENTS, **arguments}.items():
                for converter in ("", "str:", "int:", "uuid:", "slug:"):
                    route = route.replace(f"<{converter}{name}>", value)
            assert "<" not in route, route
            paths.append(f"{resolver.pattern}{route}".replace("^", ""))
    return ["/" + path.lstrip("/") for path in paths]


@pytest.fixture
def acting(client, resident_a, resident_b):
    """Resident A, signed in with a fresh step-up, acts for resident B, who has an approved photo."""
    user, proxy, _card, device = resident_a
    dependant = resident_b[1]
    with _system():
        _grant, code = proxy_invitation_create(dependant=dependant, relationship="child")
        grant = proxy_invitation_accept(proxy=proxy, code=code)
    with access_context(actor=Actor(type="staff", id="s1"), role="registrar", channel="admin", purpose="registration"):
        resident_photo_set(resident=dependant, data=_photo())
        resident_photo_set(resident=proxy, data=_photo())
    sign_in(client, user, device, step_up=True)
    assert client.post(f"/me/family/{grant.pk}/act/").status_code == 302
    return client, proxy, dependant, grant


def _mark() -> int:
    return PendingEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.mark.parametrize("method", ["get", "post"])
def test_every_portal_page_while_acting_acts_for_the_dependant_with_both_recorded_or_refuses(acting, method):
    client, proxy, dependant, grant = acting
    proxy_pseudonym, dependant_pseudonym = subject_pseudonym(proxy), subject_pseudonym(dependant)
    problems = []
    for path in _portal_paths(grant_id=str(grant.pk)):
        if path in ("/logout/", "/me/family/stop/"):
            continue  # they end the mode, as they should
        mark = _mark()
        response = getattr(client, method)(path)
        rows = list(PendingEntry.objects.filter(id__gt=mark).order_by("id"))
        if response.status_code >= 500:
            problems.append(f"{method} {path}: {response.status_code}")
        for row in rows:
            if row.actor_type == "system":
                continue  # a task the page queued (drawing the printable card) runs as the system, for anyone
            if row.role != "proxy" or row.actor_id != proxy_pseudonym:
                problems.append(f"{method} {path}: {row.action} recorded as {row.role} {row.actor_id[:8]}")
            if row.subject == proxy_pseudonym and not row.action.startswith("portal.proxies."):
                problems.append(f"{method} {path}: the proxy's own data ({row.action}) read while acting")
        accesses = [row.action for row in rows if row.subject == dependant_pseudonym]
        acts = [row for row in rows if row.action == "portal.proxies.act" and row.subject == proxy_pseudonym]
        if accesses and len(acts) != 1:
            problems.append(f"{method} {path}: {accesses} with {len(acts)} portal.proxies.act entries")
        assert client.session.get("onecard_acting_for") == grant.pk, f"{method} {path} ended the mode"
    assert not problems, "\n".join(problems)


def test_every_page_read_while_acting_is_sealed_under_both_people(acting, commit_path, ledger_sequenced):
    client, proxy, dependant, grant = acting
    proxy_pseudonym, dependant_pseudonym = subject_pseudonym(proxy), subject_pseudonym(dependant)
    problems, pages_with_accesses = [], 0
    seen = len(ledger_sequenced())
    for path in _portal_paths(grant_id=str(grant.pk)):
        if path in ("/logout/", "/me/family/stop/"):
            continue
        with commit_path():
            client.get(path)
        entries = ledger_sequenced()[seen:]
        seen += len(entries)
        accesses = [
            entry["action"]
            for entry in entries
            if entry["subject"] == dependant_pseudonym and entry["actor"]["type"] == "resident"
        ]
        acts = [
            entry
            for entry in entries
            if entry["action"] == "portal.proxies.act" and entry["subject"] == proxy_pseudonym
        ]
        pages_with_accesses += bool(accesses)
        if any(
            (entry["actor"]["id"], entry["actor"]["role"]) != (proxy_pseudonym, "proxy")
            for entry in entries
            if entry["actor"]["type"] == "resident"
        ):
            problems.append(f"{path}: an entry names another resident or role as actor")
        if accesses and not (
            len(acts) == 1 and all(name in acts[0]["object"] for name in accesses if not name.startswith("portal."))
        ):
            problems.append(f"{path}: {accesses} sealed under the dependant, {len(acts)} act entries under the proxy")
    assert not problems, "\n".join(problems)
    assert pages_with_accesses >= 10


def test_pages_naming_the_proxys_own_things_are_not_found_while_acting(acting):
    client, proxy, _dependant, _grant = acting
    agency = AgencyFactory()
    own_consent = consent(proxy, agency, "checks:age", "credit-assessment")
    own_application = apply(ProgrammeFactory(), proxy)
    own_entry = PendingEntry.objects.filter(subject=subject_pseudonym(proxy)).order_by("-id").first()
    mark = _mark()

    answers = {
        path: client.get(path).status_code
        for path in (
            f"/me/consents/{own_consent.receipt_id}/receipt.json",
            f"/me/consents/{own_consent.receipt_id}/revoke/",
            f"/me/grants/applications/{own_application.pk}/appeal/",
            f"/me/access/p{own_entry.pk}/proof.json",
            f"/me/access/p{own_entry.pk}/report/",
        )
    }

    assert set(answers.values()) == {404}, answers
    own = PendingEntry.objects.filter(id__gt=mark, subject=subject_pseudonym(proxy))
    assert not own.exclude(action__startswith="portal.proxies.").exists()


# --- guessing an invitation code -----------------------------------------------------------------


def test_guessing_invitation_codes_is_throttled_per_resident_across_addresses(client, resident_a, resident_b, settings):
    settings.ONECARD_PROXY_ACCEPT_RATE_PER_RESIDENT = "3/hour"
    user, proxy, _card, device = resident_a
    with _system():
        _grant, right = proxy_invitation_create(dependant=resident_b[1], relationship="child")
    sign_in(client, user, device, step_up=True)

    for number, address in enumerate(("10.0.0.1", "10.0.0.2", "10.0.0.3")):
        client.post("/me/family/accept/", {"code": f"AAAAA-BBBB{number + 2}"}, REMOTE_ADDR=address)
    guessed = client.post("/me/family/accept/", {"code": right}, REMOTE_ADDR="10.0.0.4")

    assert guessed.status_code == 429
    assert "Too many codes tried" in guessed.content.decode()
    assert not ProxyGrant.objects.filter(proxy=proxy).exists()


def test_guessing_invitation_codes_is_throttled_per_client_across_residents(client, resident_a, resident_b, settings):
    settings.ONECARD_PROXY_ACCEPT_RATE_PER_CLIENT = "3/hour"
    guessers = [resident_a, resident_b, resident_with_account(), resident_with_account()]

    answers = []
    for user, _resident, _card, device in guessers:
        sign_in(client, user, device, step_up=True)
        answers.append(client.post("/me/family/accept/", {"code": "AAAAA-BBBBB"}).status_code)

    assert answers == [200, 200, 200, 429]


# --- a proxy changing who the card shows -------------------------------------------------------------


def test_a_proxy_cannot_put_a_face_on_an_adults_card(acting):
    client, _proxy, dependant, _grant = acting
    before = set(ResidentPhoto.objects.filter(resident=dependant).values_list("pk", flat=True))

    response = client.post("/me/card/photo/", {"image": SimpleUploadedFile("me.jpg", _photo(), "image/jpeg")})

    assert response.status_code == 200
    assert "must send the photo for their card themselves" in response.content.decode()
    assert set(ResidentPhoto.objects.filter(resident=dependant).values_list("pk", flat=True)) == before


def _acting_for_a_child(client, resident_a, sequence: int):
    """Sign resident A in, with a fresh step-up, acting for their 8-year-old child linked by a caseworker."""
    user, parent, _card, device = resident_a
    child = ResidentFactory(national_id_value=make_national_id(birth=_years_ago(8), sequence=sequence))
    CardFactory(resident=child)
    with access_context(actor=Actor(type="staff", id="s1"), role="registrar", channel="admin", purpose="registration"):
        grant = proxy_minor_link(
            proxy=parent, dependant=child, relationship="parent", reason="at the centre", document_reference="BC-9"
        )
    sign_in(client, user, device, step_up=True)
    client.post(f"/me/family/{grant.pk}/act/")
    return parent, child


def test_a_parent_may_send_a_childs_card_photo(client, resident_a):
    _parent, child = _acting_for_a_child(client, resident_a, sequence=457)

    response = client.post("/me/card/photo/", {"image": SimpleUploadedFile("child.jpg", _photo(), "image/jpeg")})

    assert response.status_code == 302
    assert ResidentPhoto.objects.filter(resident=child, status="pending").exists()


def _apply_while_acting(client, programme, account: str):
    return client.post(
        f"/me/grants/{programme.code}/apply/", {"payout_account": account, "declared_income": "0", "dependants": "0"}
    )


def test_a_proxy_choosing_a_new_payout_account_for_an_adult_is_flagged_for_the_reviewer(acting):
    """The attack: act for an elderly parent and have their grant paid into one's own account."""
    client, proxy, dependant, _grant = acting
    programme = ProgrammeFactory()

    response = _apply_while_acting(client, programme, "6222020200009999999")

    assert response.status_code == 302
    application = Application.objects.get(resident=dependant, programme=programme)
    assert application.submitted_by_proxy == proxy
    assert "payout_account_set_by_proxy" in assess(application).flags


def test_an_account_the_adult_used_themselves_is_not_flagged(acting):
    client, _proxy, dependant, _grant = acting
    apply(ProgrammeFactory(), dependant, payout_account="6222020200005555555")
    programme = ProgrammeFactory()

    _apply_while_acting(client, programme, "6222020200005555555")

    application = Application.objects.get(resident=dependant, programme=programme)
    assert "payout_account_set_by_proxy" not in assess(application).flags


def test_an_account_another_proxy_application_used_is_still_flagged(acting):
    """A first proxy application must not launder the account for the next one."""
    client, _proxy, dependant, _grant = acting
    first, second = ProgrammeFactory(), ProgrammeFactory()
    _apply_while_acting(client, first, "6222020200009999999")

    _apply_while_acting(client, second, "6222020200009999999")

    application = Application.objects.get(resident=dependant, programme=second)
    assert "payout_account_set_by_proxy" in assess(application).flags


def test_a_parent_choosing_a_childs_payout_account_is_not_flagged(client, resident_a):
    parent, child = _acting_for_a_child(client, resident_a, sequence=458)
    programme = ProgrammeFactory()

    _apply_while_acting(client, programme, "6222020200007777777")

    application = Application.objects.get(resident=child, programme=programme)
    assert application.submitted_by_proxy == parent
    assert "payout_account_set_by_proxy" not in assess(application).flags


def test_a_residents_own_application_names_no_proxy(client, resident_a):
    user, resident, _card, device = resident_a
    sign_in(client, user, device, step_up=True)
    programme = ProgrammeFactory()

    _apply_while_acting(client, programme, "6222020200001111111")

    application = Application.objects.get(resident=resident, programme=programme)
    assert application.submitted_by_proxy is None
    assert "payout_account_set_by_proxy" not in assess(application).flags


def _csrf_token(response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())[1]


def test_a_form_opened_before_switching_whom_one_acts_for_is_refused_not_applied(resident_a, resident_b):
    """A form left open in another tab was made for the other person: posting it must not apply to this one."""
    user, proxy, _card, device = resident_a
    dependant = resident_b[1]
    with _system():
        _grant, code = proxy_invitation_create(dependant=dependant, relationship="child")
        grant = proxy_invitation_accept(proxy=proxy, code=code)
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, user, device, step_up=True)
    programme = ProgrammeFactory()
    own_form = _csrf_token(browser.get(f"/me/grants/{programme.code}/apply/"))  # the proxy's own application

    assert browser.post(f"/me/family/{grant.pk}/act/", {"csrfmiddlewaretoken": own_form}).status_code == 302
    response = browser.post(
        f"/me/grants/{programme.code}/apply/",
        {"payout_account": "6222020200009999999", "dependants": "0", "csrfmiddlewaretoken": own_form},
    )

    assert response.status_code == 403
    assert "Nothing was saved" in response.content.decode()
    assert not Application.objects.filter(programme=programme).exists()
    # A form opened while acting goes through, for the dependant.
    fresh = _csrf_token(browser.get(f"/me/grants/{programme.code}/apply/"))
    browser.post(
        f"/me/grants/{programme.code}/apply/",
        {"payout_account": "6222020200009999999", "dependants": "0", "csrfmiddlewaretoken": fresh},
    )
    assert Application.objects.get(programme=programme).resident == dependant


def test_signing_out_while_acting_records_the_stop_under_both_people(acting):
    client, proxy, dependant, grant = acting
    mark = _mark()

    assert client.post("/logout/").status_code == 302

    stops = PendingEntry.objects.filter(id__gt=mark, action="portal.proxies.stop")
    assert sorted(stops.values_list("subject", flat=True)) == sorted(
        [subject_pseudonym(proxy), subject_pseudonym(dependant)]
    )
    assert set(stops.values_list("object", flat=True)) == {grant.ledger_object}
    assert client.get("/me/").status_code == 302  # signed out


def test_signing_out_from_a_tab_opened_before_switching_offers_a_working_sign_out(resident_a, resident_b):
    user, proxy, _card, device = resident_a
    dependant = resident_b[1]
    with _system():
        _grant, code = proxy_invitation_create(dependant=dependant, relationship="child")
        grant = proxy_invitation_accept(proxy=proxy, code=code)
    browser = Client(enforce_csrf_checks=True)
    sign_in(browser, user, device)
    old_tab = _csrf_token(browser.get("/me/family/"))
    browser.post(f"/me/family/{grant.pk}/act/", {"csrfmiddlewaretoken": old_tab})

    stale = browser.post("/logout/", {"csrfmiddlewaretoken": old_tab})

    assert stale.status_code == 403 and "Nothing was saved" in stale.content.decode()
    again = browser.post("/logout/", {"csrfmiddlewaretoken": _csrf_token(stale)})
    assert again.status_code == 302
    assert browser.get("/me/").status_code == 302  # signed out
    assert PendingEntry.objects.filter(action="portal.proxies.stop").count() == 2
