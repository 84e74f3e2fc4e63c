from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from dsr.staff.actors import staff_actor
from dsr.staff.roles import has_permission
from dsr.workflow.decisions import request_approve, request_cancel
from dsr.workflow.models import ConnectorJob, DataSubjectRequest
from dsr.workflow.transitions import TransitionNotAllowed


class ConnectorJobInline(admin.TabularInline):
    model = ConnectorJob
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "system",
        "action",
        "status",
        "attempts",
        "records_found",
        "records_erased",
        "records_retained",
        "error",
    )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(admin.ModelAdmin):
    list_display = ["reference", "type", "jurisdiction", "status", "received_at", "due_at"]
    list_filter = ["status", "type", "regime"]
    search_fields = ["reference"]
    ordering = ["due_at"]
    inlines = [ConnectorJobInline]
    actions = ["approve", "cancel"]
    readonly_fields = [
        "reference",
        "type",
        "jurisdiction",
        "regime",
        "status",
        "status_reason",
        "channel",
        "received_at",
        "ack_due_at",
        "due_at",
        "due_explanation",
        "verified_at",
        "approved_at",
        "closed_at",
        "deny_reason",
        "deny_message",
    ]
    exclude = ["email", "email_index", "full_name", "phone"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Read-only: status changes go through the transition function (the actions below).
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _apply(
        self, request: HttpRequest, queryset: QuerySet[DataSubjectRequest], permission: str, func: Any
    ) -> None:
        if not has_permission(request.user, permission):
            self.message_user(request, "Your role does not allow this.", messages.ERROR)
            return
        done = 0
        for dsr in queryset:
            try:
                func(request_id=dsr.pk, actor=staff_actor(request.user))
                done += 1
            except TransitionNotAllowed as exc:
                self.message_user(request, f"{dsr.reference}: {exc}", messages.WARNING)
        if done:
            self.message_user(request, f"{done} request(s) updated.", messages.SUCCESS)

    @admin.action(description="Approve selected requests")
    def approve(self, request: HttpRequest, queryset: QuerySet[DataSubjectRequest]) -> None:
        self._apply(request, queryset, "request.approve", request_approve)

    @admin.action(description="Cancel selected requests")
    def cancel(self, request: HttpRequest, queryset: QuerySet[DataSubjectRequest]) -> None:
        self._apply(request, queryset, "request.cancel", request_cancel)
