"""API v1. Each class is one operation: parse input, call a service or selector, render."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.http.response import HttpResponseBase
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.generics import ListAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dsr.api import serializers as s
from dsr.api.errors import error_body
from dsr.api.parsers import StrictJSONParser
from dsr.api.permissions import StaffPermission
from dsr.api.throttles import LimiterThrottle
from dsr.audit.models import AuditEvent
from dsr.errors import RequestInputError
from dsr.exports.models import AccessPackage
from dsr.exports.selectors import package_current
from dsr.exports.views import package_response
from dsr.identity.models import Purpose
from dsr.identity.services import challenge_check, challenge_issue
from dsr.notifications.models import EmailKind
from dsr.notifications.outbox import email_queue
from dsr.notifications.services import download_token_state
from dsr.staff.actors import staff_actor
from dsr.staff.roles import has_permission
from dsr.workflow import casework
from dsr.workflow.decisions import job_retry, request_approve, request_cancel, request_deny
from dsr.workflow.identities import identity_reveal
from dsr.workflow.intake import request_create, request_resend_code, request_verify
from dsr.workflow.models import Channel, Status
from dsr.workflow.selectors import QueueFilters, request_get_for_staff, request_get_for_subject, request_queue


def _error(detail: str, code: int) -> Response:
    return Response(error_body(detail), status=code)


def _actor(request: Request) -> str:
    return staff_actor(request.user)


class PublicApi(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    # Per client IP (REMOTE_ADDR unless DSR_NUM_PROXIES) and per e-mail address (its blind index),
    # on the counters the portal shares (dsr/ratelimit).
    throttle_classes = [LimiterThrottle]


# --- public: the data subject -------------------------------------------------------------------


class RequestCreateApi(PublicApi):
    throttle_scope = "public_create"

    @extend_schema(
        operation_id="request_create",
        request=s.RequestCreateInput,
        examples=[
            OpenApiExample(
                "An access request",
                value={"type": "access", "email": "jane.doe@example.com", "jurisdiction": "DE"},
                request_only=True,
            )
        ],
        responses={
            201: s.RequestCreatedOutput,
            400: OpenApiResponse(description="A message per invalid field"),
        },
        tags=["public"],
    )
    def post(self, request: Request) -> Response:
        data = s.RequestCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        created = request_create(**data.validated_data, channel=Channel.API)
        return Response(s.RequestCreatedOutput(created).data, status=status.HTTP_201_CREATED)


class RequestVerifyApi(PublicApi):
    throttle_scope = "public_verify"

    @extend_schema(
        operation_id="request_verify",
        request=s.VerifyInput,
        responses={
            200: s.RequestStatusOutput,
            400: OpenApiResponse(description="Wrong or expired code"),
            404: OpenApiResponse(description="No such request"),
            429: OpenApiResponse(description="Locked after too many wrong codes"),
        },
        tags=["public"],
    )
    def post(self, request: Request, request_id: uuid.UUID) -> Response:
        dsr = request_get_for_subject(request_id=request_id)
        data = s.VerifyInput(data=request.data)
        data.is_valid(raise_exception=True)
        if dsr.status != Status.PENDING_VERIFICATION:
            return Response(s.RequestStatusOutput(dsr).data)  # verifying twice is harmless
        dsr = request_verify(request_id=dsr.pk, code=data.validated_data["code"].strip())
        return Response(s.RequestStatusOutput(dsr).data)


class RequestResendCodeApi(PublicApi):
    throttle_scope = "public_verify"

    @extend_schema(
        operation_id="request_resend_code",
        request=None,
        responses={202: s.DetailOutput, 429: OpenApiResponse(description="Asked too soon or too often")},
        tags=["public"],
    )
    def post(self, request: Request, request_id: uuid.UUID) -> Response:
        dsr = request_get_for_subject(request_id=request_id)
        request_resend_code(request_id=dsr.pk)
        return Response(
            {"detail": "If the request is waiting for a code, a new one is on its way."}, status=202
        )


class DownloadCodeApi(PublicApi):
    throttle_scope = "public_verify"

    @extend_schema(
        operation_id="request_download_code",
        request=s.DownloadCodeInput,
        responses={202: s.DetailOutput, 403: s.DetailOutput},
        tags=["public"],
    )
    def post(self, request: Request, request_id: uuid.UUID) -> Response:
        dsr = request_get_for_subject(request_id=request_id)
        data = s.DownloadCodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        if download_token_state(request_id=str(dsr.pk), token=data.validated_data["token"]) != "valid":
            return _error("This download link is invalid or has expired.", status.HTTP_403_FORBIDDEN)
        if package_current(request=dsr) is None:
            return _error("This download link is invalid or has expired.", status.HTTP_403_FORBIDDEN)
        with transaction.atomic():
            issued = challenge_issue(request_id=dsr.pk, purpose=Purpose.DOWNLOAD, resend=True)
            email_queue(request=dsr, kind=EmailKind.DOWNLOAD_CODE, issued=issued)
        return Response({"detail": "A download code is on its way to your e-mail address."}, status=202)


class DownloadApi(PublicApi):
    throttle_scope = "public_verify"

    @extend_schema(
        operation_id="request_download",
        request=s.DownloadInput,
        responses={
            (200, "application/zip"): OpenApiResponse(description="The access package (zip)"),
            400: OpenApiResponse(description="Wrong or expired code"),
            403: s.DetailOutput,
            429: OpenApiResponse(description="Locked"),
        },
        tags=["public"],
    )
    def post(self, request: Request, request_id: uuid.UUID) -> HttpResponseBase:
        dsr = request_get_for_subject(request_id=request_id)
        data = s.DownloadInput(data=request.data)
        data.is_valid(raise_exception=True)
        if download_token_state(request_id=str(dsr.pk), token=data.validated_data["token"]) != "valid":
            return _error("This download link is invalid or has expired.", status.HTTP_403_FORBIDDEN)
        challenge_check(request_id=dsr.pk, code=data.validated_data["code"], purpose=Purpose.DOWNLOAD)
        return _package_response(dsr, actor="subject")


def _package_response(dsr: Any, *, actor: str) -> HttpResponseBase:
    try:
        return package_response(dsr=dsr, actor=actor)
    except AccessPackage.DoesNotExist:
        return _error("There is no package for this request.", status.HTTP_404_NOT_FOUND)


# --- staff --------------------------------------------------------------------------------------


class StaffApi(APIView):
    permission_classes = [StaffPermission]
    required_permission = "request.view"


class StaffRequestListApi(ListAPIView):
    permission_classes = [StaffPermission]
    required_permission = "request.view"
    serializer_class = s.RequestListOutput

    @extend_schema(operation_id="staff_request_list", parameters=[s.RequestFilterInput], tags=["staff"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        filters = s.RequestFilterInput(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        if filters.validated_data.get("email") and not has_permission(
            self.request.user, "request.view_identity"
        ):
            # A role that sees masked identities must not learn them by searching either.
            raise PermissionDenied("Your role cannot search by e-mail address.")
        return request_queue(filters=QueueFilters(**filters.validated_data), user=self.request.user)


class StaffRequestDetailApi(StaffApi):
    @extend_schema(
        operation_id="staff_request_detail", responses={200: s.RequestDetailOutput}, tags=["staff"]
    )
    def get(self, request: Request, request_id: uuid.UUID) -> Response:
        dsr = request_get_for_staff(user=request.user, request_id=request_id)
        return Response(s.RequestDetailOutput(dsr, context={"request": request}).data)


class StaffRequestRevealApi(StaffApi):
    """The identity in clear for one request, as the dashboard's "Reveal identity (audited)"."""

    required_permission = "request.reveal_identity"

    @extend_schema(
        operation_id="staff_request_reveal",
        request=None,
        responses={200: s.IdentityOutput, 404: s.DetailOutput},
        tags=["staff"],
        description="Lists and details show identities masked. This returns them in clear and "
        "records one `request.identity_revealed` audit event per call (roles with "
        "`request.reveal_identity`: agent, approver, admin).",
    )
    def post(self, request: Request, request_id: uuid.UUID) -> Response:
        dsr = request_get_for_staff(user=request.user, request_id=request_id)
        identity = identity_reveal(request_id=dsr.pk, actor=_actor(request))
        body = {
            "reference": dsr.reference,
            "email": identity.email,
            "full_name": identity.full_name,
            "phone": identity.phone,
            "agent": (
                {"name": identity.agent.name, "email": identity.agent.email} if identity.agent else None
            ),
        }
        response = Response(s.IdentityOutput(body).data)
        response["Cache-Control"] = "no-store"
        return response


