"""The database roles behind "only the sequencer writes the log", and the check that they are in place.

Three PostgreSQL roles (docs/operations.md):

- the owner runs migrations and nothing else; it owns the tables, so it could
  lift the triggers, and no process logs in as it;
- the web role (gunicorn and the Celery workers) adds pending rows and reads
  the log; it may not change a pending row nor write entries, subtrees or
  checkpoints. It records a sealed access (``ledger_sealedaccess``) but may
  neither change one nor publish its opening;
- the sequencer role alone moves pending rows into entries, subtrees, index nodes and
  checkpoints (``DATABASE_SEQUENCER_URL``), and alone publishes the opening of a
  sealed access on its date: its worker runs ``ledger.sealing.sealed_release``.

Neither process role may own a ledger table or be a superuser: both can
disable triggers.
"""

from django.conf import settings
from django.db import connections

from ledger.models import SealedAccess

LOG_TABLES = ("ledger_entry", "ledger_node", "ledger_checkpoint", "ledger_indexnode")
# The sealed format v1 log (migration 0008): read by both roles, written by neither.
PREVIOUS_TABLES = (
    "ledger_previousentry",
    "ledger_previousnode",
    "ledger_previouscheckpoint",
    "ledger_previouscosignature",
)
PENDING = "ledger_pendingentry"
# A sealed access's withheld contents: added by the web role when an access is sealed; only the release
# may set released_at, and nothing may change the legal reference, the date or the contents.
SEALED = "ledger_sealedaccess"
# The published openings (append-only): written by the sequencer's worker alone, on the unseal date.
OPENINGS = "ledger_sealedopening"
RELEASED = "released_at"
SEALED_FIXED_COLUMNS = tuple(field.column for field in SealedAccess._meta.concrete_fields if field.column != RELEASED)
WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")

# (table, privilege) or (table, privilege, column) each role needs, and those it must not hold. A denied
# INSERT or UPDATE is denied on every column too.
WEB_NEEDS = [
    (PENDING, "INSERT"),
    *((table, "SELECT") for table in LOG_TABLES + PREVIOUS_TABLES),
    (SEALED, "SELECT"),
    (SEALED, "INSERT"),
    (OPENINGS, "SELECT"),
]
WEB_DENIED = (
    [(table, privilege) for table in LOG_TABLES + PREVIOUS_TABLES for privilege in WRITES]
    + [(PENDING, privilege) for privilege in ("UPDATE", "DELETE", "TRUNCATE")]
    + [(SEALED, privilege) for privilege in ("UPDATE", "DELETE", "TRUNCATE")]
    + [(OPENINGS, privilege) for privilege in WRITES]
)
SEQUENCER_NEEDS = (
    [(PENDING, "SELECT"), (PENDING, "DELETE"), (PENDING, "INSERT")]
    + [(table, privilege) for table in LOG_TABLES for privilege in ("SELECT", "INSERT")]
    + [(table, "SELECT") for table in PREVIOUS_TABLES]
    + [(SEALED, "SELECT"), (SEALED, "UPDATE", RELEASED), (OPENINGS, "SELECT"), (OPENINGS, "INSERT")]
)
SEQUENCER_DENIED = (
    [(table, privilege) for table in LOG_TABLES for privilege in ("UPDATE", "DELETE", "TRUNCATE")]
    + [(PENDING, privilege) for privilege in ("UPDATE", "TRUNCATE")]
    + [(table, privilege) for table in PREVIOUS_TABLES for privilege in WRITES]
    + [(SEALED, privilege) for privilege in ("INSERT", "DELETE", "TRUNCATE")]
    + [(SEALED, "UPDATE", column) for column in SEALED_FIXED_COLUMNS]
    + [(OPENINGS, privilege) for privilege in ("UPDATE", "DELETE", "TRUNCATE")]
)
OWNED_TABLES = (*LOG_TABLES, PENDING, *PREVIOUS_TABLES, SEALED, OPENINGS)


