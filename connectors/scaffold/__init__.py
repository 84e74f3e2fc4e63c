"""Generate a pip-installable connector package (``manage.py startconnector NAME``).

The package has a connector over :class:`connectors.http.HttpClient`, a fake vendor API built on
:class:`connectors.testing.server.FakeServer`, a conformance test that passes out of the box, a
README and a ``pyproject.toml`` registering the connector in the ``dsr.connectors`` entry-point
group. Templates live in ``template/`` beside this file; ``__NAME__``-style tokens are replaced.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ScaffoldError", "ScaffoldNames", "scaffold_names", "write_package"]

TEMPLATE_DIR = Path(__file__).parent / "template"
_NAME_RE = re.compile(r"[a-z][a-z0-9_]{1,39}")


class ScaffoldError(ValueError):
    """The name is unusable or the target folder is not empty."""


@dataclass(frozen=True)
class ScaffoldNames:
    key: str  # the connector key and entry-point name: acme_crm
    package: str  # the Python package: dsr_acme_crm
    cls: str  # the class-name stem: AcmeCrm
    label: str  # the human label: Acme Crm
    dist: str  # the distribution name: dsr-connector-acme-crm
    env: str  # the suggested variable of the API key: DSR_SECRET_ACME_CRM_API_KEY ({env: ...} prefix)

    def tokens(self) -> dict[str, str]:
        return {
            "__NAME__": self.key,
            "__PACKAGE__": self.package,
            "__CLASS__": self.cls,
            "__LABEL__": self.label,
            "__DIST__": self.dist,
            "__ENV__": self.env,
        }


def scaffold_names(
    name: str, *, label: str | None = None, taken: frozenset[str] = frozenset()
) -> ScaffoldNames:
    """Derive every name from ``name`` (snake_case, 2-40 characters). Raises ``ScaffoldError``."""
    if not _NAME_RE.fullmatch(name) or name.endswith("_") or "__" in name:
        raise ScaffoldError(
            f"{name!r} is not a valid connector key: use 2-40 lower-case letters, digits and single "
            "underscores, starting with a letter (e.g. acme_crm)"
        )
    if keyword.iskeyword(name):
        raise ScaffoldError(f"{name!r} is a Python keyword")
    if name in taken:
        raise ScaffoldError(f"a connector with the key {name!r} is already registered")
    words = name.split("_")
    return ScaffoldNames(
        key=name,
        package=f"dsr_{name}",
        cls="".join(word.capitalize() for word in words),
        label=(label or " ".join(word.capitalize() for word in words)).strip(),
        dist="dsr-connector-" + "-".join(words),
        env=f"DSR_SECRET_{name.upper()}_API_KEY",
    )


def write_package(names: ScaffoldNames, target: Path) -> list[Path]:
    """Write the package into ``target`` (created; must be empty or absent). Returns the files."""
    if target.exists() and any(target.iterdir()):
        raise ScaffoldError(f"{target} already exists and is not empty")
    tokens = names.tokens()
    written: list[Path] = []
    for source in sorted(TEMPLATE_DIR.rglob("*.tmpl")):
        relative = source.relative_to(TEMPLATE_DIR).with_suffix("")  # drop .tmpl
        parts = [names.package if part == "package" else part for part in relative.parts]
        destination = target.joinpath(*parts)
        text = source.read_text(encoding="utf-8")
        for token, value in tokens.items():
            text = text.replace(token, value)
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text, encoding="utf-8")
        written.append(destination)
    return written
