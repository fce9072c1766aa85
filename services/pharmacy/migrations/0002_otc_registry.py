"""The starting registry of restricted over-the-counter products; regulators edit it in the admin."""

from django.db import migrations


def registry_create(apps, schema_editor):
    restriction_model = apps.get_model("pharmacy", "OtcRestriction")
    product_model = apps.get_model("pharmacy", "OtcProduct")
    pseudoephedrine, _ = restriction_model.objects.get_or_create(
        code="pseudoephedrine",
        defaults={"name": "Pseudoephedrine", "max_amount_mg": 7200, "period_days": 30},
    )
    for code, name, amount in (
        ("OTC-PSE-30", "Pseudoephedrine hydrochloride 30 mg × 24 tablets", 720),
        ("OTC-PSE-CPD", "Compound pseudoephedrine (cold relief) × 12 tablets", 360),
    ):
        product_model.objects.get_or_create(
            code=code, defaults={"name": name, "restriction": pseudoephedrine, "amount_mg": amount}
        )


class Migration(migrations.Migration):
    dependencies = [("pharmacy", "0001_initial")]

    operations = [migrations.RunPython(registry_create, migrations.RunPython.noop)]
