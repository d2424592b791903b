"""Writing CSV for people: the csv module's quoting (a name with a comma, a quote or a newline
stays one cell) and no cell a spreadsheet would run as a formula.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is what Excel,
LibreOffice and Google Sheets treat as a formula (OWASP "CSV injection"); such a text cell gets a
leading apostrophe, which the spreadsheet shows as text. Numbers are written as numbers. Ids are
validated where they are read (``ids.py``), so a kk_id or device_id never needs this.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return buf.getvalue()
