import pytest
from django.core.management import call_command

from ledger.api import Actor, access_context, access_counts, log_health, record
from ledger.models import PendingEntry
from tests.factories import ResidentFactory

pytestmark = pytest.mark.django_db


def _accesses(agency: str, purpose: str, times: int, resident) -> None:
    with access_context(actor=Actor(type="agency", id=agency), role="partner", channel="api", purpose=purpose):
        for _ in range(times):
            record(action="cards.residents.lookup", subject=resident)


def test_access_counts_add_the_sequenced_log_and_the_pending_entries(capsys):
    resident = ResidentFactory()
    _accesses("HOSP01", "registration", 2, resident)
    call_command("ledger", "seal")
    _accesses("HOSP01", "registration", 1, resident)
    _accesses("BANK01", "identity-verification", 3, resident)

    assert PendingEntry.objects.count() == 4
    assert access_counts(by="agency") == {"BANK01": 3, "HOSP01": 3}
    assert access_counts(by="purpose") == {"identity-verification": 3, "registration": 3}


def test_log_health_reports_the_pending_backlog_and_the_checkpoint(capsys):
    resident = ResidentFactory()
    _accesses("HOSP01", "registration", 2, resident)
    call_command("ledger", "seal")
    _accesses("HOSP01", "registration", 1, resident)

    health = log_health()

    assert (health["pending"], health["tree_size"]) == (1, 2)
    assert health["lag_seconds"] >= 0
