from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "services.core"
    label = "services_core"
    verbose_name = "Partner agencies and services"
