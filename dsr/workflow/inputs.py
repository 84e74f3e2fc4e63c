"""Checks on untrusted input that every face runs before anything else uses the value.

They exist because some values break code far from where they enter: a JSON document nested a
thousand levels deep overflows the recursion of whatever walks it next (a parser, a serializer, the
audit log's encoder); an e-mail address with a lone surrogate cannot be encoded, so hashing it for
the blind index or a throttle raises; an internationalised domain that has no IDNA form cannot be
written into an SMTP envelope, so the code e-mail could never be sent. Each check answers with a
message a person can act on (SECURITY.md, "Input bounds").
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.core.mail.message import sanitize_address

# Deepest nesting accepted in any JSON we parse (API bodies, uploaded data.json). Real documents
# stay far below; the limit keeps every later walk of the value well inside Python's recursion.
MAX_JSON_DEPTH = 64

# Bounds of the database columns integers are stored in (PostgreSQL int4 and int8).
INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1


class InputRejected(ValueError):
    """A value we refuse; ``str(exc)`` is the message for the person."""


def _refuse_constant(name: str) -> float:
    raise InputRejected(f"{name} is not a JSON number; write the value as a string or null.")


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` (parsed JSON) nests deeper than ``limit``; iterative, so any depth is safe."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def json_parse(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse strict JSON: no ``NaN``/``Infinity`` (they are not JSON, RFC 8259 §6, and would make
    any document we write from the value invalid), no nesting deeper than ``max_depth``.

    Raises ``InputRejected`` with a message for every refusal, including malformed JSON.
    """
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except InputRejected:
        raise
    except RecursionError:
        raise InputRejected(f"The JSON is nested more than {max_depth} levels deep.") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise InputRejected(f"Not valid JSON: {exc}") from None
    if json_depth_exceeds(value, max_depth):
        raise InputRejected(f"The JSON is nested more than {max_depth} levels deep.")
    if _has_non_finite(value):  # 1e999 parses to inf without passing through parse_constant
        raise InputRejected("A number is too large to store; write it as a string.")
    return value


def _has_non_finite(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def email_problem(email: str) -> str | None:
    """Why ``email`` cannot be used as a request's address, or None when it can.

    Refused: text that is not encodable as UTF-8 (a lone surrogate), and an address that cannot be
    put into an SMTP envelope as Django sends it (an internationalised domain without an IDNA
    encoding, e.g. a label longer than 63 characters once encoded), since the person could never
    receive their code. Syntax is the form or serializer's ``EmailField``'s business.
    """
    try:
        email.encode("utf-8")
    except UnicodeEncodeError:
        return "Enter a valid e-mail address (it holds a character that is not text)."
    if "@" not in email:
        return None  # the EmailField says what is wrong
    try:
        sanitize_address(email, "utf-8")
    except (ValueError, UnicodeError, IndexError):
        return "We cannot deliver e-mail to this address: its domain has no valid international form."
    return None
