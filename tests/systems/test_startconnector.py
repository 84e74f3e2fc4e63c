"""``manage.py startconnector`` makes a package whose tests pass out of the box, and a plug-in
package (``examples/acme_crm``) pip-installed into the running virtualenv is discovered through the
``dsr.connectors`` entry point."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from connectors import registry
from connectors.scaffold import scaffold_names, write_package

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "acme_crm"


def startconnector(*args: str) -> str:
    out = StringIO()
    call_command("startconnector", *args, stdout=out)
    return out.getvalue()


def run_pytest_in(package: Path) -> subprocess.CompletedProcess[str]:
    """Run a package's own tests in a fresh interpreter, as its author would (SDK on PYTHONPATH)."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(package)])
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly"],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_startconnector_writes_a_package_whose_conformance_tests_pass_out_of_the_box(tmp_path: Path) -> None:
    out = startconnector("northwind_crm", "--directory", str(tmp_path), "--label", "Northwind CRM")
    package = tmp_path / "northwind_crm"

    assert out.startswith(f"created dsr-connector-northwind-crm in {package}:\n")
    assert sorted(str(p.relative_to(package)) for p in package.rglob("*") if p.is_file()) == [
        "README.md",
        "dsr_northwind_crm/__init__.py",
        "dsr_northwind_crm/connector.py",
        "dsr_northwind_crm/fake.py",
        "pyproject.toml",
        "tests/test_conformance.py",
    ]
    pyproject = (package / "pyproject.toml").read_text()
    assert '[project.entry-points."dsr.connectors"]\n' in pyproject
    assert 'northwind_crm = "dsr_northwind_crm.connector:NorthwindCrmConnector"' in pyproject
    generated = "\n".join(p.read_text() for p in package.rglob("*.py"))
    assert "tests.fakes" not in generated  # ships its own fake, on the SDK's public FakeServer
    assert "from connectors.testing.server import" in generated

    result = run_pytest_in(package)

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("36 passed in ")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "Acme",
            "'Acme' is not a valid connector key: use 2-40 lower-case letters, digits and single "
            "underscores, starting with a letter (e.g. acme_crm)",
        ),
        ("hubspot", "a connector with the key 'hubspot' is already registered"),
        ("class", "'class' is a Python keyword"),
    ],
)
def test_startconnector_refuses_unusable_names(tmp_path: Path, name: str, message: str) -> None:
    with pytest.raises(CommandError) as info:
        startconnector(name, "--directory", str(tmp_path))
    assert str(info.value) == message
    assert list(tmp_path.iterdir()) == []


def test_startconnector_never_overwrites_a_folder(tmp_path: Path) -> None:
    (tmp_path / "acme_erp").mkdir()
    (tmp_path / "acme_erp" / "mine.txt").write_text("keep me")
    with pytest.raises(CommandError) as info:
        startconnector("acme_erp", "--directory", str(tmp_path))
    assert str(info.value) == f"{tmp_path / 'acme_erp'} already exists and is not empty"
    assert [p.name for p in (tmp_path / "acme_erp").iterdir()] == ["mine.txt"]


def test_the_example_package_is_exactly_what_startconnector_generates(tmp_path: Path) -> None:
    write_package(scaffold_names("acme_crm", label="Acme CRM"), tmp_path / "acme_crm")
    expected = {
        p.relative_to(tmp_path / "acme_crm"): p.read_text() for p in (tmp_path / "acme_crm").rglob("*.*")
    }
    actual = {
        p.relative_to(EXAMPLE): p.read_text()
        for p in EXAMPLE.rglob("*.*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and ".egg-info" not in str(p)
        and p.parent.name != "build"
    }
    assert actual == expected


def test_the_example_package_passes_its_own_conformance_tests(tmp_path: Path) -> None:
    package = tmp_path / "acme_crm"
    shutil.copytree(EXAMPLE, package, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    result = run_pytest_in(package)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("36 passed in ")


def pip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def installed_example(tmp_path: Path) -> Iterator[None]:
    """``examples/acme_crm`` pip-installed into the running virtualenv (offline), then uninstalled.

    Installed from a copy, so the build leaves no ``build/`` or ``*.egg-info`` in the repository.
    """
    source = tmp_path / "acme_crm"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    installed = pip("install", "--no-deps", "--no-build-isolation", "--no-index", str(source))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    importlib.invalidate_caches()
    registry.available.cache_clear()
    try:
        yield
    finally:
        removed = pip("uninstall", "--yes", "dsr-connector-acme-crm")
        for module in [m for m in sys.modules if m == "dsr_acme_crm" or m.startswith("dsr_acme_crm.")]:
            del sys.modules[module]
        importlib.invalidate_caches()
        registry.available.cache_clear()
        assert removed.returncode == 0, removed.stdout + removed.stderr


def test_an_installed_plug_in_is_discovered_through_its_entry_point(installed_example: None) -> None:
    connectors = registry.available()

    cls = connectors["acme_crm"]
    assert (cls.__module__, cls.__name__, cls.label) == (
        "dsr_acme_crm.connector",
        "AcmeCrmConnector",
        "Acme CRM",
    )
    assert set(connectors) == set(registry.BUILTINS) | {"acme_crm"}
    out = StringIO()
    call_command("connectors", "list", stdout=out)
    [line] = [line for line in out.getvalue().splitlines() if line.startswith("acme_crm ")]
    assert (
        " ".join(line.split())
        == "acme_crm Acme CRM crm access, erase entry point dsr-connector-acme-crm 0.1.0"
    )
