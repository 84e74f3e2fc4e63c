"""Building SOQL safely.

The REST query resource takes a whole SOQL string: there is no way to bind a parameter. So every
value goes through :func:`quote` (which escapes the two characters that can end or bend a string
literal, ``'`` and ``\\``) and every object or field name must pass :func:`identifier`, which accepts
only the shape of a Salesforce API name (letters, digits, single underscores, an optional ``__c``
or ``__r``-style suffix) - never whitespace, quotes, commas or operators.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# API names: start with a letter, then letters/digits/single underscores; custom names end in __c
# (objects and fields), __mdt, __e ... and may carry a managed-package namespace prefix (ns__Name__c).
_IDENTIFIER = re.compile(
    r"^(?:[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*__)?[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*(?:__[a-z]+)?$"
)

# SOQL string literals: backslash escapes. ' and \ are the ones that matter for injection; the
# others keep control characters from producing a malformed query.
_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    '"': '\\"',
}

MAX_IDENTIFIER_LENGTH = 80


class SOQLError(ValueError):
    """An identifier or value cannot be placed in a SOQL statement."""


def quote(value: str) -> str:
    """Return ``value`` as a SOQL string literal, quotes included: ``o'brien`` -> ``'o\\'brien'``."""
    return "'" + "".join(_ESCAPES.get(ch, ch) for ch in value) + "'"


def identifier(name: str) -> str:
    """Return ``name`` unchanged if it is a valid object or field API name, else raise ``SOQLError``."""
    if not isinstance(name, str) or len(name) > MAX_IDENTIFIER_LENGTH or not _IDENTIFIER.match(name):
        raise SOQLError(f"{name!r} is not a valid Salesforce API name")
    return name


def select_where_equals(
    sobject: str, fields: Sequence[str], where_field: str, value: str, *, limit: int | None = None
) -> str:
    """``SELECT f1, f2 FROM Obj WHERE Field = 'value'`` with every part validated or escaped.

    SOQL's ``=`` on text fields is case-insensitive, which is what a DSR wants: ``Jane@X.com`` and
    ``jane@x.com`` are the same person.
    """
    columns = _columns(fields)
    # Not injectable: names pass identifier(), the value goes through quote().
    soql = f"SELECT {columns} FROM {identifier(sobject)} WHERE {identifier(where_field)} = {quote(value)}"  # noqa: S608
    if limit is not None:
        soql += f" LIMIT {int(limit)}"
    return soql


def select_limit(sobject: str, fields: Sequence[str], limit: int) -> str:
    """``SELECT f FROM Obj LIMIT n`` (no literal at all): a cheap probe of access to ``Obj``."""
    return f"SELECT {_columns(fields)} FROM {identifier(sobject)} LIMIT {int(limit)}"  # noqa: S608


def select_where_in(sobject: str, fields: Sequence[str], where_field: str, values: Iterable[str]) -> str:
    """``SELECT ... FROM Obj WHERE Field IN ('a', 'b')`` for set-based lookups."""
    literals = ", ".join(quote(v) for v in values)
    if not literals:
        raise SOQLError("an IN list needs at least one value")
    columns, table, column = _columns(fields), identifier(sobject), identifier(where_field)
    return f"SELECT {columns} FROM {table} WHERE {column} IN ({literals})"  # noqa: S608 (validated, quoted)


def _columns(fields: Sequence[str]) -> str:
    if not fields:
        raise SOQLError("a query needs at least one field")
    seen: list[str] = []
    for name in fields:
        identifier(name)
        if name.lower() not in (s.lower() for s in seen):
            seen.append(name)
    return ", ".join(seen)
