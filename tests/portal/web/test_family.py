"""Family proxies in the portal: granting, acting for someone, the limits, and both people's histories."""

import datetime
import re
import time

import pytest
from django.utils import timezone

from ledger.api import Actor, access_context, subject_pseudonym
from ledger.models import PendingEntry
from portal.actions import proxy_grant_end, proxy_invitation_accept, proxy_invitation_create, proxy_minor_link
from portal.errors import ProxyRefused
from portal.models import ProxyGrant, adulthood_date
from portal.web.access import ACTING_FOR_SESSION_KEY
from services.grants.models import Application
from tests.factories import ResidentFactory
from tests.factories.cards import CardFactory
from tests.factories.core import AgencyFactory
from tests.factories.grants import ProgrammeFactory
from tests.factories.portal import resident_with_account, sign_in
from tests.idnumbers import make_national_id

pytestmark = pytest.mark.django_db


def _birth(years_ago: int, days: int = 0) -> str:
    today = timezone.localdate()
    born = today.replace(year=today.year - years_ago) - datetime.timedelta(days=days)
    return born.strftime("%Y%m%d")


def a_child(*, years: int = 10, days: int = 0, **fields):
    """Return a resident born YEARS and DAYS ago (a minor by default), without an account, with a card."""
    child = ResidentFactory(national_id_value=make_national_id(birth=_birth(years, days), sequence=457), **fields)
    CardFactory(resident=child)
    return child


def _system():
    return access_context(actor=Actor(type="system", id="test"), role="test", channel="task", purpose="family-proxy")


def given_adult_grant(dependant, proxy) -> ProxyGrant:
    with _system():
        _grant, code = proxy_invitation_create(dependant=dependant, relationship="child")
        return proxy_invitation_accept(proxy=proxy, code=code)


def given_minor_link(parent, child) -> ProxyGrant:
    with access_context(
        actor=Actor(type="staff", id="s1-test"), role="registrar", channel="admin", purpose="registration"
    ):
        return proxy_minor_link(
            proxy=parent,
            dependant=child,
            relationship="parent",
            reason="asked at the centre",
            document_reference="BC-1",
        )


@pytest.fixture
def family(client, resident_a, resident_b):
    """Resident A (signed in on CLIENT) may act for resident B, an adult who granted it."""
    user, proxy, _card, device = resident_a
    dependant = resident_b[1]
    grant = given_adult_grant(dependant, proxy)
    sign_in(client, user, device)
    return client, proxy, dependant, grant


def _rows_since(mark: int):
    return list(PendingEntry.objects.filter(id__gt=mark).order_by("id"))


def _mark() -> int:
    return PendingEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


# --- granting -----------------------------------------------------------------------------------------


def test_an_adult_invites_with_step_up_and_the_proxy_takes_the_code_up(client, resident_a, resident_b):
    dependant_user, dependant, _card, dependant_device = resident_b
    sign_in(client, dependant_user, dependant_device)
    assert client.post("/me/family/invite/", {"relationship": "child"}).status_code == 302  # to step-up
    sign_in(client, dependant_user, dependant_device, step_up=True)

    page = client.post("/me/family/invite/", {"relationship": "child"}).content.decode()
    code = re.search(r'id="invitation-code">([A-Z2-7]{5}-[A-Z2-7]{5})<', page).group(1)
    proxy_user, proxy, _card, proxy_device = resident_a
    sign_in(client, proxy_user, proxy_device, step_up=True)
    response = client.post("/me/family/accept/", {"code": code.lower()})

    assert response.status_code == 302
    grant = ProxyGrant.objects.get(dependant=dependant)
    assert (grant.proxy, grant.kind, grant.in_force(timezone.localdate())) == (proxy, "adult", True)
    assert dependant.full_name in client.get("/me/family/").content.decode()


