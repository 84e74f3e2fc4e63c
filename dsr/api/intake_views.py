"""Staff API for test requests and the per-request diagnostics bundle (issue 17).

Roles are checked by ``StaffPermission`` through ``dsr.staff.roles`` (the one place)."""

from __future__ import annotations

import uuid

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dsr.api.permissions import StaffPermission
from dsr.api.serializers import RequestCreatedOutput
from dsr.errors import RequestInputError
from dsr.staff.actors import staff_actor
from dsr.workflow.diagnostics import request_diagnostics_export
from dsr.workflow.intake import request_create
from dsr.workflow.models import Channel, RequestType
from dsr.workflow.selectors import request_get_for_staff


def _actor(request: Request) -> str:
    return staff_actor(request.user)


class TestRequestInput(serializers.Serializer):
    type = serializers.ChoiceField(choices=RequestType.choices)
    email = serializers.EmailField(max_length=254, help_text="A test subject's address in your systems.")
    jurisdiction = serializers.CharField(max_length=10)
    full_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    details = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    test = serializers.BooleanField(
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
        responses={201: TestRequestOutput, 400: OpenApiResponse(description="A message per invalid field")},
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
        try:
            created = request_create(**values, channel=Channel.STAFF, is_test=True, actor=_actor(request))
        except RequestInputError as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
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
