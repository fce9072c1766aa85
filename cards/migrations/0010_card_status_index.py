"""Each card's entry in the Token Status List becomes its own random index.

Cards that exist keep their row id as their index: their credentials already
carry it as "idx" and must keep pointing at their own entry. New cards draw a
free index at random (cards.models.status_index_draw).
"""

from django.db import migrations, models


def indices_from_row_ids(apps, schema_editor):
    Card = apps.get_model("cards", "Card")
    Card.objects.update(status_index=models.F("id"))


class Migration(migrations.Migration):
    dependencies = [("cards", "0009_photo_erased_at")]

    operations = [
        migrations.AddField(
            model_name="card",
            name="status_index",
            field=models.PositiveIntegerField(editable=False, null=True, verbose_name="status list index"),
        ),
        migrations.RunPython(indices_from_row_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="card",
            name="status_index",
            field=models.PositiveIntegerField(editable=False, unique=True, verbose_name="status list index"),
        ),
    ]
