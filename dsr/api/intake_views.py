"""Staff API for test requests and the per-request diagnostics bundle (issue 17).

Roles are checked by ``StaffPermission`` through ``dsr.staff.roles`` (the one place)."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dsr.api.permissions import StaffPermission
from dsr.api.serializers import RequestCreatedOutput, RequestCreateInput
from dsr.staff.actors import staff_actor
from dsr.workflow.diagnostics import request_diagnostics_export
from dsr.workflow.intake import request_create
from dsr.workflow.models import Channel
from dsr.workflow.selectors import request_get_for_staff


def _actor(request: Request) -> str:
    return staff_actor(request.user)


@extend_schema_field({"type": "boolean", "enum": [True]})
class OnlyTrueField(serializers.BooleanField):
    """A boolean the schema allows only as ``true``."""


class TestRequestInput(RequestCreateInput):
    """The public create body (same validation), for a test subject; ``test`` may only be true."""

    test = OnlyTrueField(
        default=True, help_text="Always true here: a test request (dry-run connectors, no e-mail)."
    )

    def validate_test(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError("This endpoint creates test requests only; send test: true.")
        return value


class TestRequestOutput(RequestCreatedOutput):
    test = serializers.BooleanField(source="is_test")


class StaffTestRequestCreateApi(APIView):
    permission_classes = [StaffPermission]
    required_permission = "request.test"

    @extend_schema(
        operation_id="staff_test_request_create",
        request=TestRequestInput,
        responses={201: TestRequestOutput},
        tags=["staff"],
        description=(
            "Start a test request: it runs through the real connectors in dry-run mode (they report "
            "what they would erase and change nothing), e-mails nobody, and is left out of the "
            "§7102 metrics and reports. It waits for approval like any verified request."
        ),
    )
    def post(self, request: Request) -> Response:
        data = TestRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = {k: v for k, v in data.validated_data.items() if k != "test"}
        # A RequestInputError becomes the API's 400 body in dsr/api/errors.py.
        created = request_create(**values, channel=Channel.STAFF, is_test=True, actor=_actor(request))
        return Response(TestRequestOutput(created).data, status=status.HTTP_201_CREATED)


class StaffRequestDiagnosticsApi(APIView):
    permission_classes = [StaffPermission]
    required_permission = "request.diagnostics"

    @extend_schema(
        operation_id="staff_request_diagnostics",
        responses={
            (200, "application/json"): OpenApiResponse(
                description="The troubleshooting bundle: jobs, attempts, scrubbed errors, timings, "
                "versions and settings; no identity and no secret."
            )
        },
        tags=["staff"],
    )
    def get(self, request: Request, request_id: uuid.UUID) -> HttpResponse:
        dsr = request_get_for_staff(user=request.user, request_id=request_id)
        body = request_diagnostics_export(request=dsr, actor=_actor(request))
        response = HttpResponse(body, content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="diagnostics-{dsr.reference}.json"'
        response["Cache-Control"] = "no-store"
        return response
