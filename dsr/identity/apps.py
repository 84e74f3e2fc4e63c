from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "dsr.identity"
    label = "identity"
    default_auto_field = "django.db.models.BigAutoField"
