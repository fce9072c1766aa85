"""Family proxies: who may act for whom in the portal; the registrar may link a minor to a parent."""

import django.db.models.deletion
from django.db import migrations, models

from portal.roles import roles_sync_migration


class Migration(migrations.Migration):
    dependencies = [
        ("cards", "0005_resident_photos"),
        ("portal", "0013_roles_photos"),
    ]

    operations = [
        migrations.CreateModel(
            name="ProxyGrant",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[("minor", "parent or guardian of a minor"), ("adult", "chosen by an adult")],
                        max_length=8,
                        verbose_name="kind",
                    ),
                ),
                (
                    "relationship",
                    models.CharField(
                        choices=[
                            ("parent", "parent"),
                            ("guardian", "legal guardian"),
                            ("child", "son or daughter"),
                            ("spouse", "spouse or partner"),
                            ("sibling", "brother or sister"),
                            ("relative", "other relative"),
                            ("other", "someone else you trust"),
                        ],
                        max_length=16,
                        verbose_name="relationship",
                    ),
                ),
                ("reason", models.CharField(blank=True, max_length=500, verbose_name="reason")),
                ("document_reference", models.CharField(blank=True, max_length=100, verbose_name="document reference")),
                ("invitation_code_hash", models.CharField(blank=True, db_index=True, editable=False, max_length=64)),
                ("invitation_expires_at", models.DateTimeField(blank=True, editable=False, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                (
                    "accepted_at",
                    models.DateTimeField(blank=True, editable=False, null=True, verbose_name="in force since"),
                ),
                ("ends_on", models.DateField(blank=True, editable=False, null=True, verbose_name="ends on")),
                ("ended_at", models.DateTimeField(blank=True, editable=False, null=True, verbose_name="ended at")),
                (
                    "ended_by",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("dependant", "the person acted for"),
                            ("proxy", "the person acting"),
                            ("caseworker", "a caseworker"),
                            ("adulthood", "the child turned 18"),
                        ],
                        editable=False,
                        max_length=16,
                        verbose_name="ended by",
                    ),
                ),
                (
                    "dependant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="proxy_grants_given",
                        to="cards.resident",
                        verbose_name="acted for",
                    ),
                ),
                (
                    "proxy",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="proxy_grants_held",
                        to="cards.resident",
                        verbose_name="acting",
                    ),
                ),
            ],
            options={
                "verbose_name": "family proxy",
                "verbose_name_plural": "family proxies",
                "ordering": ["-created_at", "-id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("proxy__isnull", True),
                            models.Q(("proxy", models.F("dependant")), _negated=True),
                            _connector="OR",
                        ),
                        name="portal_proxygrant_not_oneself",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("ended_at__isnull", True)),
                        fields=("proxy", "dependant"),
                        name="portal_proxygrant_one_open_per_pair",
                    ),
                ],
            },
        ),
        migrations.RunPython(roles_sync_migration, migrations.RunPython.noop),
    ]