class StaffRequestApproveApi(StaffApi):
    required_permission = "request.approve"

    @extend_schema(
        operation_id="staff_request_approve",
        request=None,
        responses={200: s.RequestStatusOutput, 409: s.DetailOutput},
        tags=["staff"],
    )
    def post(self, request: Request, request_id: uuid.UUID) -> Response:
        dsr = request_get_for_staff(user=request.user, request_id=request_id)
        dsr = request_approve(request_id=dsr.pk, actor=_actor(request))
        return Response(s.RequestStatusOutput(dsr).data)


class StaffRequestDenyApi(StaffApi):
    required_permission = "request.deny"

    @extend_schema(
        operation_id="staff_request_deny",
        request=s.DenyInput,
        responses={200: s.RequestStatusOutput, 409: s.DetailOutput},
        tags=["staff"],
    )
    def post(self, request: Request, request_id: uuid.UUID) -> Response:
        dsr = request_get_for_staff(user=request.user, request_id=request_id)
        data = s.DenyInput(data=request.data)
        data.is_valid(raise_exception=True)
        dsr = request_deny(
            request_id=dsr.pk,
            actor=_actor(request),
            reason=data.validated_data["reason"],
            message=data.validated_data["message"],
        )
        return Response(s.RequestStatusOutput(dsr).data)


