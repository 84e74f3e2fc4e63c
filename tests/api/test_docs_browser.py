"""The API reference at /api/docs/ renders in headless Chromium with no network beyond our own server.

A self-hosted deployment often has no internet: ReDoc comes from drf-spectacular-sidecar (our static
files) and no web font is fetched. The page's requests to any other host are aborted and recorded.
Screenshot: artifacts/screenshots/api-docs-offline.png.
"""

from __future__ import annotations

import os
import urllib.parse
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support.browser import ARTIFACTS

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def test_the_api_reference_renders_with_the_network_cut(live_server: Any, page: Any) -> None:
    blocked: list[str] = []
    errors: list[str] = []

    def route(route: Any) -> None:
        url = route.request.url
        if url.startswith(("blob:", "data:")) or urllib.parse.urlsplit(url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    page.goto(live_server.url + "/api/docs/")

    expect(page.get_by_role("heading", name="DSR Hub API (1.0.0)")).to_be_visible(timeout=30_000)
    operation = page.locator('[data-section-id="tag/public/operation/request_create"]')
    expect(operation.get_by_role("heading", level=2)).to_contain_text("request_create")
    expect(operation.get_by_role("heading", name="Request samples")).to_be_visible()
    expect(page.get_by_role("link", name="Download", exact=True)).to_be_visible()  # the schema (ours)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # the first screen only: the full page is 16,000 px
    page.screenshot(path=str(ARTIFACTS / "api-docs-offline.png"))
    assert blocked == []
    # ReDoc's only outside reference is the "API docs by Redocly" logo, which our CSP refuses and
    # ReDoc then hides (its <img> removes itself on error); nothing else may fail.
    assert [e for e in errors if "https://cdn.redoc.ly/redoc/logo-mini.svg" not in e] == []


def test_the_api_reference_page_allows_no_other_origin(client: Any) -> None:
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in html
    assert "https://" not in html
    policy = response["Content-Security-Policy"]
    assert "https:" not in policy
    assert "script-src 'self';" in policy
    assert "style-src 'self' 'unsafe-inline';" in policy
    assert "worker-src 'self' blob:" in policy
