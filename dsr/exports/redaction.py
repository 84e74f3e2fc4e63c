"""Redaction of a system's records before they go into an access package.

Two kinds of field, both declared per system in the inventory (``System.never_disclose`` and
``System.third_party_fields``):

* **never disclose**: the business holds the field but must not hand it out — Social Security,
  government-ID, financial-account and medical-ID numbers, passwords, security questions, biometric
  data (11 CCR §7024(d)). The value is replaced by a notice and the cover letter lists the field as
  "held, not disclosed".
* **another person's data**: a copy must not adversely affect the rights of others (GDPR Art. 15(4)),
  e.g. a gift recipient's name. The value is replaced by a notice and the cover letter says so.

A field that is empty (``None`` or ``""``) is left alone: nothing is held, so nothing is withheld.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext_lazy as _

#: The notices that replace a withheld value, in the request's language (the package is spooled
#: under ``translation.override(request.language)``); the cover letter quotes them.
NOT_DISCLOSED = _("[held, not disclosed]")
THIRD_PARTY = _("[removed: another person's data]")


@dataclass(frozen=True)
class Withheld:
    """One field of one table that was withheld from the package, and how often."""

    category: str
    field: str
    kind: str  # a NEVER_DISCLOSE_KINDS key, or "third_party"
    count: int


@dataclass
class Redactor:
    """Applies one system's redaction rules and counts what it withheld."""

    never_disclose: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    third_party: Mapping[str, list[str]] = field(default_factory=dict)
    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    @classmethod
    def for_system(cls, system: Any) -> Redactor:
        return cls(never_disclose=system.never_disclose or {}, third_party=system.third_party_fields or {})

    def apply(self, category: str, data: dict[str, Any]) -> dict[str, Any]:
        """``data`` with the category's protected fields replaced (a new dict when anything changed)."""
        hidden = self.never_disclose.get(category)
        others = self.third_party.get(category)
        if not hidden and not others:
            return data
        result = dict(data)
        not_disclosed, third_party = str(NOT_DISCLOSED), str(THIRD_PARTY)
        for name, kind in (hidden or {}).items():
            if result.get(name) not in (None, ""):
                result[name] = not_disclosed
                self.counts[(category, name, kind)] += 1
        for name in others or ():
            if result.get(name) not in (None, ""):
                result[name] = third_party
                self.counts[(category, name, "third_party")] += 1
        return result

    def withheld(self) -> list[Withheld]:
        """What was withheld, sorted by table and field."""
        return [
            Withheld(category=category, field=name, kind=kind, count=count)
            for (category, name, kind), count in sorted(self.counts.items())
        ]
