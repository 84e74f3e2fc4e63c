"""The one way staff reach connector tasks."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from dsr.staff.roles import has_permission
from dsr.tasks.models import Task, TaskStatus
from dsr.workflow.models import Status


def task_list(
    *, status: str | None = None, kind: str | None = None, assignee: str | None = None
) -> QuerySet[Task]:
    """Tasks, soonest due first. ``assignee``: a username, or ``""`` for the unassigned ones.

    ``status="open"`` lists only tasks someone can still complete: those of requests still open.
    """
    tasks = Task.objects.select_related("request", "system", "assignee", "job")
    if status:
        tasks = tasks.filter(status=status)
    if status == TaskStatus.OPEN:
        tasks = tasks.filter(request__status__in=[Status.IN_PROGRESS, Status.ACTION_REQUIRED])
    if kind:
        tasks = tasks.filter(kind=kind)
    if assignee is not None:
        tasks = (
            tasks.filter(assignee__isnull=True)
            if assignee == ""
            else tasks.filter(assignee__username=assignee)
        )
    return tasks.order_by("due_at", "id")


def task_get_for_staff(*, user: Any, task_id: int) -> Task:
    """The task, for staff who may see tasks; "not found" and "not allowed" give the same 404."""
    if not has_permission(user, "task.view"):
        raise Http404
    task = Task.objects.select_related("request", "system", "assignee", "job").filter(pk=task_id).first()
    if task is None:
        raise Http404
    return task
