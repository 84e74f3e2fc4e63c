"""The connector SDK imports without Django: a third-party author installs it on its own, and a
worker's connector code can never reach the platform's models or settings by accident."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter: any import of Django or of the platform (``dsr``) raises, then every
# module under ``connectors`` is imported. Prints the imported modules and the failures as JSON.
PROBE = r"""
import importlib, importlib.abc, json, pkgutil, sys

class Forbidden(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"django", "dsr", "rest_framework", "celery"}:
            raise ImportError(f"the connector SDK must not import {name}")
        return None

sys.meta_path.insert(0, Forbidden())
import connectors
imported, failed, skipped = [], {}, []

def walk(path, prefix):
    for info in pkgutil.iter_modules(path, prefix):
        if info.name.rsplit(".", 1)[-1] == "tests":
            skipped.append(info.name)  # a connector's own test suite: not the SDK, may use Django
            continue
        try:
            module = importlib.import_module(info.name)
            imported.append(info.name)
        except Exception as exc:
            failed[info.name] = f"{type(exc).__name__}: {exc}"
            continue
        if info.ispkg:
            walk(module.__path__, info.name + ".")

walk(connectors.__path__, "connectors.")
print(json.dumps({"imported": imported, "failed": failed, "skipped": skipped}))
"""

BUILTINS = ("hubspot", "klaviyo", "mailchimp", "manual", "salesforce", "sql", "stripe", "vendor_email")


def test_every_connectors_module_imports_without_django() -> None:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["failed"] == {}
    # The walk really covered the SDK and the built-in connectors, not an empty package.
    for module in (
        "connectors.base",
        "connectors.handoff",
        "connectors.http",
        "connectors.testing.kit",
        "connectors.sql.connector",
        "connectors.hubspot.connector",
        "connectors.manual.connector",
        "connectors.vendor_email.connector",
        # The fake vendor servers live beside their connectors and stay Django-free too.
        "connectors.hubspot.fake",
        "connectors.klaviyo.fake",
        "connectors.mailchimp.fake",
        "connectors.salesforce.fake",
        "connectors.stripe.fake",
    ):
        assert module in report["imported"]
    # Only the connectors' own test suites are left out, nothing else.
    assert sorted(report["skipped"]) == [f"connectors.{key}.tests" for key in BUILTINS]