def test_wrong_used_expired_and_own_codes_are_refused_alike(client, resident_a, resident_b):
    proxy_user, proxy, _card, device = resident_a
    dependant = resident_b[1]
    with _system():
        _grant, used = proxy_invitation_create(dependant=dependant, relationship="child")
        proxy_invitation_accept(proxy=ResidentFactory(), code=used)
        expired_grant, expired = proxy_invitation_create(dependant=dependant, relationship="child")
        _own_grant, own = proxy_invitation_create(dependant=proxy, relationship="child")
    ProxyGrant.objects.filter(pk=expired_grant.pk).update(invitation_expires_at=timezone.now())
    sign_in(client, proxy_user, device, step_up=True)

    answers = [client.post("/me/family/accept/", {"code": code}) for code in ("AAAAA-BBBBB", used, expired, own)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 200]
    assert (
        len(
            {
                answer.content.decode().count("This code is wrong, has expired or was already used.")
                for answer in answers
            }
        )
        == 1
    )
    assert not ProxyGrant.objects.filter(proxy=proxy).exists()


def test_a_minor_cannot_invite_a_proxy():
    child = a_child(years=16)

    with _system(), pytest.raises(ProxyRefused):
        proxy_invitation_create(dependant=child, relationship="parent")


def test_a_caseworker_link_needs_a_reason_and_a_document():
    parent, child = ResidentFactory(), a_child()

    with access_context(actor=Actor(type="staff", id="s"), role="registrar", channel="admin", purpose="registration"):
        for reason, document in (("", "BC-1"), ("asked", " "), ("", "")):
            with pytest.raises(ProxyRefused):
                proxy_minor_link(
                    proxy=parent, dependant=child, relationship="parent", reason=reason, document_reference=document
                )

    assert not ProxyGrant.objects.exists()


def test_a_caseworker_cannot_link_a_child_of_18():
    parent, grown = ResidentFactory(), a_child(years=18)

    with pytest.raises(ProxyRefused):
        given_minor_link(parent, grown)


def test_a_link_ends_on_the_18th_birthday_by_itself():
    parent, child = ResidentFactory(), a_child(years=17)
    grant = given_minor_link(parent, child)
    birthday = adulthood_date(child.birth_date)

    assert grant.ends_on == birthday
    assert grant.in_force(birthday - datetime.timedelta(days=1))
    assert not grant.in_force(birthday)


def test_a_link_and_a_grant_are_recorded_under_both_people(commit_path, resident_a, resident_b):
    parent, child = ResidentFactory(), a_child()

    with commit_path():
        link = given_minor_link(parent, child)
        grant = given_adult_grant(resident_b[1], resident_a[1])

    from ledger.api import entry_list_for_subject

    def actions_of(resident):
        return [(item["entry"]["action"], item["entry"]["object"]) for item in entry_list_for_subject(subject=resident)]

    assert ("portal.proxies.link", link.ledger_object) in actions_of(parent)
    assert ("portal.proxies.link", link.ledger_object) in actions_of(child)
    assert ("portal.proxies.accept", grant.ledger_object) in actions_of(resident_a[1])
    assert ("portal.proxies.accept", grant.ledger_object) in actions_of(resident_b[1])
    assert ("portal.proxies.invite", grant.ledger_object) in actions_of(resident_b[1])


# --- acting for someone -------------------------------------------------------------------------------


def test_acting_for_someone_shows_their_card_and_says_so_in_the_header(family):
    client, proxy, dependant, grant = family
    held = dependant.cards.first()

    started = client.post(f"/me/family/{grant.pk}/act/")
    page = client.get("/me/card/").content.decode()

    assert started.status_code == 302
    assert "Acting for <strong>" in page and dependant.full_name in page
    assert held.number_display in page
    assert proxy.cards.first().number_display not in page


def test_each_access_as_proxy_names_the_dependant_as_subject_and_the_proxy_as_actor(family):
    client, proxy, dependant, grant = family
    client.post(f"/me/family/{grant.pk}/act/")
    mark = _mark()

    client.get("/me/card/")

    rows = [(row.action, row.subject, row.actor_id, row.role, row.purpose, row.object) for row in _rows_since(mark)]
    card = dependant.cards.first()
    assert rows == [
        (
            "cards.cards.read",
            subject_pseudonym(dependant),
            subject_pseudonym(proxy),
            "proxy",
            "family-proxy",
            card.ledger_object,
        ),
        (
            "cards.credentials.static.issue",
            subject_pseudonym(dependant),
            subject_pseudonym(proxy),
            "proxy",
            "family-proxy",
            card.ledger_object,
        ),
        (
            "portal.proxies.act",
            subject_pseudonym(proxy),
            subject_pseudonym(proxy),
            "proxy",
            "family-proxy",
            f"{grant.ledger_object} cards.cards.read,cards.credentials.static.issue",
        ),
    ]


