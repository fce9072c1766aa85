"""Database triggers that refuse UPDATE, DELETE and TRUNCATE on the ledger's append-only tables.

Installed by migration 0003. PostgreSQL triggers are ``ENABLE ALWAYS`` so that
``session_replication_role = replica`` does not silence them. Nothing in
OneCard removes or disables them: only a database owner can, and
``ledger verify`` catches whatever such an owner then changes.
"""

from django.core.exceptions import ImproperlyConfigured

APPEND_ONLY_TABLES = ("ledger_entry", "ledger_node", "ledger_checkpoint", "ledger_cosignature")

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


def create_statements(vendor: str) -> list[str]:
    """Return the SQL that installs every append-only trigger on VENDOR's database."""
    if vendor == "postgresql":
        statements = [POSTGRESQL_FUNCTION]
        for table in APPEND_ONLY_TABLES:
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
        for table in APPEND_ONLY_TABLES:
            update, delete, _ = trigger_names(table)
            for name, operation in ((update, "UPDATE"), (delete, "DELETE")):
                statements.append(
                    f"CREATE TRIGGER {name} BEFORE {operation} ON {table} BEGIN "
                    f"SELECT RAISE(ABORT, 'ledger table {table} is append-only: {operation} refused'); END"
                )
        return statements
    raise ImproperlyConfigured(f"the ledger needs PostgreSQL or SQLite for its append-only triggers, not {vendor}")


def drop_statements(vendor: str) -> list[str]:
    """Return the SQL that removes the triggers, for unapplying migration 0003 only."""
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {name} ON {table}" for table in APPEND_ONLY_TABLES for name in trigger_names(table)
        ] + ["DROP FUNCTION IF EXISTS ledger_refuse_change()"]
    return [f"DROP TRIGGER IF EXISTS {name}" for table in APPEND_ONLY_TABLES for name in trigger_names(table)]
