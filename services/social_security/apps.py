from django.apps import AppConfig


class SocialSecurityConfig(AppConfig):
    name = "services.social_security"
    label = "social_security"
    verbose_name = "Social security"

    def ready(self) -> None:
        from services.social_security import declaration  # noqa: F401  (declares purposes, scopes, actions, catalogue)