class StaffRequestCancelApi(StaffApi):
    required_permission = "request.cancel"

    @extend_schema(
        operation_id="staff_request_cancel",
        request=s.CancelInput,
        responses={200: s.RequestStatusOutput, 409: s.DetailOutput},
        tags=["staff"],
    )
    def post(self, request: Request, request_id: uuid.UUID) -> Response:
        dsr = request_get_for_staff(user=request.user, request_id=request_id)
        data = s.CancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        dsr = request_cancel(request_id=dsr.pk, actor=_actor(request), note=data.validated_data["note"])
        return Response(s.RequestStatusOutput(dsr).data)


class StaffJobRetryApi(StaffApi):
    required_permission = "job.retry"

    @extend_schema(
        operation_id="staff_job_retry",
        request=None,
        responses={200: s.JobOutput, 400: s.DetailOutput},
        tags=["staff"],
    )
    def post(self, request: Request, request_id: uuid.UUID, job_id: int) -> Response:
        dsr = request_get_for_staff(user=request.user, request_id=request_id)
        if not dsr.jobs.filter(pk=job_id).exists():
            return _error("Not found.", status.HTTP_404_NOT_FOUND)
        job = job_retry(job_id=job_id, actor=_actor(request))
        return Response(s.JobOutput(job).data)


class StaffPackageApi(StaffApi):
    required_permission = "package.download"

    @extend_schema(
        operation_id="staff_package_download",
        responses={
            (200, "application/zip"): OpenApiResponse(description="The access package (zip)"),
            404: s.DetailOutput,
        },
        tags=["staff"],
    )
    def get(self, request: Request, request_id: uuid.UUID) -> HttpResponseBase:
        dsr = request_get_for_staff(user=request.user, request_id=request_id)
        return _package_response(dsr, actor=_actor(request))


class StaffAuditApi(StaffApi):
    required_permission = "audit.view"

    @extend_schema(
        operation_id="staff_request_audit", responses={200: s.AuditEventOutput(many=True)}, tags=["staff"]
    )
    def get(self, request: Request, request_id: uuid.UUID) -> Response:
        dsr = request_get_for_staff(user=request.user, request_id=request_id)
        events = AuditEvent.objects.filter(request_id=dsr.pk).order_by("id")
        return Response(s.AuditEventOutput(events, many=True).data)


# --- staff operations added with the dashboard --------------------------------------------------


class StaffRequestExtendApi(StaffApi):
    required_permission = "request.extend"

    @extend_schema(
        operation_id="staff_request_extend",
        request=s.ExtendInput,
        responses={
            200: s.ExtendedOutput,
            400: OpenApiResponse(description="Extension not allowed, with the reason"),
        },
        tags=["staff"],
    )
    def post(self, request: Request, request_id: uuid.UUID) -> Response:
        dsr = request_get_for_staff(user=request.user, request_id=request_id)
        data = s.ExtendInput(data=request.data)
        data.is_valid(raise_exception=True)
        dsr = casework.request_extend(
            request_id=dsr.pk, actor=_actor(request), reason=data.validated_data["reason"]
        )
        return Response(s.ExtendedOutput(dsr).data)


