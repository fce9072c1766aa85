from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "services.health"
    label = "health"
    verbose_name = "Health"
