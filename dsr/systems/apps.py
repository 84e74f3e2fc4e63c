from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class SystemsConfig(AppConfig):
    name = "dsr.systems"
    label = "systems"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Load and validate every connector (built-ins and ``dsr.connectors`` entry points) now.

        A broken plug-in then stops the web server, the worker and every command at start-up with
        a message naming the plug-in, instead of failing the first request that reaches it.
        """
        from connectors import registry

        try:
            registry.available()
        except registry.RegistryError as exc:
            raise ImproperlyConfigured(f"the connector registry is broken: {exc}") from None
