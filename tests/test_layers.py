"""The arrows run one way: faces (portal, dashboard, API) call the core and never each other, and no
core app imports a face. Read from the source, so a new import anywhere fails here."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

DSR = Path(__file__).resolve().parents[1] / "dsr"
FACES = {"portal", "dashboard", "api"}
# Wiring, not behaviour: the URL conf and settings name every face by design.
WIRING = {"urls.py", "settings.py", "celery.py", "wsgi.py", "asgi.py"}


def _imports() -> dict[str, set[tuple[str, str]]]:
    """``{package: {(imported package, importing file)}}`` for every module under ``dsr/``."""
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for path in DSR.rglob("*.py"):
        rel = path.relative_to(DSR)
        if "migrations" in rel.parts or (len(rel.parts) == 1 and rel.name in WIRING):
            continue
        package = rel.parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "dsr" and len(parts) > 1 and parts[1] != package:
                    found[package].add((parts[1], str(rel)))
    return found


def test_no_face_imports_another_face() -> None:
    crossings = sorted(
        f"{where} imports dsr.{target}"
        for package, targets in _imports().items()
        if package in FACES
        for target, where in targets
        if target in FACES
    )
    assert crossings == []


def test_no_core_app_imports_a_face() -> None:
    crossings = sorted(
        f"{where} imports dsr.{target}"
        for package, targets in _imports().items()
        if package not in FACES
        for target, where in targets
        if target in FACES
    )
    assert crossings == []


def test_the_walk_sees_the_real_tree() -> None:
    imports = _imports()
    assert {"workflow", "identity", "audit"} <= {target for target, _ in imports["api"]}
    assert ("workflow", "portal/views.py") in imports["portal"]