class StaffRequestAssignApi(StaffApi):
    required_permission = "request.assign"

    @extend_schema(
        operation_id="staff_request_assign",
        request=s.AssignInput,
        responses={200: s.AssignmentOutput, 400: s.DetailOutput},
        tags=["staff"],
    )
    def post(self, request: Request, request_id: uuid.UUID) -> Response:
        from django.contrib.auth import get_user_model

        dsr = request_get_for_staff(user=request.user, request_id=request_id)
        data = s.AssignInput(data=request.data)
        data.is_valid(raise_exception=True)
        username = data.validated_data["assignee"] or ""
        assignee = get_user_model().objects.filter(username=username).first() if username else None
        if username and assignee is None:
            raise RequestInputError({"assignee": "No such staff member."})
        casework.request_assign(request_id=dsr.pk, assignee=assignee, actor=_actor(request))
        return Response({"reference": dsr.reference, "assignee": username or None})


class StaffRequestNotesApi(StaffApi):
    """GET lists the internal notes (every role); POST adds one (roles with ``request.note``)."""

    @property
    def required_permission(self) -> str:  # type: ignore[override]
        return "request.view" if self.request.method == "GET" else "request.note"

    @extend_schema(
        operation_id="staff_request_notes", responses={200: s.NoteOutput(many=True)}, tags=["staff"]
    )
    def get(self, request: Request, request_id: uuid.UUID) -> Response:
        dsr = request_get_for_staff(user=request.user, request_id=request_id)
        return Response(s.NoteOutput(dsr.notes.select_related("author"), many=True).data)

    @extend_schema(
        operation_id="staff_request_note_add",
        request=s.NoteInput,
        responses={201: s.NoteOutput},
        tags=["staff"],
    )
    def post(self, request: Request, request_id: uuid.UUID) -> Response:
        dsr = request_get_for_staff(user=request.user, request_id=request_id)
        data = s.NoteInput(data=request.data)
        data.is_valid(raise_exception=True)
        note = casework.note_add(request_id=dsr.pk, author=request.user, body=data.validated_data["body"])
        return Response(s.NoteOutput(note).data, status=status.HTTP_201_CREATED)


# --- tasks: ad-hoc and the manual and vendor_email hand-offs ------------------------------------


class StaffTaskListApi(ListAPIView):
    permission_classes = [StaffPermission]
    required_permission = "task.view"
    serializer_class = s.TaskOutput

    @extend_schema(operation_id="staff_task_list", parameters=[s.TaskFilterInput], tags=["staff"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        from dsr.tasks.selectors import task_list

        filters = s.TaskFilterInput(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        assignee = filters.validated_data.get("assignee")
        if assignee == "me":
            assignee = self.request.user.get_username()
        return task_list(
            status=filters.validated_data.get("status"),
            kind=filters.validated_data.get("kind"),
            assignee=assignee,
        )


class StaffTaskDetailApi(StaffApi):
    required_permission = "task.view"

    @extend_schema(operation_id="staff_task_detail", responses={200: s.TaskOutput}, tags=["staff"])
    def get(self, request: Request, task_id: int) -> Response:
        from dsr.tasks.selectors import task_get_for_staff

        return Response(s.TaskOutput(task_get_for_staff(user=request.user, task_id=task_id)).data)


class StaffTaskCompleteApi(StaffApi):
    required_permission = "task.complete"
    parser_classes = [StrictJSONParser, MultiPartParser]  # an access task's file comes as multipart

    @extend_schema(
        operation_id="staff_task_complete",
        request={"multipart/form-data": s.TaskCompleteInput, "application/json": s.TaskCompleteJsonInput},
        responses={200: s.TaskOutput, 400: OpenApiResponse(description="A message per invalid field")},
        tags=["staff"],
    )
    def post(self, request: Request, task_id: int) -> Response:
        from dsr.tasks.selectors import task_get_for_staff
        from dsr.tasks.services import Upload, task_complete

        task = task_get_for_staff(user=request.user, task_id=task_id)
        form = request.content_type.startswith("multipart/")
        data = (s.TaskCompleteInput if form else s.TaskCompleteJsonInput)(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        file = values.get("file")
        task = task_complete(
            task_id=task.pk,
            actor=_actor(request),
            upload=Upload(name=file.name or "", content=file.read()) if file is not None else None,
            category=values["category"],
            records_found=values.get("records_found"),
            records_erased=values.get("records_erased"),
            method=values["method"],
            note=values["note"],
        )
        return Response(s.TaskOutput(task).data)
