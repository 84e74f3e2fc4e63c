"""CSV cells that a spreadsheet program cannot run: the one guard of every CSV DSR Hub writes.

A cell that starts with ``=``, ``+``, ``-`` or ``@`` is a formula to Excel, LibreOffice and Google
Sheets (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``); a leading tab or carriage return lets one
slip past the first character. Such a text cell gets a leading ``'``, which spreadsheets read as
"this is text" (OWASP, "CSV Injection"). Numbers stay numbers: ``-3`` as an int is not text.
The access package's README.txt tells the person about the ``'`` (templates/exports/README.txt).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell_safe(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_row_safe(values: Iterable[Any]) -> list[Any]:
    """Every cell of a row through ``csv_cell_safe``, for ``csv.writer().writerow``."""
    return [csv_cell_safe(value) for value in values]
