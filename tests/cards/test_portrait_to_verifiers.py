"""A portrait is a photo: a verifier sees it only with ``cards:photo``, and each time it is a recorded photo view.

The attack: a partner holding only ``cards:verify`` (an employer reporting
contributions, say) is handed the resident's full SD-JWT VC, or reads an mdoc
whose holder disclosed the portrait, and posts it to the verify endpoint to
get the photo, with nothing in the resident's history saying a photo was seen.
"""

import io

import pytest
from PIL import Image

from cards.actions import resident_photo_set
from ledger.api import Actor, access_context, subject_pseudonym
from tests.cards.test_mdoc_endpoints import post as mdoc_post
from tests.cards.test_mdoc_endpoints import session as mdoc_session
from tests.cards.test_sd_jwt import present
from tests.factories.core import agency_with_key
from tests.factories.portal import resident_with_account, sign_in
from tests.factories.services import api

pytestmark = pytest.mark.django_db

CLAIMS = {"name", "portrait"}


def _key(scopes, purpose):
    agency, key = agency_with_key(kind="pharmacy", scopes=scopes, purposes=[purpose])
    return agency, api(key, purpose)


@pytest.fixture
def employer():
    return _key(["cards:verify"], "contribution-reporting")


@pytest.fixture
def counter():
    return _key(["cards:verify", "cards:photo"], "face-to-face-identification")


@pytest.fixture
def photo_holder(client):
    user, resident, card, device = resident_with_account()
    image = io.BytesIO()
    Image.new("RGB", (480, 640), (10, 20, 30)).save(image, format="JPEG")
    with access_context(
        actor=Actor(type="staff", id="cw"), role="caseworker", channel="admin", purpose="card-administration"
    ):
        resident_photo_set(resident=resident, data=image.getvalue())
    sign_in(client, user, device)
    return resident, card, client.get("/me/card/credential.sd-jwt").content.decode()


def _sd_jwt_verify(verifier, sd_jwt):
    return verifier.post(
        "/api/v1/cards/presentations/verify", {"presentation": present(sd_jwt, CLAIMS)}, format="json"
    ).json()


def _mdoc_read(card):
    with access_context(
        actor=Actor(type="staff", id="cw"), role="caseworker", channel="admin", purpose="card-administration"
    ):
        return mdoc_session(card)


def _photo_views(entries, resident):
    """The resident's photo views by a partner (the resident's own download of the credential is one too)."""
    return [
        entry
        for entry in entries
        if entry["subject"] == subject_pseudonym(resident) and entry["actor"]["type"] == "agency"
    ]


def test_a_verifier_without_the_photo_scope_gets_no_portrait_from_an_sd_jwt_vc(
    employer, photo_holder, commit_path, ledger_sequenced
):
    _agency, verifier = employer
    resident, card, sd_jwt = photo_holder

    with commit_path():
        body = _sd_jwt_verify(verifier, sd_jwt)

    assert (body["valid"], body["claims"], body["withheld"]) == (True, {"name": resident.full_name}, ["portrait"])
    assert _photo_views(ledger_sequenced(action="cards.photos.view"), resident) == []
    [checked] = ledger_sequenced(action="cards.credentials.verify", subject=subject_pseudonym(resident))
    assert checked["object"] == f"card:{card.pk} v{card.version} sd-jwt-vc valid name"


def test_a_counter_with_the_photo_scope_sees_the_portrait_and_the_view_is_recorded(
    counter, photo_holder, commit_path, ledger_sequenced
):
    agency, verifier = counter
    resident, card, sd_jwt = photo_holder

    with commit_path():
        body = _sd_jwt_verify(verifier, sd_jwt)

    assert set(body["claims"]) == CLAIMS and body["withheld"] == []
    [view] = _photo_views(ledger_sequenced(action="cards.photos.view"), resident)
    assert (view["object"], view["actor"]["id"], view["purpose"]) == (
        f"card:{card.pk} portrait sd-jwt-vc",
        agency.code,
        "face-to-face-identification",
    )


def test_the_photo_scope_needs_a_purpose_that_allows_it(photo_holder):
    _agency, verifier = _key(["cards:verify", "cards:photo"], "identity-verification")
    _resident, _card, sd_jwt = photo_holder

    body = _sd_jwt_verify(verifier, sd_jwt)

    assert "portrait" not in body["claims"] and body["withheld"] == ["portrait"]


def test_a_verifier_without_the_photo_scope_gets_no_portrait_from_an_mdoc(
    employer, photo_holder, commit_path, ledger_sequenced
):
    _agency, verifier = employer
    resident, card, _sd_jwt = photo_holder

    with commit_path():
        body = mdoc_post(verifier, *_mdoc_read(card)).json()

    assert (body["valid"], body["claims"], body["withheld"]) == (True, {"name": resident.full_name}, ["portrait"])
    assert _photo_views(ledger_sequenced(action="cards.photos.view"), resident) == []


def test_a_counter_reading_an_mdoc_sees_the_portrait_and_the_view_is_recorded(
    counter, photo_holder, commit_path, ledger_sequenced
):
    agency, verifier = counter
    resident, card, _sd_jwt = photo_holder

    with commit_path():
        body = mdoc_post(verifier, *_mdoc_read(card)).json()

    assert body["claims"]["portrait"].startswith("data:image/jpeg;base64,/9j/")
    [view] = _photo_views(ledger_sequenced(action="cards.photos.view"), resident)
    assert (view["object"], view["actor"]["id"]) == (f"card:{card.pk} portrait mdoc", agency.code)


def test_a_stored_answer_with_a_portrait_is_not_replayed_once_the_photo_scope_is_withdrawn(
    counter, photo_holder, commit_path, ledger_sequenced
):
    agency, verifier = counter
    resident, _card, sd_jwt = photo_holder
    body = {"presentation": present(sd_jwt, CLAIMS)}
    first = verifier.post("/api/v1/cards/presentations/verify", body, format="json", HTTP_IDEMPOTENCY_KEY="v-1")
    assert "portrait" in first.json()["claims"]
    agency.scope_grants.filter(scope="cards:photo").delete()

    with commit_path():
        again = verifier.post("/api/v1/cards/presentations/verify", body, format="json", HTTP_IDEMPOTENCY_KEY="v-1")

    assert again.status_code == 403 and again["Content-Type"].startswith("application/problem+json")
    assert again.json()["type"].endswith("/scope-missing") and "portrait" not in again.content.decode()
    refused = [v for v in _photo_views(ledger_sequenced(action="cards.photos.view"), resident) if v["outcome"] != "ok"]
    assert [(v["outcome"], v["object"]) for v in refused] == [("denied", "replay:no-photo-scope")]