def test_starting_and_stopping_are_recorded_under_both(family):
    client, proxy, dependant, grant = family
    mark = _mark()

    client.post(f"/me/family/{grant.pk}/act/")
    stopped = client.post("/me/family/stop/")

    rows = [(row.action, row.subject, row.actor_id, row.purpose) for row in _rows_since(mark)]
    assert rows == [
        ("portal.proxies.start", subject_pseudonym(dependant), subject_pseudonym(proxy), "family-proxy"),
        ("portal.proxies.start", subject_pseudonym(proxy), subject_pseudonym(proxy), "family-proxy"),
        ("portal.proxies.stop", subject_pseudonym(dependant), subject_pseudonym(proxy), "family-proxy"),
        ("portal.proxies.stop", subject_pseudonym(proxy), subject_pseudonym(proxy), "family-proxy"),
    ]
    assert stopped.status_code == 302
    assert ACTING_FOR_SESSION_KEY not in client.session


def test_both_histories_show_the_access_with_both_names(family, commit_path, client, resident_b):
    proxy_client, proxy, dependant, grant = family
    proxy_client.post(f"/me/family/{grant.pk}/act/")
    with commit_path():
        proxy_client.get("/me/services/health/")
    proxy_client.post("/me/family/stop/")

    own = proxy_client.get("/me/access/").content.decode()
    sign_in(client, resident_b[0], resident_b[3])
    theirs = client.get("/me/access/").content.decode()

    listed = own.partition('<details class="access-folded">')[0]
    assert "You acted for a family member" in listed and f"family: {dependant.full_name}" in listed
    assert "You listed your family proxies" not in listed  # the resident's own reads are folded away
    assert f"{proxy.full_name}, acting for you checked your medical insurance coverage" in theirs


def test_the_dependant_sees_who_acted_after_the_grant_ended(family, commit_path):
    client, proxy, dependant, grant = family
    client.post(f"/me/family/{grant.pk}/act/")
    with commit_path():
        client.get("/me/card/")
    with _system():
        proxy_grant_end(grant=grant, by="dependant")
    from portal.selectors import access_history_for_resident

    with _system():
        rows = access_history_for_resident(resident=dependant, actor="all").rows

    assert any(row.action == "cards.cards.read" and row.who == f"{proxy.full_name}, acting for you" for row in rows)


def test_a_revoked_grant_ends_the_mode_on_the_next_request(family, client):
    proxy_client, proxy, dependant, grant = family
    proxy_client.post(f"/me/family/{grant.pk}/act/")
    with _system():
        proxy_grant_end(grant=grant, by="dependant")
    mark = _mark()

    page = proxy_client.get("/me/card/").content.decode()

    assert "no longer acting for someone else" in page
    assert "Acting for <strong>" not in page
    assert {row.subject for row in _rows_since(mark)} == {subject_pseudonym(proxy)}
    assert ACTING_FOR_SESSION_KEY not in proxy_client.session


def test_a_grant_id_tampered_into_the_session_acts_for_nobody(family, resident_b):
    client, proxy, _dependant, _grant = family
    stranger = ResidentFactory()
    CardFactory(resident=stranger)
    others_grant = given_adult_grant(stranger, ResidentFactory())
    session = client.session
    session[ACTING_FOR_SESSION_KEY] = others_grant.pk
    session.save()
    mark = _mark()

    page = client.get("/me/card/").content.decode()

    assert stranger.full_name not in page
    assert subject_pseudonym(stranger) not in {row.subject for row in _rows_since(mark)}


@pytest.mark.parametrize("tampered", ["1", 1.0, True, [1], None])
def test_a_malformed_session_value_acts_for_nobody(family, tampered):
    client, proxy, dependant, grant = family
    session = client.session
    session[ACTING_FOR_SESSION_KEY] = tampered if tampered is not None else grant.pk + 1000
    session.save()

    response = client.get("/me/card/")

    assert response.status_code == 200
    assert dependant.full_name not in response.content.decode()


