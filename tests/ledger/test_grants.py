"""The database roles on PostgreSQL: the web role adds pending rows only, the sequencer role alone writes the log."""

import psycopg
import pytest
from django.db import connection, connections

from ledger.api import record
from ledger.grants import grant_statements, grants_check
from ledger.sequencer import sequence

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
    ],
)
def test_the_web_role_cannot_write_the_log_nor_touch_pending_rows(roles, ledger_context, statement):
    with _as(WEB) as web, pytest.raises(psycopg.errors.InsufficientPrivilege):
        web.execute(statement)


@pytest.mark.django_db(transaction=True)
def test_the_web_role_adds_pending_rows_and_the_sequencer_role_moves_them(roles, ledger_context, settings):
    with _as(WEB) as web:
        web.execute(
            "INSERT INTO ledger_pendingentry (time, actor_type, actor_id, role, channel, action, purpose, subject,"
            " object, outcome, request_id, case_id) VALUES (now(), 'staff', 'a', 'r', 'web', 'cards.residents.read',"
            " 'registration', 's', '', 'ok', 'req', '')"
        )
    record(action="cards.residents.read", subject="resident:1")
    settings_dict = {**connection.settings_dict, "USER": SEQUENCER}
    connections.settings["sequencer_test"] = settings_dict
    settings.ONECARD_LEDGER_SEQUENCER_DATABASE = "sequencer_test"
    try:
        result = sequence()
    finally:
        connections["sequencer_test"].close()
        del connections.settings["sequencer_test"]

    assert result.tree_size == 2


@pytest.mark.django_db(transaction=True)
def test_grants_check_passes_on_the_documented_grants_and_names_a_web_role_that_may_write(roles, settings):
    connections.settings["web_test"] = {**connection.settings_dict, "USER": WEB}
    connections.settings["sequencer_test"] = {**connection.settings_dict, "USER": SEQUENCER}
    settings.ONECARD_LEDGER_SEQUENCER_DATABASE = "sequencer_test"
    original = connections["default"]
    try:
        connections["default"] = connections["web_test"]
        assert grants_check() == []
        with original.cursor() as cursor:
            cursor.execute(f"GRANT INSERT ON ledger_entry TO {WEB}")
        problems = grants_check()
    finally:
        connections["default"] = original
        for alias in ("web_test", "sequencer_test"):
            connections[alias].close()
            del connections.settings[alias]

    assert problems == [f"the web role {WEB} may INSERT on ledger_entry: only the sequencer writes the log"]
