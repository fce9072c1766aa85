"""The database roles behind "only the sequencer writes the log", and the check that they are in place.

Three PostgreSQL roles (docs/operations.md):

- the owner runs migrations and nothing else; it owns the tables, so it could
  lift the triggers, and no process logs in as it;
- the web role (gunicorn and the Celery workers) adds pending rows and reads
  the log; it may not change a pending row nor write entries, subtrees or
  checkpoints;
- the sequencer role alone moves pending rows into entries, subtrees, index nodes and
  checkpoints (``DATABASE_SEQUENCER_URL``).

Neither process role may own a ledger table or be a superuser: both can
disable triggers.
"""

from django.conf import settings
from django.db import connections

LOG_TABLES = ("ledger_entry", "ledger_node", "ledger_checkpoint", "ledger_indexnode")
# The sealed format v1 log (migration 0008): read by both roles, written by neither.
PREVIOUS_TABLES = (
    "ledger_previousentry",
    "ledger_previousnode",
    "ledger_previouscheckpoint",
    "ledger_previouscosignature",
)
PENDING = "ledger_pendingentry"
WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")

# (table, privilege) pairs each role needs, and those it must not hold.
WEB_NEEDS = [(PENDING, "INSERT"), *((table, "SELECT") for table in LOG_TABLES + PREVIOUS_TABLES)]
WEB_DENIED = [*((table, privilege) for table in LOG_TABLES + PREVIOUS_TABLES for privilege in WRITES)] + [
    (PENDING, privilege) for privilege in ("UPDATE", "DELETE", "TRUNCATE")
]
SEQUENCER_NEEDS = (
    [(PENDING, "SELECT"), (PENDING, "DELETE")]
    + [(table, privilege) for table in LOG_TABLES for privilege in ("SELECT", "INSERT")]
    + [(table, "SELECT") for table in PREVIOUS_TABLES]
)
SEQUENCER_DENIED = (
    [(table, privilege) for table in LOG_TABLES for privilege in ("UPDATE", "DELETE", "TRUNCATE")]
    + [(PENDING, privilege) for privilege in ("UPDATE", "TRUNCATE")]
    + [(table, privilege) for table in PREVIOUS_TABLES for privilege in WRITES]
)


def grant_statements(*, web_role: str, sequencer_role: str) -> list[str]:
    """Return the REVOKE and GRANT statements that give the web and sequencer roles their part of the ledger."""
    tables = ", ".join((*LOG_TABLES, PENDING, "ledger_cosignature", *PREVIOUS_TABLES))
    return [
        f"REVOKE ALL ON {tables} FROM PUBLIC, {web_role}, {sequencer_role}",
        f"GRANT SELECT ON {', '.join(PREVIOUS_TABLES)} TO {web_role}, {sequencer_role}",
        f"GRANT SELECT, INSERT ON {PENDING} TO {web_role}",
        f"GRANT USAGE ON SEQUENCE {PENDING}_id_seq TO {web_role}",
        f"GRANT SELECT ON {', '.join(LOG_TABLES)} TO {web_role}",
        f"GRANT SELECT, INSERT ON ledger_cosignature TO {web_role}",
        f"GRANT USAGE ON SEQUENCE ledger_cosignature_id_seq TO {web_role}",
        f"GRANT SELECT, DELETE ON {PENDING} TO {sequencer_role}",
        f"GRANT SELECT, INSERT ON {', '.join(LOG_TABLES)} TO {sequencer_role}",
        # The sequencer's refusal alert and its reads of the witnesses' work.
        f"GRANT SELECT, INSERT ON ledger_alert TO {sequencer_role}",
        f"GRANT USAGE ON SEQUENCE ledger_alert_id_seq TO {sequencer_role}",
        f"GRANT SELECT ON ledger_cosignature TO {sequencer_role}",
    ]


def _role_problems(alias: str, label: str, needs, denied) -> list[str]:
    connection = connections[alias]
    problems = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        user, superuser = cursor.fetchone()
        if superuser:
            return [f"{label} role {user} is a superuser: it can disable the ledger's triggers"]
        for table, privilege in needs:
            cursor.execute("SELECT has_table_privilege(%s, %s)", [table, privilege])
            if not cursor.fetchone()[0]:
                problems.append(f"{label} role {user} lacks {privilege} on {table}")
        for table, privilege in denied:
            cursor.execute("SELECT has_table_privilege(%s, %s)", [table, privilege])
            if cursor.fetchone()[0]:
                problems.append(f"{label} role {user} may {privilege} on {table}: only the sequencer writes the log")
        cursor.execute(
            "SELECT tablename FROM pg_tables"
            " WHERE tablename = ANY(%s) AND pg_has_role(current_user, tableowner, 'MEMBER')",
            [[*LOG_TABLES, PENDING, *PREVIOUS_TABLES]],
        )
        problems += [
            f"{label} role {user} owns {table}: an owner can lift its triggers" for (table,) in cursor.fetchall()
        ]
    return problems


def grants_check() -> list[str]:
    """Return what is wrong with the database roles of the web processes and the sequencer (empty when right)."""
    if connections["default"].vendor != "postgresql":
        return ["the role check needs PostgreSQL; the embedded SQLite default has one role and relies on its triggers"]
    alias = getattr(settings, "ONECARD_LEDGER_SEQUENCER_DATABASE", "default")
    if alias == "default":
        return ["DATABASE_SEQUENCER_URL is not set: the sequencer shares the web role, which then can write the log"]
    return _role_problems("default", "the web", WEB_NEEDS, WEB_DENIED) + _role_problems(
        alias, "the sequencer", SEQUENCER_NEEDS, SEQUENCER_DENIED
    )
