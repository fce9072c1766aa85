from django.apps import AppConfig


class PharmacyConfig(AppConfig):
    name = "services.pharmacy"
    label = "pharmacy"
    verbose_name = "Drug purchase"
