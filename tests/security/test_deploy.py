"""Production settings: ``check --deploy`` passes without warnings; secure cookies; security headers
and a content security policy on every surface; CSRF on every form."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
SERVED_TEMPLATES = ("portal", "dashboard")  # e-mails and the offline package index are not served


def production_env(tmp_path: Path) -> dict[str, str]:
    key = base64.b64encode(os.urandom(32)).decode()
    return {
        "PATH": os.environ["PATH"],
        "DSR_ENV": "production",
        "SECRET_KEY": base64.b64encode(os.urandom(48)).decode(),
        "DSR_ENCRYPTION_KEYS": f"prod1:{key}",
        "DSR_BLIND_INDEX_KEY": base64.b64encode(os.urandom(32)).decode(),
        "DSR_AUDIT_KEY": base64.b64encode(os.urandom(32)).decode(),
        "ALLOWED_HOSTS": "privacy.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
        "CACHE_URL": "redis://127.0.0.1:6379/15",  # shared by every process (the limiter's counters)
        "DSR_VAR_DIR": str(tmp_path),
        "DSR_PRIVACY_POLICY_URL": "https://privacy.example.com/policy",
        "DSR_PRIVACY_CONTACT_EMAIL": "privacy@example.com",
    }


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_production_settings_pass_check_deploy_without_any_warning(tmp_path: Path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert (result.returncode, result.stdout.strip()) == (
        0,
        "System check identified no issues (0 silenced).",
    )


def test_production_refuses_to_start_without_its_secrets(tmp_path: Path):
    env = production_env(tmp_path)
    del env["DSR_ENCRYPTION_KEYS"]
    result = run(["manage.py", "check"], env)
    assert result.returncode == 1
    assert "DSR_ENCRYPTION_KEYS must be set when DSR_ENV=production" in result.stderr


@pytest.mark.parametrize("name", ["DSR_PRIVACY_POLICY_URL", "DSR_PRIVACY_CONTACT_EMAIL"])
def test_production_refuses_to_start_without_a_privacy_contact(tmp_path: Path, name: str):
    env = production_env(tmp_path)
    del env[name]
    result = run(["manage.py", "check"], env)
    assert result.returncode == 1
    assert f"{name} must be set when DSR_ENV=production" in result.stderr


def test_production_cookies_are_secure_http_only_and_same_site(tmp_path: Path):
    names = [
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "SESSION_COOKIE_SAMESITE",
        "CSRF_COOKIE_SECURE",
        "CSRF_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SAMESITE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "DEBUG",
    ]
    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))"
    )
    result = run(["-c", code], {**production_env(tmp_path), "DJANGO_SETTINGS_MODULE": "dsr.settings"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SAMESITE": "Lax",
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "DEBUG": False,
    }


PORTAL_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/rights/DE/", "/api/v1/staff/requests", "/api/schema/"])
def test_public_pages_and_the_api_send_the_strict_policy_and_the_security_headers(path: str):
    response = Client().get(path)
    assert response["Content-Security-Policy"] == PORTAL_POLICY
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Permissions-Policy"].startswith("accelerometer=(), camera=(), geolocation=()")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/login/", "/dashboard/login/"])
def test_staff_pages_allow_inline_styles_but_never_inline_scripts(path: str):
    policy = Client().get(path)["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.django_db
def test_an_external_brand_logo_is_allowed_as_an_image_from_its_origin_only(settings):
    settings.DSR_BRAND_LOGO_URL = "https://cdn.example.com/brand/logo.svg"
    policy = Client().get("/")["Content-Security-Policy"]
    assert "img-src 'self' data: https://cdn.example.com;" in policy


def served_templates() -> list[Path]:
    return sorted(p for surface in SERVED_TEMPLATES for p in (TEMPLATES / surface).rglob("*.html"))


def test_no_served_template_has_an_inline_script_or_an_inline_event_handler():
    offenders = []
    for path in served_templates():
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son[a-z]+\s*=", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_no_portal_template_has_an_inline_style():
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((TEMPLATES / "portal").rglob("*.html"))
        if re.search(r"<style|\sstyle\s*=", path.read_text())
    ]
    assert offenders == []


def test_every_form_that_posts_carries_a_csrf_token():
    missing = []
    for path in served_templates():
        for form in re.findall(r"<form\b[^>]*>.*?</form>", path.read_text(), flags=re.S | re.I):
            if re.search(r"method=[\"']post[\"']", form, flags=re.I) and "{% csrf_token %}" not in form:
                missing.append(str(path.relative_to(ROOT)))
    assert missing == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/rights/DE/access/", {"email": "csrf@example.com", "jurisdiction": "DE"}),
        ("/dashboard/login/", {"username": "someone", "password": "x"}),
        ("/admin/login/", {"username": "someone", "password": "x"}),
        ("/i18n/setlang/", {"language": "de"}),
    ],
)
def test_a_form_posted_without_its_csrf_token_is_refused(path: str, data: dict[str, str]):
    response = Client(enforce_csrf_checks=True).post(path, data)
    assert response.status_code == 403
