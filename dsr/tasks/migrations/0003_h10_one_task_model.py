"""One task model: ad-hoc tasks (the dashboard's former ``ManualTask``) join the hand-off tasks.

``job`` and ``system`` become nullable, ``kind`` gains ``adhoc``, and every ``ManualTask`` row is
copied here: title and outcome (into ``note``) are read decrypted and written encrypted again by
``EncryptedTextField``, ``done`` becomes ``completed``, and the creation time is kept. An ad-hoc task
is due when its request is. ``dashboard.0004`` then drops the old table. Reversible.

A moved task gets a new id, while the audit events written before name the old one
(``{"task": <ManualTask id>}``): one ``task.moved`` event per task, appended to the chain, links the
two, so the trail stays readable.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import dsr.identity.fields


def _audit_moved(apps, *, request_id, task_id: int, old_id: int) -> None:
    """Append ``task.moved`` to the audit chain (as ``audit_record`` does, on the historical models)."""
    from django.utils import timezone

    from dsr.audit.services import _digest

    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditHead = apps.get_model("audit", "AuditHead")
    head, _created = AuditHead.objects.select_for_update().get_or_create(id=1)
    data = {"task": task_id, "kind": "adhoc", "from": "dashboard.manualtask", "manualtask": old_id}
    created_at = timezone.now()
    digest = _digest(
        prev_hash=head.last_hash,
        created_at=created_at.isoformat(),
        actor="system",
        action="task.moved",
        request_id=str(request_id),
        data=data,
    )
    AuditEvent.objects.create(
        created_at=created_at,
        actor="system",
        action="task.moved",
        request_id=request_id,
        data=data,
        prev_hash=head.last_hash,
        hash=digest,
    )
    head.last_hash = digest
    head.save(update_fields=["last_hash"])


def manual_tasks_forward(apps, schema_editor):
    ManualTask = apps.get_model("dashboard", "ManualTask")
    Task = apps.get_model("tasks", "Task")
    for old in ManualTask.objects.select_related("request").order_by("pk").iterator():
        new = Task.objects.create(
            request_id=old.request_id,
            kind="adhoc",
            action="",
            title=old.title,
            created_by=old.created_by,
            status="completed" if old.status == "done" else "open",
            due_at=old.request.due_at,
            note=old.outcome,
            completed_by=old.done_by,
            completed_at=old.done_at,
        )
        # auto_now_add / auto_now overwrite these on create: keep the original creation time.
        Task.objects.filter(pk=new.pk).update(
            created_at=old.created_at, updated_at=old.done_at or old.created_at
        )
        _audit_moved(apps, request_id=old.request_id, task_id=new.pk, old_id=old.pk)


def manual_tasks_backward(apps, schema_editor):
    ManualTask = apps.get_model("dashboard", "ManualTask")
    Task = apps.get_model("tasks", "Task")
    for new in Task.objects.filter(kind="adhoc").order_by("pk").iterator():
        old = ManualTask.objects.create(
            request_id=new.request_id,
            title=new.title,
            status="done" if new.status == "completed" else "open",
            created_by=new.created_by,
            done_by=new.completed_by[:150],
            done_at=new.completed_at,
            outcome=new.note,
        )
        ManualTask.objects.filter(pk=old.pk).update(created_at=new.created_at)
    Task.objects.filter(kind="adhoc").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0001_initial"),
        ("dashboard", "0003_h10_casework_to_workflow"),
        ("systems", "0003_h2_bind_secrets"),
        ("tasks", "0002_h4_encrypt_staff_text"),
        ("workflow", "0005_h10_casework_models"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="task",
            name="created_by",
            field=models.CharField(blank=True, max_length=150),
        ),
        migrations.AddField(
            model_name="task",
            name="title",
            field=dsr.identity.fields.EncryptedTextField(blank=True, default=""),
        ),
        migrations.AlterField(
            model_name="task",
            name="action",
            field=models.CharField(blank=True, max_length=10),
        ),
        migrations.AlterField(
            model_name="task",
            name="assignee",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="tasks",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="task",
            name="job",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="task",
                to="workflow.connectorjob",
            ),
        ),
        migrations.AlterField(
            model_name="task",
            name="kind",
            field=models.CharField(
                choices=[
                    ("adhoc", "Ad-hoc task"),
                    ("manual", "Staff task"),
                    ("vendor_email", "Processor instruction by e-mail"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="task",
            name="request",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="tasks",
                to="workflow.datasubjectrequest",
            ),
        ),
        migrations.AlterField(
            model_name="task",
            name="system",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="tasks",
                to="systems.system",
            ),
        ),
        migrations.RunPython(manual_tasks_forward, manual_tasks_backward),
    ]
