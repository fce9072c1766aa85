from django.apps import AppConfig


class GrantsConfig(AppConfig):
    name = "services.grants"
    label = "grants"
    verbose_name = "Grants"