def test_starting_to_act_under_someone_elses_grant_is_not_found(family):
    client, _proxy, _dependant, _grant = family
    others_grant = given_adult_grant(ResidentFactory(), ResidentFactory())

    response = client.post(f"/me/family/{others_grant.pk}/act/")

    assert response.status_code == 404
    assert ACTING_FOR_SESSION_KEY not in client.session


def test_a_child_past_18_ends_the_mode(client, resident_a):
    user, parent, _card, device = resident_a
    grown = a_child(years=18, days=3)
    # The link a caseworker made while the child was 17; it ran out three days ago.
    grant = ProxyGrant.objects.create(
        proxy=parent,
        dependant=grown,
        kind="minor",
        relationship="parent",
        reason="asked",
        document_reference="BC-2",
        accepted_at=timezone.now() - datetime.timedelta(days=100),
        ends_on=adulthood_date(grown.birth_date),
    )
    sign_in(client, user, device)

    started = client.post(f"/me/family/{grant.pk}/act/")
    session = client.session
    session[ACTING_FOR_SESSION_KEY] = grant.pk
    session.save()
    page = client.get("/me/card/").content.decode()

    assert started.status_code == 404
    assert "no longer acting for someone else" in page and grown.full_name not in page


def test_a_parent_acts_for_a_child_who_has_no_account(client, resident_a):
    user, parent, _card, device = resident_a
    child = a_child(full_name="Li Xiaoming")
    grant = given_minor_link(parent, child)
    sign_in(client, user, device)

    client.post(f"/me/family/{grant.pk}/act/")
    page = client.get("/me/").content.decode()

    assert "Li Xiaoming" in page and child.cards.first().number_display in page


# --- limits ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", "/account/otp/enrol/?again=1"),
        ("post", "/account/otp/enrol/email/"),
        ("post", "/account/backup-codes/"),
        ("post", "/password-reset/"),
        ("get", "/password-reset/done/"),
        ("get", "/me/family/"),
        ("post", "/me/family/invite/"),
        ("post", "/me/family/accept/"),
        ("get", "/me/card/credential.sd-jwt"),
        ("post", "/me/card/credential.mdoc"),
    ],
)
def test_own_account_changes_are_refused_while_acting(family, method, url):
    client, _proxy, dependant, grant = family
    client.post(f"/me/family/{grant.pk}/act/")
    session = client.session
    session["onecard_step_up_at"] = timezone.now().timestamp()
    session.save()

    response = getattr(client, method)(url, {"relationship": "child", "code": "AAAAA-BBBBB", "email": "x@example.org"})

    assert response.status_code == 403
    assert "Only each person can do this for themself" in response.content.decode()
    assert not ProxyGrant.objects.filter(dependant=dependant, proxy=None).exists()


def test_ending_a_grant_for_the_dependant_while_acting_is_refused(family, resident_b):
    client, _proxy, _dependant, grant = family
    client.post(f"/me/family/{grant.pk}/act/")

    response = client.post(f"/me/family/{grant.pk}/end/")

    assert response.status_code == 403
    grant.refresh_from_db()
    assert grant.ended_at is None


@pytest.fixture
def clinic(db):
    return AgencyFactory(
        code="clinic",
        grants=(["health:visits:read", "residents:verify"], ["medical-treatment", "identity-verification"]),
    )


def test_a_proxy_cannot_give_an_adults_health_consent(family, clinic):
    client, _proxy, dependant, grant = family
    client.post(f"/me/family/{grant.pk}/act/")
    session = client.session
    session["onecard_step_up_at"] = timezone.now().timestamp()
    session.save()

    response = client.post(
        "/me/consents/grant/", {"agency": "clinic", "scope": "health:visits:read", "purpose": "medical-treatment"}
    )

    assert response.status_code == 200
    assert (
        f"{dependant.full_name} must give a consent that opens their health data themselves"
        in response.content.decode()
    )
    assert not dependant.consents.exists()


