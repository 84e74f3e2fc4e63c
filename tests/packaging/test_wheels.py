"""`pip install .` works: the dsr-hub wheel carries the templates, translations and rule tables, and
the connector SDK builds as its own distribution (dsr-hub-connectors) that imports without Django.

Both are built from a copy of the checkout's files (tracked or not ignored), so the build leaves
nothing behind in the working tree.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    copy = tmp_path_factory.mktemp("src")
    for name in filter(None, files):
        if name in (".venv", "node_modules") or not (ROOT / name).is_file():
            continue
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, copy / name)
    return copy


def build(project: Path, out: Path) -> zipfile.ZipFile:
    # -P: the project folder is not put on sys.path (connectors/types.py would shadow the stdlib's).
    args = ["-P", "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), "."]
    result = subprocess.run(
        [sys.executable, *args],
        cwd=project, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = out.glob("*.whl")
    return zipfile.ZipFile(wheel)


def test_the_dsr_hub_wheel_holds_the_code_templates_translations_and_rule_tables(source, tmp_path) -> None:
    wheel = build(source, tmp_path)
    names = set(wheel.namelist())
    assert Path(wheel.filename).name == "dsr_hub-0.1.0-py3-none-any.whl"
    for expected in (
        "dsr/settings.py",
        "dsr/workflow/jurisdictions.yaml",
        "dsr/_templates/portal/base.html",
        "dsr/_templates/emails/digest.txt",
        "dsr/_templates/exports/index.html",
        "dsr/_templates/api/redoc.html",
        "dsr/_locale/de/LC_MESSAGES/django.po",
        "dsr/_locale/fr/LC_MESSAGES/django.po",
        "dsr/portal/static/portal/portal.css",
        "dsr/notifications/migrations/0002_h6_alerts.py",
        "connectors/sql/connector.py",
        "connectors/sql/plan.py",
        "connectors/hubspot/fake.py",
        "connectors/scaffold/template/pyproject.toml.tmpl",
    ):
        assert expected in names, expected
    assert not [n for n in names if n.startswith(("tests/", "bench/", "var/"))]
    # The connectors' own test suites stay in the checkout.
    assert not [n for n in names if re.match(r"connectors/[^/]+/tests/", n)]
    metadata = wheel.read("dsr_hub-0.1.0.dist-info/METADATA").decode()
    assert "Requires-Dist: Django<5.3,>=5.2" in metadata
    assert "Requires-Dist: drf-spectacular-sidecar>=2024.7" in metadata

    # Installed (no checkout around it), the settings find the templates and translations inside.
    installed = tmp_path / "site"
    wheel.extractall(installed)
    probe = (
        "import django; django.setup();"
        "from django.conf import settings; from django.template.loader import get_template;"
        "print(get_template('portal/base.html').origin.name); print(settings.LOCALE_PATHS[0])"
    )
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(installed),
        "DJANGO_SETTINGS_MODULE": "dsr.settings",
        "DSR_VAR_DIR": str(tmp_path / "var"),
    }
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        str(installed / "dsr" / "_templates" / "portal" / "base.html"),
        str(installed / "dsr" / "_locale"),
    ]


def test_the_connector_sdk_is_its_own_distribution_and_imports_without_django(source, tmp_path) -> None:
    wheel = build(source / "connectors", tmp_path / "dist")
    assert Path(wheel.filename).name == "dsr_hub_connectors-0.1.0-py3-none-any.whl"
    names = set(wheel.namelist())
    assert "connectors/base.py" in names
    assert "connectors/testing/kit.py" in names
    assert "connectors/hubspot/fake.py" in names
    assert "connectors/sql/erase.py" in names
    assert not [n for n in names if n.startswith("dsr/") or re.match(r"connectors/[^/]+/tests/", n)]
    metadata = wheel.read("dsr_hub_connectors-0.1.0.dist-info/METADATA").decode()
    assert "Requires-Dist: pydantic<3,>=2.7" in metadata
    assert "Django" not in metadata

    installed = tmp_path / "site"
    wheel.extractall(installed)
    probe = (
        "import sys, connectors, connectors.sql, connectors.hubspot, connectors.testing;"
        "print(connectors.__file__); print('django' in sys.modules)"
    )
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(installed)}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    where, django_loaded = result.stdout.split()
    assert where == str(installed / "connectors" / "__init__.py")
    assert django_loaded == "False"
