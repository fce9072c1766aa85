"""The completeness bundle a resident downloads from "Who accessed my data"."""

import pytest

from ledger.api import log_seal, subject_pseudonym
from ledger.models import PendingEntry
from ledger.sequencer import log_verifier_key
from ledger.tools import vindex
from tests.portal.web.test_consents_and_access import given_agency_access


def test_the_bundle_holds_every_access_to_the_resident_and_records_the_read(client_a, resident_a, ledger_sequenced):
    resident = resident_a[1]
    given_agency_access(resident)
    given_agency_access(resident)
    log_seal()
    logged = ledger_sequenced(subject=subject_pseudonym(resident))

    response = client_a.get("/me/access/completeness.json")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="onecard-completeness.json"'
    bundle = response.json()
    result = vindex.completeness_verify(bundle, log_key=log_verifier_key(), witness_keys=bundle["witness_keys"])
    assert result["count"] == len(logged) >= 2
    assert [entry["index"] for entry in result["entries"]] == [entry["index"] for entry in logged]
    last = PendingEntry.objects.order_by("-id").first()
    assert (last.action, last.actor_type, last.subject) == (
        "portal.access_history.read",
        "resident",
        subject_pseudonym(resident),
    )


def test_the_bundle_is_not_there_before_a_checkpoint_is_published(client_a):
    response = client_a.get("/me/access/completeness.json")

    assert response.status_code == 409
    assert response.json()["error"] == "not-yet"


def test_the_page_offers_the_check_and_the_download(client_a):
    response = client_a.get("/me/access/")

    page = response.content.decode()
    assert 'id="completeness-check"' in page
    assert 'href="/me/access/completeness.json"' in page


@pytest.mark.django_db
def test_the_bundle_names_no_one_elses_entries(client_a, resident_a, resident_b, ledger_sequenced):
    given_agency_access(resident_b[1])
    log_seal()

    bundle = client_a.get("/me/access/completeness.json").json()

    tags = {subject["tag"] for subject in bundle["subjects"]}
    assert subject_pseudonym(resident_b[1]) not in tags
    assert tags == {subject_pseudonym(resident_a[1])}
