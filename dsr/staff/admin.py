from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from knox.models import AuthToken

from dsr.staff.models import StaffProfile, StaffTOTPDevice


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role"]
    list_filter = ["role"]


# API tokens are issued by `create_staff --token` or on the dashboard, where issuing is audited; the
# admin shows only the prefix (never the token, which is not stored) and may delete (revoke) one.
admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    list_display = ["token_key", "user", "created", "expiry"]
    fields = ("token_key", "user", "created", "expiry")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StaffTOTPDevice)
class StaffTOTPDeviceAdmin(admin.ModelAdmin):
    """Shown so an administrator sees who enrolled; the secret is never displayed."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
