import io
import json

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from cards.models import Resident
from cards.national_id import parse_national_id
from tests.factories.services import api


def seed() -> dict:
    out = io.StringIO()
    call_command("seed_demo", "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_seed_demo_prints_the_contract_shape():
    data = seed()

    assert set(data) == {"citizens", "caseworkers", "agencies"}
    assert {"username", "password", "national_id", "card_number", "card_token"} <= set(data["citizens"][0])
    assert {"username", "password", "roles", "totp_secret"} <= set(data["caseworkers"][0])
    for citizen in data["citizens"]:
        parse_national_id(citizen["national_id"])


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_its_logins_work():
    first = seed()
    second = seed()

    assert Resident.objects.count() == len(second["citizens"]) == len(first["citizens"])
    citizen = second["citizens"][0]
    # django-axes checks each login against its lockouts, so authenticate() needs the request.
    request = RequestFactory().post("/login/")
    assert authenticate(request, username=citizen["username"], password=citizen["password"]) is not None
    assert first["caseworkers"][0]["totp_secret"] == second["caseworkers"][0]["totp_secret"]


@pytest.mark.django_db
def test_seed_demo_lists_one_agency_of_each_kind_with_a_fresh_working_key():
    from rest_framework.test import APIClient

    from services.core.models import Agency

    first = seed()
    agencies_after_first = Agency.objects.count()
    second = seed()

    assert {a["code"] for a in second["agencies"]} == {f"demo-{kind}" for kind in Agency.Kind.values}
    assert Agency.objects.count() == agencies_after_first
    bank = next(a for a in second["agencies"] if a["code"] == "demo-bank")
    old_bank = next(a for a in first["agencies"] if a["code"] == "demo-bank")
    assert bank["api_key"] != old_bank["api_key"]
    assert {"residents:verify"} <= set(bank["scopes"]) and "identity-verification" in bank["purposes"]
    citizen = second["citizens"][0]
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {bank['api_key']}", HTTP_X_PURPOSE="identity-verification")
    body = {"national_id": citizen["national_id"], "full_name": "李伟"}
    assert client.post("/api/v1/residents/verify", body, format="json").json() == {"match": True}
    stale = APIClient(HTTP_AUTHORIZATION=f"Bearer {old_bank['api_key']}", HTTP_X_PURPOSE="identity-verification")
    assert stale.get("/api/v1/agency").status_code == 401


@pytest.mark.django_db
def test_seed_demo_gives_each_citizen_an_active_card_and_a_verifiable_token():
    from cards.actions import card_token_verify
    from cards.numbers import card_number_is_valid
    from ledger.api import Actor, access_context

    first = seed()
    second = seed()

    for citizen in second["citizens"]:
        assert card_number_is_valid(citizen["card_number"])
        with access_context(
            actor=Actor(type="agency", id="PHARM01"), role="pharmacy", channel="api", purpose="identity-verification"
        ):
            result = card_token_verify(token=citizen["card_token"])
        assert (result.valid, result.card_number) == (True, citizen["card_number"])
    assert [c["card_number"] for c in first["citizens"]] == [c["card_number"] for c in second["citizens"]]


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_seed_demo_publishes_a_log_cosigned_by_the_in_process_witness(settings):
    from ledger.api import checkpoint_published, proof_bundle
    from ledger.models import Checkpoint

    seed()

    newest = Checkpoint.objects.order_by("-tree_size").first()
    published = checkpoint_published()
    assert published.split("\n")[1] == str(newest.tree_size)
    assert "\u2014 witness.embedded.onecard/in-process " in published
    assert proof_bundle(index=0)["witness_keys"][0].startswith("witness.embedded.onecard/in-process+")
    assert (settings.ONECARD_LEDGER_LOCAL_WITNESS_DIR / "witness.key").stat().st_mode & 0o077 == 0


@pytest.mark.django_db
def test_seeding_again_cosigns_the_grown_log_after_checking_its_consistency():
    from ledger.models import Cosignature

    seed()
    first = Cosignature.objects.order_by("-tree_size").first().tree_size
    seed()

    assert Cosignature.objects.order_by("-tree_size").first().tree_size > first


@pytest.mark.django_db
def test_seed_demo_opens_one_grants_programme_paid_by_the_demo_bank_once():
    from services.grants.models import Application, Programme

    seed()
    first = sorted(Application.objects.values_list("pk", "status"))
    data = seed()

    programme = Programme.objects.get(code="demo-winter-heating")
    bank = next(agency for agency in data["agencies"] if agency["code"] == "demo-bank")
    assert Programme.objects.count() == 1 and programme.is_open()
    assert programme.paying_agency.code == "demo-bank"
    assert "grants:disbursements" in bank["scopes"] and "grant-disbursement" in bank["purposes"]
    assert sorted(Application.objects.values_list("pk", "status")) == first
    assert {status for _pk, status in first} == {"eligible", "under_review"}
    listed = api(bank["api_key"], "grant-disbursement").get("/api/v1/grants/disbursements")
    assert listed.status_code == 200


@pytest.mark.django_db
def test_seed_demo_gives_each_citizen_one_approved_demo_photo_even_when_run_twice():
    from cards.models import ResidentPhoto

    seed()
    seed()

    for resident in Resident.objects.all():
        assert list(ResidentPhoto.objects.filter(resident=resident).values_list("status", flat=True)) == ["approved"]


@pytest.mark.django_db
def test_the_keys_make_run_prints_are_the_keys_in_its_json_file(tmp_path):
    out = io.StringIO()
    call_command("seed_demo", "--json-file", str(tmp_path / "var" / "demo.json"), stdout=out)

    written = json.loads((tmp_path / "var" / "demo.json").read_text())
    printed = out.getvalue()
    assert all(f"key {agency['api_key']}" in printed for agency in written["agencies"])
    assert (tmp_path / "var" / "demo.json").stat().st_mode & 0o077 == 0
    bank = next(agency for agency in written["agencies"] if agency["code"] == "demo-bank")
    assert api(bank["api_key"], "identity-verification").get("/api/v1/agency").status_code == 200
