from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "dsr.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from dsr.ops.metrics import register_collector

        register_collector()
