"""The OpenAPI schema: generated without warnings, valid, and served at /api/schema/."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS

pytestmark = pytest.mark.django_db

# The v1 operations as first published: changes are additive only, so each must stay as it is.
OPERATIONS = {
    ("/api/v1/requests", "post"): "request_create",
    ("/api/v1/requests/{request_id}/verify", "post"): "request_verify",
    ("/api/v1/requests/{request_id}/resend-code", "post"): "request_resend_code",
    ("/api/v1/requests/{request_id}/download-code", "post"): "request_download_code",
    ("/api/v1/requests/{request_id}/download", "post"): "request_download",
    ("/api/v1/staff/requests", "get"): "staff_request_list",
    ("/api/v1/staff/requests/{request_id}", "get"): "staff_request_detail",
    ("/api/v1/staff/requests/{request_id}/approve", "post"): "staff_request_approve",
    ("/api/v1/staff/requests/{request_id}/deny", "post"): "staff_request_deny",
    ("/api/v1/staff/requests/{request_id}/cancel", "post"): "staff_request_cancel",
    ("/api/v1/staff/requests/{request_id}/jobs/{job_id}/retry", "post"): "staff_job_retry",
    ("/api/v1/staff/requests/{request_id}/package", "get"): "staff_package_download",
    ("/api/v1/staff/requests/{request_id}/audit", "get"): "staff_request_audit",
}


def test_the_schema_generates_and_validates_without_a_single_warning(tmp_path: Path, capsys):
    target = tmp_path / "schema.yaml"
    GENERATOR_STATS.reset()  # warnings are counted per process; count only this generation's
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "Warning" not in capsys.readouterr().err
    schema = yaml.safe_load(target.read_text())
    operations = {
        (path, method): operation["operationId"]
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
    assert {key: operations.get(key) for key in OPERATIONS} == OPERATIONS


def test_the_schema_is_served_at_api_schema(api):
    response = api.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "DSR Hub API"
    assert {path for path, _ in OPERATIONS} <= set(schema["paths"])


def test_every_error_of_every_operation_is_documented_with_the_one_error_body(api):
    schema = yaml.safe_load(api.get("/api/schema/").content)
    error = {"$ref": "#/components/schemas/Error"}
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail", "errors"]
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            responses = operation["responses"]
            staff = path.startswith("/api/v1/staff/")
            expected = {"500"} | ({"401", "403"} if staff else {"429"}) | ({"404"} if "{" in path else set())
            assert expected <= set(responses), (method, path)
            for code, response in responses.items():
                if int(code) >= 400:
                    assert response["content"]["application/json"]["schema"] == error, (method, path, code)


def test_jurisdictions_are_enumerated_from_the_rule_table(api):
    from dsr.workflow.deadlines import supported_jurisdictions

    schema = yaml.safe_load(api.get("/api/schema/").content)
    enum = schema["components"]["schemas"]["JurisdictionEnum"]["enum"]
    assert enum == [j.code for j in supported_jurisdictions()]