def grant_statements(*, web_role: str, sequencer_role: str) -> list[str]:
    """Return the REVOKE and GRANT statements that give the web and sequencer roles their part of the ledger."""
    tables = ", ".join((*LOG_TABLES, PENDING, "ledger_cosignature", *PREVIOUS_TABLES, SEALED, OPENINGS))
    return [
        f"REVOKE ALL ON {tables} FROM PUBLIC, {web_role}, {sequencer_role}",
        f"GRANT SELECT ON {', '.join(PREVIOUS_TABLES)} TO {web_role}, {sequencer_role}",
        f"GRANT SELECT, INSERT ON {PENDING} TO {web_role}, {sequencer_role}",
        f"GRANT USAGE ON SEQUENCE {PENDING}_id_seq TO {web_role}, {sequencer_role}",
        f"GRANT SELECT ON {', '.join(LOG_TABLES)} TO {web_role}",
        f"GRANT SELECT, INSERT ON ledger_cosignature TO {web_role}",
        f"GRANT USAGE ON SEQUENCE ledger_cosignature_id_seq TO {web_role}",
        f"GRANT SELECT, INSERT ON {SEALED} TO {web_role}",
        f"GRANT USAGE ON SEQUENCE {SEALED}_id_seq TO {web_role}",
        f"GRANT SELECT ON {OPENINGS} TO {web_role}",
        f"GRANT DELETE ON {PENDING} TO {sequencer_role}",
        f"GRANT SELECT, INSERT ON {', '.join(LOG_TABLES)} TO {sequencer_role}",
        # The sequencer's refusal alert and its reads of the witnesses' work.
        f"GRANT SELECT, INSERT ON ledger_alert TO {sequencer_role}",
        f"GRANT USAGE ON SEQUENCE ledger_alert_id_seq TO {sequencer_role}",
        f"GRANT SELECT ON ledger_cosignature TO {sequencer_role}",
        # The release of sealed accesses on their date (ledger.sealing.sealed_release, on the sequencer's queue).
        f"GRANT SELECT, UPDATE ({RELEASED}) ON {SEALED} TO {sequencer_role}",
        f"GRANT SELECT, INSERT ON {OPENINGS} TO {sequencer_role}",
        f"GRANT USAGE ON SEQUENCE {OPENINGS}_id_seq TO {sequencer_role}",
    ]


def _holds(cursor, check: tuple, *, denied: bool) -> bool:
    table, privilege, *column = check
    if column:
        cursor.execute("SELECT has_column_privilege(%s, %s, %s)", [table, column[0], privilege])
    elif denied and privilege in ("INSERT", "UPDATE"):
        # A grant on one column is enough to write: look at every column, not only the table.
        cursor.execute("SELECT has_any_column_privilege(%s, %s)", [table, privilege])
    else:
        cursor.execute("SELECT has_table_privilege(%s, %s)", [table, privilege])
    return cursor.fetchone()[0]


def _named(check: tuple) -> str:
    table, privilege, *column = check
    return f"{privilege} on {table}" + (f".{column[0]}" if column else "")


def _role_problems(alias: str, label: str, needs, denied) -> list[str]:
    connection = connections[alias]
    problems = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
        user, superuser = cursor.fetchone()
        if superuser:
            return [f"{label} role {user} is a superuser: it can disable the ledger's triggers"]
        for check in needs:
            if not _holds(cursor, check, denied=False):
                problems.append(f"{label} role {user} lacks {_named(check)}")
        for check in denied:
            if _holds(cursor, check, denied=True):
                problems.append(f"{label} role {user} may {_named(check)}: {_why_denied(check[0])}")
        cursor.execute(
            "SELECT tablename FROM pg_tables"
            " WHERE tablename = ANY(%s) AND pg_has_role(current_user, tableowner, 'MEMBER')",
            [list(OWNED_TABLES)],
        )
        problems += [
            f"{label} role {user} owns {table}: an owner can lift its triggers" for (table,) in cursor.fetchall()
        ]
    return problems


def _why_denied(table: str) -> str:
    if table == SEALED:
        return "a sealed access's legal reference, date and contents never change, and only its release marks it"
    if table == OPENINGS:
        return "only the sequencer's worker publishes a sealed access's opening, on its date"
    return "only the sequencer writes the log"


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
