"""Log format v2: seal the format v1 log as the previous log and start a new one whose leaves are commitments.

The v1 tables are renamed, not copied: on a large log this is a few catalogue
changes, and no append-only row is ever deleted or updated. The new tables
start empty; the sequencer's first run writes the new log's leaf 0, which
names the previous log's final checkpoint (docs/ledger.md, "Log format v2 and
the previous log"). The triggers are put back on both sets of tables. The v1
log's tiles are deleted from the tile storage: its entry bundles were the
entries themselves, and entry bundles are public from now on.

Unapplying drops the v2 log's tables with their rows: only for test databases.
"""

from django.db import migrations, models

from ledger.triggers import LOG_TABLES, PREVIOUS_LOG_TABLES, create_statements, drop_statements

RENAMES = dict(zip(LOG_TABLES, PREVIOUS_LOG_TABLES, strict=True))


def _rename_sql(vendor: str, renames: dict[str, str]) -> list[str]:
    statements = [f'ALTER TABLE "{old}" RENAME TO "{new}"' for old, new in renames.items()]
    if vendor == "postgresql":
        # Explicitly named objects must move with their tables, or the new tables' names collide with them.
        names = {
            "ledger_entry_subject": "ledger_previousentry_subject",
            "ledger_one_cosignature": "ledger_previous_one_cosignature",
        }
        for table in LOG_TABLES:
            names[f"{table}_pkey"] = f"{RENAMES[table]}_pkey"
        if "ledger_entry" not in renames:  # backwards
            names = {new: old for old, new in names.items()}
        statements += [f'ALTER INDEX IF EXISTS "{old}" RENAME TO "{new}"' for old, new in names.items()]
        sequences = {"ledger_cosignature_id_seq": "ledger_previouscosignature_id_seq"}
        if "ledger_entry" not in renames:
            sequences = {new: old for old, new in sequences.items()}
        statements += [f'ALTER SEQUENCE IF EXISTS "{old}" RENAME TO "{new}"' for old, new in sequences.items()]
        return statements
    # SQLite: index names are schema-wide and cannot be renamed; make the index again under the new name.
    if "ledger_entry" in renames:
        return [
            *statements,
            'DROP INDEX IF EXISTS "ledger_entry_subject"',
            'CREATE INDEX "ledger_previousentry_subject" ON "ledger_previousentry" ("subject")',
        ]
    return [
        'DROP INDEX IF EXISTS "ledger_previousentry_subject"',
        *statements,
        'CREATE INDEX "ledger_entry_subject" ON "ledger_entry" ("subject")',
    ]


def _execute(schema_editor, statements: list[str]) -> None:
    for statement in statements:
        schema_editor.execute(statement, params=None)


def seal_forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    _execute(schema_editor, drop_statements(vendor, LOG_TABLES, function=False))
    _execute(schema_editor, _rename_sql(vendor, RENAMES))


def seal_backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    _execute(schema_editor, _rename_sql(vendor, {new: old for old, new in RENAMES.items()}))
    _execute(schema_editor, create_statements(vendor, LOG_TABLES))


def triggers_forwards(apps, schema_editor):
    _execute(schema_editor, create_statements(schema_editor.connection.vendor))


def v1_tiles_remove(apps, schema_editor):
    """Delete the v1 log's tiles: its entry bundles hold the entries, which entry bundles now serve to anyone."""
    from ledger import tiles

    if tiles._other_log_in_storage():
        tiles.tiles_clear()


def triggers_backwards(apps, schema_editor):
    _execute(schema_editor, drop_statements(schema_editor.connection.vendor, function=False))


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_verification_anchor")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(seal_forwards, seal_backwards, elidable=False)],
            state_operations=[
                migrations.RenameModel("Entry", "PreviousEntry"),
                migrations.RenameModel("Node", "PreviousNode"),
                migrations.RenameModel("Checkpoint", "PreviousCheckpoint"),
                migrations.RenameModel("Cosignature", "PreviousCosignature"),
                migrations.RenameIndex(
                    "previousentry", new_name="ledger_previousentry_subject", old_name="ledger_entry_subject"
                ),
                migrations.RemoveConstraint("previouscosignature", "ledger_one_cosignature"),
                migrations.AddConstraint(
                    "previouscosignature",
                    models.UniqueConstraint(fields=["tree_size", "witness_name"], name="ledger_previous_one_cosignature"),
                ),
                migrations.AlterModelOptions(
                    "previousentry", {"ordering": ["index"], "verbose_name_plural": "previous log entries"}
                ),
                migrations.AlterModelOptions("previouscheckpoint", {"ordering": ["-tree_size"]}),
            ],
        ),
        migrations.CreateModel(
            name="Entry",
            fields=[
                ("index", models.BigIntegerField(primary_key=True, serialize=False)),
                ("subject", models.CharField(max_length=80)),
                ("entry_bytes", models.BinaryField()),
                ("leaf_hash", models.BinaryField(max_length=32)),
                ("salt", models.BinaryField(max_length=32)),
            ],
            options={
                "verbose_name_plural": "entries",
                "ordering": ["index"],
                "indexes": [models.Index(fields=["subject"], name="ledger_entry_subject")],
            },
        ),
        migrations.CreateModel(
            name="Node",
            fields=[
                ("key", models.BigIntegerField(primary_key=True, serialize=False)),
                ("hash", models.BinaryField(max_length=32)),
            ],
            options={"ordering": ["key"]},
        ),
        migrations.CreateModel(
            name="Checkpoint",
            fields=[
                ("tree_size", models.BigIntegerField(primary_key=True, serialize=False)),
                ("root_hash", models.BinaryField(max_length=32)),
                ("note", models.TextField()),
                ("created_at", models.DateTimeField()),
            ],
            options={"ordering": ["-tree_size"], "get_latest_by": "tree_size"},
        ),
        migrations.CreateModel(
            name="Cosignature",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("tree_size", models.BigIntegerField()),
                ("witness_name", models.CharField(max_length=200)),
                ("timestamp", models.BigIntegerField()),
                ("line", models.TextField()),
                ("received_at", models.DateTimeField()),
            ],
            options={
                "ordering": ["-tree_size", "witness_name"],
                "constraints": [
                    models.UniqueConstraint(fields=["tree_size", "witness_name"], name="ledger_one_cosignature")
                ],
            },
        ),
        migrations.RunPython(triggers_forwards, triggers_backwards, elidable=False),
        migrations.RunPython(v1_tiles_remove, migrations.RunPython.noop, elidable=False),
    ]
