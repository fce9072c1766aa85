from django.apps import AppConfig


class SocialSecurityConfig(AppConfig):
    name = "services.social_security"
    label = "social_security"
    verbose_name = "Social security"
