"""The database roles on PostgreSQL: the web role adds pending rows only, the sequencer role alone writes the log."""

import base64
import os
import subprocess
import sys

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection

from ledger.grants import grant_statements
from ledger.models import Entry, SealedAccess, SealedOpening

WEB, SEQUENCER = "onecard_test_web", "onecard_test_sequencer"


@pytest.fixture
def roles():
    if connection.vendor != "postgresql":
        pytest.skip("database roles exist only on PostgreSQL")
    with connection.cursor() as cursor:
        for role in (WEB, SEQUENCER):
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if not cursor.fetchone():
                cursor.execute(f"CREATE ROLE {role} LOGIN")
        # As docs/operations.md says: the rest of the application's tables to the web role, then the ledger's GRANTs.
        cursor.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {WEB}")
        cursor.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {WEB}")
        for statement in grant_statements(web_role=WEB, sequencer_role=SEQUENCER):
            cursor.execute(statement)
    yield
    with connection.cursor() as cursor:
        for role in (WEB, SEQUENCER):
            cursor.execute(f"DROP OWNED BY {role}")


def _as(role):
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1", port=settings["PORT"] or 5432, dbname=settings["NAME"], user=role
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO ledger_entry (\"index\", subject, entry_bytes, leaf_hash) VALUES (99, 's', 'x', 'y')",
        "INSERT INTO ledger_node (key, hash) VALUES (99, 'x')",
        "INSERT INTO ledger_checkpoint (tree_size, root_hash, note, created_at) VALUES (99, 'x', 'n', now())",
        "DELETE FROM ledger_pendingentry",
        "UPDATE ledger_pendingentry SET subject = 'x'",
        "SELECT set_config('onecard.ledger_sequencing', 'on', true); DELETE FROM ledger_pendingentry",
        "INSERT INTO ledger_indexnode (node, version, hash) VALUES ('\\x0000', 99, 'x')",
        # Publishing a sealed access's opening before its date, or marking it released, or moving its date.
        "INSERT INTO ledger_sealedopening (commitment, contents, salt) VALUES ('c', '{}', 's')",
        "UPDATE ledger_sealedaccess SET released_at = now()",
        "UPDATE ledger_sealedaccess SET unseal_on = current_date",
        "DELETE FROM ledger_sealedaccess",
        "INSERT INTO ledger_previousentry (\"index\", subject, entry_bytes, leaf_hash) VALUES (99, 's', 'x', 'y')",
    ],
    ids=[
        "entry",
        "node",
        "checkpoint",
        "pending-delete",
        "pending-update",
        "pending-delete-marked",
        "index-node",
        "sealed-opening",
        "sealed-released",
        "sealed-date",
        "sealed-delete",
        "previous-entry",
    ],
)
def test_the_web_role_cannot_write_the_log_nor_touch_pending_rows(roles, ledger_context, statement):
    with _as(WEB) as web, pytest.raises(psycopg.errors.InsufficientPrivilege):
        web.execute(statement)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_sealedaccess SET legal_reference = 'another'",
        "UPDATE ledger_sealedaccess SET unseal_on = current_date",
        "DELETE FROM ledger_sealedaccess",
        "INSERT INTO ledger_sealedaccess (commitment, subject, unseal_on, legal_reference, sealed_by, sealed_at,"
        " sealed) VALUES ('c', 's', current_date, 'r', 'b', now(), 'x')",
        "UPDATE ledger_sealedopening SET contents = '{}'",
        "UPDATE ledger_indexnode SET hash = 'x'",
    ],
    ids=["sealed-reference", "sealed-date", "sealed-delete", "sealed-insert", "opening-update", "index-node-update"],
)
def test_the_sequencer_role_may_only_mark_a_sealed_access_released(roles, statement):
    with _as(SEQUENCER) as sequencer, pytest.raises(psycopg.errors.InsufficientPrivilege):
        sequencer.execute(statement)


