"""Portal fixtures: a browser page on the live server, axe-core, and the e-mails of a request."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.axe import AXE, AXE_TAGS, axe_violations, check_page

# Playwright's sync API runs an event loop in the test's thread; Django refuses ORM calls from a
# thread with a running loop unless told that this is safe (it is: the loop is Playwright's own).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

__all__ = ["AXE", "AXE_TAGS", "axe_violations", "check_page"]


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
