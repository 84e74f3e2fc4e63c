from django.apps import AppConfig


class RateLimitConfig(AppConfig):
    name = "dsr.ratelimit"
    label = "ratelimit"
    verbose_name = "Inbound rate limits"

    def ready(self) -> None:
        from dsr.ratelimit import checks  # noqa: F401  (registers the deploy check)