def _manage(tmp_path, *args, command="ledger", sequencer=True):
    """Run manage.py as a deployment does: the web role's DATABASE_URL and (SEQUENCER) the sequencer's own URL."""
    settings = connection.settings_dict
    base = f"postgres://{{}}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "REDIS_", "ONECARD_"))}
    env |= {
        "DATABASE_URL": base.format(WEB),
        "ONECARD_VAR_DIR": str(tmp_path / "var"),
        # The log's own key, so that the subprocess signs as this test's log does.
        "ONECARD_LEDGER_SIGNING_KEY": base64.b64encode(django_settings.ONECARD_LEDGER_SIGNING_KEY).decode(),
    }
    if sequencer:
        env["DATABASE_SEQUENCER_URL"] = base.format(SEQUENCER)
    return subprocess.run(
        [sys.executable, "manage.py", command, *args], env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.django_db(transaction=True)
def test_the_web_role_adds_pending_rows_and_the_sequencer_role_moves_them(roles, ledger_context, tmp_path):
    with _as(WEB) as web:
        web.execute(
            "INSERT INTO ledger_pendingentry (time, actor_type, actor_id, role, channel, action, purpose, subject,"
            " object, outcome, request_id, case_id) VALUES (now(), 'staff', 'a', 'r', 'web', 'cards.residents.read',"
            " 'registration', 's', '', 'ok', 'req', '')"
        )

    sealed = _manage(tmp_path, "seal")

    assert sealed.returncode == 0, sealed.stderr + sealed.stdout
    assert "tree size 1" in sealed.stdout
    assert Entry.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_grants_check_passes_on_the_documented_grants_and_names_a_web_role_that_may_write(roles, tmp_path):
    assert _manage(tmp_path, "check-grants").returncode == 0
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT INSERT ON ledger_entry TO {WEB}")

    checked = _manage(tmp_path, "check-grants")

    assert checked.returncode == 1
    assert checked.stdout.strip() == f"the web role {WEB} may INSERT on ledger_entry: only the sequencer writes the log"


def test_check_grants_says_the_roles_need_postgresql_on_sqlite(capsys):
    if connection.vendor == "postgresql":
        pytest.skip("the SQLite answer")
    from django.core.management import call_command

    with pytest.raises(SystemExit):
        call_command("ledger", "check-grants")

    assert "needs PostgreSQL" in capsys.readouterr().out


SEAL = """
import datetime
from django.utils import timezone
from ledger.api import Actor, access_context, access_seal
with access_context(
    actor=Actor(type="staff", id="officer"), role="sealing-authority", channel="command",
    purpose="sealed-investigation",
):
    access_seal(
        action="cards.residents.lookup", subject="resident:1", legal_reference="Case 1/2026",
        unseal_on=timezone.localdate() + datetime.timedelta(days=3),
    )
"""
RELEASE = """
import datetime
from django.utils import timezone
from ledger import sealing
print("released", sealing.sealed_release(today=timezone.localdate() + datetime.timedelta(days=3)))
"""


@pytest.mark.django_db(transaction=True)
def test_the_web_role_seals_an_access_and_only_the_sequencer_role_releases_it(roles, tmp_path):
    sealed = _manage(tmp_path, "-c", SEAL, command="shell")
    assert sealed.returncode == 0, sealed.stderr

    by_web = _manage(tmp_path, "-c", RELEASE, command="shell", sequencer=False)
    assert by_web.returncode != 0
    assert "permission denied for table ledger_sealedaccess" in by_web.stderr
    assert not SealedOpening.objects.exists()

    by_sequencer = _manage(tmp_path, "-c", RELEASE, command="shell")
    assert by_sequencer.returncode == 0, by_sequencer.stderr
    assert "released 1" in by_sequencer.stdout
    assert SealedOpening.objects.count() == 1
    assert SealedAccess.objects.get().released_at is not None
    assert _manage(tmp_path, "seal").returncode == 0
    entries = [bytes(data) for data in Entry.objects.values_list("entry_bytes", flat=True)]
    assert sum(b'"sealed":{"commitment"' in data for data in entries) == 1
    assert sum(b'"action":"ledger.sealed.release"' in data for data in entries) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("grant", "problem"),
    [
        (
            f"GRANT UPDATE (released_at) ON ledger_sealedaccess TO {WEB}",
            f"the web role {WEB} may UPDATE on ledger_sealedaccess: a sealed access's legal reference, date and"
            " contents never change, and only its release marks it",
        ),
        (
            f"GRANT INSERT ON ledger_sealedopening TO {WEB}",
            f"the web role {WEB} may INSERT on ledger_sealedopening: only the sequencer's worker publishes a"
            " sealed access's opening, on its date",
        ),
        (
            f"GRANT INSERT ON ledger_indexnode TO {WEB}",
            f"the web role {WEB} may INSERT on ledger_indexnode: only the sequencer writes the log",
        ),
        (
            f"GRANT UPDATE (unseal_on) ON ledger_sealedaccess TO {SEQUENCER}",
            f"the sequencer role {SEQUENCER} may UPDATE on ledger_sealedaccess.unseal_on: a sealed access's legal"
            " reference, date and contents never change, and only its release marks it",
        ),
        (
            f"REVOKE INSERT ON ledger_sealedopening FROM {SEQUENCER}",
            f"the sequencer role {SEQUENCER} lacks INSERT on ledger_sealedopening",
        ),
    ],
    ids=["web-marks-released", "web-opens", "web-index-node", "sequencer-moves-date", "sequencer-cannot-open"],
)
def test_grants_check_names_a_wrong_grant_on_the_sealed_accesses_and_the_index(roles, tmp_path, grant, problem):
    with connection.cursor() as cursor:
        cursor.execute(grant)

    checked = _manage(tmp_path, "check-grants")

    assert checked.returncode == 1
    assert checked.stdout.strip() == problem
