from django.db import migrations, models

# The names migration 0002 gave the subject indexes (Django derives them from table and column).
OLD_INDEX = "ledger_entry_subject_8ee1386f"
OLD_PATTERN_INDEX = "ledger_entry_subject_8ee1386f_like"
NEW_INDEX = "ledger_entry_subject"


def forwards(apps, schema_editor):
    """Keep the plain subject index under its new name and drop PostgreSQL's pattern-matching one.

    No table rebuild and no index build: on a large log the migration only
    renames one index and drops another, and on SQLite the append-only
    triggers stay where they are (altering the column would rebuild the table
    without them).
    """
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'DROP INDEX IF EXISTS "{OLD_PATTERN_INDEX}"')
        schema_editor.execute(f'ALTER INDEX IF EXISTS "{OLD_INDEX}" RENAME TO "{NEW_INDEX}"')
    else:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{OLD_INDEX}"')
    schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{NEW_INDEX}" ON "ledger_entry" ("subject")')


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'ALTER INDEX IF EXISTS "{NEW_INDEX}" RENAME TO "{OLD_INDEX}"')
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{OLD_PATTERN_INDEX}" ON "ledger_entry" ("subject" varchar_pattern_ops)'
        )
    else:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{NEW_INDEX}"')
    schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{OLD_INDEX}" ON "ledger_entry" ("subject")')


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_verification_progress")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards, elidable=False)],
            state_operations=[
                migrations.AlterField(model_name="entry", name="subject", field=models.CharField(max_length=80)),
                migrations.AddIndex(
                    model_name="entry", index=models.Index(fields=["subject"], name="ledger_entry_subject")
                ),
            ],
        )
    ]
