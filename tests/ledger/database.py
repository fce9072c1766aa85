"""Let the test suite empty the ledger's append-only tables between transactional tests.

Django's TransactionTestCase flushes every table after each test (TRUNCATE on
PostgreSQL, DELETE on SQLite), which the append-only triggers refuse. This
plugin, loaded from tests/conftest.py, wraps that flush only: it lifts the
triggers as the database owner, flushes, and puts them back. It lives under
tests/ so no production code path can lift a trigger; creating and dropping
the test databases needs nothing, since DROP DATABASE fires no trigger.
"""

import contextlib

import pytest
from django.db import connections
from django.test import TransactionTestCase

from ledger.triggers import (
    ALL_APPEND_ONLY_TABLES,
    PENDING_TABLE,
    create_statements,
    drop_statements,
    pending_create_statements,
    pending_drop_statements,
    pending_trigger_names,
    trigger_names,
)


def triggers_drop(connection) -> None:
    """Remove the append-only and pending-table triggers, as an attacker with owner rights would."""
    with connection.cursor() as cursor:
        for statement in drop_statements(connection.vendor, ALL_APPEND_ONLY_TABLES) + pending_drop_statements(
            connection.vendor
        ):
            cursor.execute(statement, None)


def triggers_install(connection) -> None:
    """Put the append-only and pending-table triggers back."""
    with connection.cursor() as cursor:
        for statement in create_statements(connection.vendor, ALL_APPEND_ONLY_TABLES) + pending_create_statements(
            connection.vendor
        ):
            cursor.execute(statement, None)


def pending_discard() -> None:
    """Throw away every pending row, as a test that only counts new records needs; production never does."""
    from django.db import connection, transaction

    from ledger.models import PendingEntry
    from ledger.triggers import SEQUENCING_END_SQL, SEQUENCING_SQL, sequencing

    with transaction.atomic(), sequencing():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(SEQUENCING_SQL)
        PendingEntry.objects.all().delete()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(SEQUENCING_END_SQL)


@contextlib.contextmanager
def triggers_lifted(connection):
    """Disable the append-only triggers for the block (PostgreSQL) or drop and recreate them (SQLite)."""
    if connection.vendor == "postgresql":
        tables = [(table, trigger_names(table)) for table in ALL_APPEND_ONLY_TABLES]
        tables.append((PENDING_TABLE, pending_trigger_names()))
        with connection.cursor() as cursor:
            for table, _ in tables:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                for table, names in tables:
                    for name in names:
                        cursor.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {name}")
    else:
        triggers_drop(connection)
        try:
            yield
        finally:
            triggers_install(connection)


@pytest.fixture(autouse=True, scope="session")
def _ledger_tables_flushable():
    original = TransactionTestCase._fixture_teardown

    def _fixture_teardown(self):
        with contextlib.ExitStack() as stack:
            for alias in self._databases_names(include_mirrors=False):
                stack.enter_context(triggers_lifted(connections[alias]))
            original(self)

    TransactionTestCase._fixture_teardown = _fixture_teardown
    yield
    TransactionTestCase._fixture_teardown = original
