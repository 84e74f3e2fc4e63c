"""axe-core (from npm) in the page: the portal's and the dashboard's browser tests fail on any
serious or critical accessibility violation it reports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.browser import screenshot

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core in the page; the serious and critical violations it reports."""
    if not AXE.exists():
        raise AssertionError(f"{AXE} is missing: run `make install` (npm ci installs axe-core)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the pages' CSP rightly blocks injected scripts.
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