def test_a_proxy_may_give_an_adults_other_consents(family, clinic):
    client, _proxy, dependant, grant = family
    client.post(f"/me/family/{grant.pk}/act/")
    session = client.session
    session["onecard_step_up_at"] = timezone.now().timestamp()
    session.save()

    response = client.post(
        "/me/consents/grant/", {"agency": "clinic", "scope": "residents:verify", "purpose": "identity-verification"}
    )

    assert response.status_code == 302
    assert dependant.consents.filter(scope="residents:verify").exists()


def test_a_parent_may_give_a_childs_health_consent(client, resident_a, clinic):
    user, parent, _card, device = resident_a
    child = a_child()
    grant = given_minor_link(parent, child)
    sign_in(client, user, device, step_up=True)
    client.post(f"/me/family/{grant.pk}/act/")

    response = client.post(
        "/me/consents/grant/", {"agency": "clinic", "scope": "health:visits:read", "purpose": "medical-treatment"}
    )

    assert response.status_code == 302
    assert child.consents.filter(scope="health:visits:read").exists()


# --- ending a grant ---------------------------------------------------------------------------------------


def test_the_dependant_withdraws_and_the_proxy_gives_up(client, resident_a, resident_b):
    proxy, dependant = resident_a[1], resident_b[1]
    withdrawn, given_up = given_adult_grant(dependant, proxy), None
    sign_in(client, resident_b[0], resident_b[3])
    client.post(f"/me/family/{withdrawn.pk}/end/")
    given_up = given_adult_grant(dependant, proxy)
    sign_in(client, resident_a[0], resident_a[3])
    client.post(f"/me/family/{given_up.pk}/end/")

    withdrawn.refresh_from_db()
    given_up.refresh_from_db()
    assert (withdrawn.ended_by, given_up.ended_by) == ("dependant", "proxy")


def test_a_minor_cannot_end_a_caseworkers_link(client):
    child_user, child, _card, device = resident_with_account()
    parent = ResidentFactory()
    ProxyGrant.objects.create(
        proxy=parent,
        dependant=child,
        kind="minor",
        relationship="parent",
        reason="r",
        document_reference="d",
        accepted_at=timezone.now(),
        ends_on=timezone.localdate() + datetime.timedelta(days=300),
    )
    grant = ProxyGrant.objects.get(dependant=child)
    sign_in(client, child_user, device)

    response = client.post(f"/me/family/{grant.pk}/end/")

    assert response.status_code == 404
    grant.refresh_from_db()
    assert grant.ended_at is None


def test_ending_someone_elses_grant_is_not_found(family):
    client, _proxy, _dependant, _grant = family
    others_grant = given_adult_grant(ResidentFactory(), ResidentFactory())

    response = client.post(f"/me/family/{others_grant.pk}/end/")

    assert response.status_code == 404
    others_grant.refresh_from_db()
    assert others_grant.ended_at is None


def test_the_family_page_records_its_read(client_a, resident_a, ledger_rows):
    client_a.get("/me/family/")

    assert ledger_rows()[-1:] == [("portal.proxies.list", "resident", "resident", "web", "self-service", "ok")]


def test_a_form_posted_for_a_dependant_after_the_grant_ended_is_refused_not_applied_to_the_proxy(family):
    """The dependant withdrew while the proxy had their application open: it must not become the proxy's own."""
    client, proxy, dependant, grant = family
    client.post(f"/me/family/{grant.pk}/act/")
    session = client.session
    session["onecard_step_up_at"] = time.time()  # a fresh step-up: the application form would go through
    session.save()
    programme = ProgrammeFactory()
    with _system():
        proxy_grant_end(grant=grant, by="dependant")

    response = client.post(
        f"/me/grants/{programme.code}/apply/", {"payout_account": "6222020200009999999", "dependants": "0"}
    )

    assert response.status_code == 403
    assert "Nothing was saved" in response.content.decode()
    assert not Application.objects.filter(programme=programme).exists()
    assert ACTING_FOR_SESSION_KEY not in client.session
    # The next form, opened as themself, is the proxy's own.
    client.post(f"/me/grants/{programme.code}/apply/", {"payout_account": "6222020200009999999", "dependants": "0"})
    assert Application.objects.get(programme=programme).resident == proxy
