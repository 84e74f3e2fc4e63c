"""The one way staff reach tasks, ad-hoc and hand-off alike."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from dsr.staff.roles import has_permission
from dsr.tasks.models import HANDOFF_KINDS, Task, TaskKind, TaskStatus
from dsr.workflow.models import Status


def task_list(
    *, status: str | None = None, kind: str | None = None, assignee: str | None = None
) -> QuerySet[Task]:
    """Tasks of every kind, soonest due first. ``assignee``: a username, or ``""`` for the
    unassigned ones.

    ``status="open"`` lists only tasks someone can still complete: hand-offs of requests in
    progress (or needing action), and every open ad-hoc task (a checklist item can be ticked off
    after the request closed, e.g. a processor notified late).
    """
    tasks = Task.objects.select_related("request", "system", "assignee", "job")
    if status:
        tasks = tasks.filter(status=status)
    if status == TaskStatus.OPEN:
        tasks = tasks.filter(
            Q(kind__in=HANDOFF_KINDS, request__status__in=[Status.IN_PROGRESS, Status.ACTION_REQUIRED])
            | Q(kind=TaskKind.ADHOC)
        )
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


def tasks_for_request(*, request_id: Any) -> QuerySet[Task]:
    """Every task of one request, in the order they were opened (the request page's checklist)."""
    return (
        Task.objects.filter(request_id=request_id)
        .select_related("system", "assignee", "job")
        .order_by("created_at", "id")
    )
