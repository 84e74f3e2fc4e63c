from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "dsr.tasks"
    label = "tasks"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Connector tasks"
