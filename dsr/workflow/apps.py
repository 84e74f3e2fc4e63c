from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "dsr.workflow"
    label = "workflow"
    default_auto_field = "django.db.models.BigAutoField"
