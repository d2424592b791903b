"""Strict CSV reading shared by every loader: one place that turns bad bytes, missing columns and
bad cells into an ``InputError`` naming the file, the row and the column."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

from ektp_opt.errors import InputError


def read_text(path: Path) -> str:
    """Read a UTF-8 file, or fail naming the file and the byte offset of the first bad byte."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, None, "file not found") from None
    except IsADirectoryError:
        raise InputError(path, None, "is a folder, expected a file") from None
    except OSError as exc:
        raise InputError(path, None, f"cannot read ({exc.strerror})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(path, f"line {line}", "not valid UTF-8 text") from None


def iter_rows(
    path: Path, required: Sequence[str], optional: Sequence[str] = ()
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(row_number, row)`` with row numbers as a spreadsheet shows them (header = 1).

    Fails on an empty file, a missing required column, an unknown column, or a row with the wrong
    number of cells (a truncated file usually ends in one).
    """
    text = read_text(path)
    if not text.strip():
        raise InputError(path, None, "file is empty, expected a header row")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except csv.Error as exc:
        raise InputError(path, "row 1", f"malformed CSV ({exc})") from None
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(path, "header", f"missing column(s): {', '.join(missing)}")
    allowed = set(required) | set(optional)
    unknown = [c for c in header if c not in allowed]
    if unknown:
        raise InputError(path, "header", f"unknown column(s): {', '.join(unknown)}")
    if len(set(header)) != len(header):
        raise InputError(path, "header", "a column name appears twice")
    width = len(header)
    row_no = 1
    try:
        for cells in reader:
            row_no += 1
            if not cells:
                continue
            if len(cells) != width:
                raise InputError(
                    path, f"row {row_no}", f"has {len(cells)} cells, the header has {width}"
                )
            yield row_no, dict(zip(header, (c.strip() for c in cells), strict=True))
    except csv.Error as exc:
        raise InputError(path, f"row {row_no + 1}", f"malformed CSV ({exc})") from None


def parse_int(path: Path, row: int, column: str, value: str, lo: int, hi: int) -> int:
    """An integer cell within ``[lo, hi]``."""
    try:
        number = int(value)
    except ValueError:
        raise InputError(path, f"row {row}, column {column}", f"{value!r} is not an integer") from None
    if not lo <= number <= hi:
        raise InputError(
            path, f"row {row}, column {column}", f"{number} is outside the range {lo}..{hi}"
        )
    return number


def parse_float(path: Path, row: int, column: str, value: str, lo: float, hi: float) -> float:
    """A finite number cell within ``[lo, hi]``."""
    try:
        number = float(value)
    except ValueError:
        raise InputError(path, f"row {row}, column {column}", f"{value!r} is not a number") from None
    if not lo <= number <= hi:  # also rejects nan
        raise InputError(
            path, f"row {row}, column {column}", f"{value} is outside the range {lo}..{hi}"
        )
    return number
