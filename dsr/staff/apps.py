from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "dsr.staff"
    label = "staff"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib import admin
        from django_otp.admin import OTPAdminSite

        from dsr.staff import checks  # noqa: F401 - registers the deploy checks

        # The Django admin asks for the second factor on its login form and lets in only sessions
        # that passed it (django-otp's OTPAdminSite); it is mounted only when DSR_ADMIN_ENABLED.
        admin.site.__class__ = OTPAdminSite
