"""Database triggers that refuse UPDATE, DELETE and TRUNCATE on the ledger's append-only tables.

Installed by migration 0003; migration 0011 adds the index nodes and the
sealed openings. PostgreSQL triggers are ``ENABLE ALWAYS`` so that
``session_replication_role = replica`` does not silence them. Nothing in
OneCard removes or disables them: only a database owner can, and
``ledger verify`` catches whatever such an owner then changes.

Migration 0006 guards the pending table the same way: a pending row is never
updated, and only the sequencer deletes one. The sequencer marks its own
transaction (a transaction-local setting on PostgreSQL, an SQL function
registered on the process's SQLite connections); everyone else's DELETE is
refused. Anyone who can run SQL can set the mark too, so in production the
database roles (docs/operations.md) are what keep the web and worker role
from deleting: the trigger stops mistakes and makes deleting a deliberate act.
"""

import contextlib
import threading

from django.core.exceptions import ImproperlyConfigured

# The log's tables as migration 0003 found them; 0008 moved them to the previous log's and made new ones.
LOG_TABLES = ("ledger_entry", "ledger_node", "ledger_checkpoint", "ledger_cosignature")
PREVIOUS_LOG_TABLES = (
    "ledger_previousentry",
    "ledger_previousnode",
    "ledger_previouscheckpoint",
    "ledger_previouscosignature",
)
APPEND_ONLY_TABLES = LOG_TABLES + PREVIOUS_LOG_TABLES
# Guarded the same way since migration 0011: the subjects' index and the published openings of sealed accesses.
LATER_APPEND_ONLY_TABLES = ("ledger_indexnode", "ledger_sealedopening")
ALL_APPEND_ONLY_TABLES = APPEND_ONLY_TABLES + LATER_APPEND_ONLY_TABLES

POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def trigger_names(table: str) -> list[str]:
    """Return the names of TABLE's append-only triggers."""
    return [f"{table}_no_update", f"{table}_no_delete", f"{table}_no_truncate"]


def create_statements(vendor: str, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> list[str]:
    """Return the SQL that installs the append-only triggers of TABLES on VENDOR's database."""
    if vendor == "postgresql":
        statements = [POSTGRESQL_FUNCTION]
        for table in tables:
            update, delete, truncate = trigger_names(table)
            statements += [
                f"CREATE TRIGGER {update} BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()",
                f"CREATE TRIGGER {delete} BEFORE DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()",
                f"CREATE TRIGGER {truncate} BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()",
            ]
            statements += [f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {name}" for name in (update, delete, truncate)]
        return statements
    if vendor == "sqlite":
        statements = []
        for table in tables:
            update, delete, _ = trigger_names(table)
            for name, operation in ((update, "UPDATE"), (delete, "DELETE")):
                statements.append(
                    f"CREATE TRIGGER {name} BEFORE {operation} ON {table} BEGIN "
                    f"SELECT RAISE(ABORT, 'ledger table {table} is append-only: {operation} refused'); END"
                )
        return statements
    raise ImproperlyConfigured(f"the ledger needs PostgreSQL or SQLite for its append-only triggers, not {vendor}")


def drop_statements(vendor: str, tables: tuple[str, ...] = APPEND_ONLY_TABLES, *, function: bool = True) -> list[str]:
    """Return the SQL that removes the triggers of TABLES, for migrations that move or unapply them only."""
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}" for table in tables for name in trigger_names(table)] + (
            ["DROP FUNCTION IF EXISTS ledger_refuse_change()"] if function else []
        )
    return [f"DROP TRIGGER IF EXISTS {name}" for table in tables for name in trigger_names(table)]


PENDING_TABLE = "ledger_pendingentry"
SEQUENCING_SETTING = "onecard.ledger_sequencing"
SEQUENCING_SQL = f"SELECT set_config('{SEQUENCING_SETTING}', 'on', true)"
# Cleared straight after the sequencer's DELETE: a transaction-local setting outlives a savepoint,
# and a sequencer called inside someone else's transaction must not leave the door open.
SEQUENCING_END_SQL = f"SELECT set_config('{SEQUENCING_SETTING}', 'off', true)"
SQLITE_SEQUENCING_FUNCTION = "ledger_sequencing"

POSTGRESQL_PENDING_FUNCTION = f"""
CREATE OR REPLACE FUNCTION ledger_pending_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('{SEQUENCING_SETTING}', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'ledger pending entries: % refused; only the sequencer removes pending rows', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""

_sequencing = threading.local()


@contextlib.contextmanager
def sequencing():
    """Mark this thread's SQLite statements as the sequencer's for the pending table's DELETE trigger."""
    _sequencing.active = True
    try:
        yield
    finally:
        _sequencing.active = False


