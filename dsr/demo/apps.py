from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "dsr.demo"
    label = "demo"
