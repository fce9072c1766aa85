from django.apps import AppConfig


class ChecksConfig(AppConfig):
    name = "services.checks"
    label = "checks"
    verbose_name = "Data checks"