def _sequencing_active() -> int:
    return 1 if getattr(_sequencing, "active", False) else 0


def sqlite_functions_register(sender, connection, **kwargs) -> None:
    """Give a new SQLite connection the function the pending table's DELETE trigger asks."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_SEQUENCING_FUNCTION, 0, _sequencing_active)


def pending_trigger_names() -> list[str]:
    """Return the names of the pending table's triggers."""
    return [f"{PENDING_TABLE}_no_update", f"{PENDING_TABLE}_sequencer_deletes", f"{PENDING_TABLE}_no_truncate"]


def pending_create_statements(vendor: str) -> list[str]:
    """Return the SQL that installs the pending table's triggers on VENDOR's database."""
    update, delete, truncate = pending_trigger_names()
    if vendor == "postgresql":
        # Statement-level: once per batch, not once per row.
        return [
            POSTGRESQL_PENDING_FUNCTION,
            f"CREATE TRIGGER {update} BEFORE UPDATE ON {PENDING_TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_pending_guard()",
            f"CREATE TRIGGER {delete} BEFORE DELETE ON {PENDING_TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_pending_guard()",
            f"CREATE TRIGGER {truncate} BEFORE TRUNCATE ON {PENDING_TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_pending_guard()",
            *(f"ALTER TABLE {PENDING_TABLE} ENABLE ALWAYS TRIGGER {name}" for name in (update, delete, truncate)),
        ]
    if vendor == "sqlite":
        return [
            f"CREATE TRIGGER {update} BEFORE UPDATE ON {PENDING_TABLE} BEGIN "
            f"SELECT RAISE(ABORT, 'ledger pending entries: UPDATE refused'); END",
            # A connection without the function (the sqlite3 shell, another program) cannot delete at all.
            f"CREATE TRIGGER {delete} BEFORE DELETE ON {PENDING_TABLE} "
            f"WHEN {SQLITE_SEQUENCING_FUNCTION}() IS NOT 1 BEGIN "
            f"SELECT RAISE(ABORT, 'ledger pending entries: only the sequencer removes pending rows'); END",
        ]
    raise ImproperlyConfigured(f"the ledger needs PostgreSQL or SQLite for its triggers, not {vendor}")


def pending_drop_statements(vendor: str) -> list[str]:
    """Return the SQL that removes the pending table's triggers, for unapplying migration 0006 only."""
    if vendor == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name} ON {PENDING_TABLE}" for name in pending_trigger_names()] + [
            "DROP FUNCTION IF EXISTS ledger_pending_guard()"
        ]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in pending_trigger_names()]


# Migration 0013: a sealed access is added unreleased. Only the release task sets released_at, by an UPDATE
# of that column, which the database roles give the sequencer's role alone; an INSERT that set it would
# mark an access released without any opening published.
SEALED_UNRELEASED_TRIGGER = "ledger_sealedaccess_added_unreleased"


def sealed_unreleased_statements(vendor: str) -> list[str]:
    """Return the SQL that refuses a sealed access inserted with released_at already set."""
    if vendor == "postgresql":
        return [
            """
            CREATE OR REPLACE FUNCTION ledger_sealed_added_unreleased() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.released_at IS NOT NULL THEN
                    RAISE EXCEPTION 'a sealed access is added unreleased: only its release sets released_at'
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
                RETURN NEW;
            END
            $$
            """,
            f"CREATE TRIGGER {SEALED_UNRELEASED_TRIGGER} BEFORE INSERT ON ledger_sealedaccess "
            "FOR EACH ROW EXECUTE FUNCTION ledger_sealed_added_unreleased()",
            f"ALTER TABLE ledger_sealedaccess ENABLE ALWAYS TRIGGER {SEALED_UNRELEASED_TRIGGER}",
        ]
    return [
        f"CREATE TRIGGER {SEALED_UNRELEASED_TRIGGER} BEFORE INSERT ON ledger_sealedaccess "
        "WHEN NEW.released_at IS NOT NULL BEGIN "
        "SELECT RAISE(ABORT, 'a sealed access is added unreleased: only its release sets released_at'); END"
    ]


def sealed_unreleased_drop_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {SEALED_UNRELEASED_TRIGGER} ON ledger_sealedaccess",
            "DROP FUNCTION IF EXISTS ledger_sealed_added_unreleased()",
        ]
    return [f"DROP TRIGGER IF EXISTS {SEALED_UNRELEASED_TRIGGER}"]
