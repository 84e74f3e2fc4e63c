"""Portal fixtures: a browser page on the live server, axe-core, and the e-mails of a request."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import screenshot

# Playwright's sync API runs an event loop in the test's thread; Django refuses ORM calls from a
# thread with a running loop unless told that this is safe (it is: the loop is Playwright's own).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (from npm) in the page; the serious and critical violations it reports."""
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `make install` (npm ci installs axe-core)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the portal's CSP rightly blocks injected scripts.
        page.evaluate(AXE.read_text())
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def check_page(page: Any, name: str) -> None:
    """Save a screenshot of the page, then fail on any serious or critical accessibility violation."""
    screenshot(page, name)
    violations = axe_violations(page)
    assert violations == [], f"{name}: {json.dumps(violations, indent=1)}"


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """``new_page(width=320, headers={"Sec-GPC": "1"}, locale="de-DE")``: a page in a fresh context."""
    contexts = []

    def make(
        *, width: int = 1280, height: int = 900, headers: dict[str, str] | None = None, locale: str = "en-US"
    ) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale=locale, extra_http_headers=headers or {}
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
