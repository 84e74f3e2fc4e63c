from django.contrib import admin

from dsr.tasks.models import Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "action", "system", "status", "assignee", "due_at", "completed_at"]
    list_filter = ["status", "kind", "action"]
    readonly_fields = [f.name for f in Task._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False  # hand-offs are opened by jobs, ad-hoc tasks on the request page
