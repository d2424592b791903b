"""Strict CSV reading shared by every loader: one place that turns bad bytes, missing columns and
bad cells into an ``InputError`` naming the file, the row and the column.

A file may be gzip-compressed (told by its first two bytes, whatever its name): an office sends a
month of enrolments as ``enrolments.csv.gz``; it is read as the text inside, never more than
``MAX_INPUT_BYTES`` of it (a small file that unpacks to terabytes is refused)."""

from __future__ import annotations

import csv
import io
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ektp_opt.errors import InputError

MAX_INPUT_BYTES = 2 * 1024**3  # 2 GiB: a households file of 50 M KK; /dev/zero is refused at once
GZIP_MAGIC = b"\x1f\x8b"


def _gunzip(path: Path, raw: bytes) -> bytes:
    """The bytes inside a gzip file, at most MAX_INPUT_BYTES of them."""
    import gzip
    import zlib

    out = bytearray()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as z:
            while chunk := z.read(1 << 20):
                out += chunk
                if len(out) > MAX_INPUT_BYTES:
                    raise InputError(path, None, "unpacks to more than an input file can be")
    except (OSError, EOFError, zlib.error):
        raise InputError(path, None, "not a valid gzip file (it starts like one)") from None
    return bytes(out)


def read_text(path: Path) -> str:
    """Read a UTF-8 file, or fail naming the file and the byte offset of the first bad byte.

    Only regular files: a FIFO would hang and ``/dev/zero`` would read until memory runs out."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(path, None, "file not found") from None
    except OSError as exc:
        raise InputError(path, None, f"cannot read ({exc.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(path, None, "is a folder, expected a file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(path, None, "is not a regular file (a device, a pipe or a socket)")
    if st.st_size > MAX_INPUT_BYTES:
        raise InputError(path, None, f"is {st.st_size / 1024**3:.1f} GiB, more than an input file can be")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(path, None, "file not found") from None
    except IsADirectoryError:
        raise InputError(path, None, "is a folder, expected a file") from None
    except OSError as exc:
        raise InputError(path, None, f"cannot read ({exc.strerror})") from None
    if raw[:2] == GZIP_MAGIC:
        raw = _gunzip(path, raw)
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
                raise InputError(path, f"row {row_no}", f"has {len(cells)} cells, the header has {width}")
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
        raise InputError(path, f"row {row}, column {column}", f"{number} is outside the range {lo}..{hi}")
    return number


def parse_float(path: Path, row: int, column: str, value: str, lo: float, hi: float) -> float:
    """A finite number cell within ``[lo, hi]``."""
    try:
        number = float(value)
    except ValueError:
        raise InputError(path, f"row {row}, column {column}", f"{value!r} is not a number") from None
    if not lo <= number <= hi:  # also rejects nan
        raise InputError(path, f"row {row}, column {column}", f"{value} is outside the range {lo}..{hi}")
    return number


def read_columns(path: Path, required: Sequence[str]) -> dict[str, list[str]]:
    """Column-wise read for big files (a 650 k-row plan): same checks as ``iter_rows``, but the
    rows are transposed in C rather than turned into one dict each."""
    text = read_text(path)
    if not text.strip():
        raise InputError(path, None, "file is empty, expected a header row")
    fast = _split_plain(text, required)
    if fast is not None:
        return _short_fields(path, fast)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise InputError(path, None, f"malformed CSV ({exc})") from None
    header = [h.strip() for h in rows[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(path, "header", f"missing column(s): {', '.join(missing)}")
    unknown = [c for c in header if c not in required]
    if unknown:
        raise InputError(path, "header", f"unknown column(s): {', '.join(unknown)}")
    body = [r for r in rows[1:] if r]
    width = len(header)
    if any(len(r) != width for r in body):
        bad = next(i for i, r in enumerate(rows) if r and len(r) != width)
        raise InputError(path, f"row {bad + 1}", f"has {len(rows[bad])} cells, the header has {width}")
    columns = list(zip(*body, strict=True)) if body else [() for _ in header]
    return _short_fields(path, {name: list(col) for name, col in zip(header, columns, strict=True)})


MAX_FIELD_CHARS = 10_000  # no cell of any input is near this (an id is 32 at most, a name ~100)


def _short_fields(path: Path, columns: dict[str, list[str]]) -> dict[str, list[str]]:
    """Refuse a cell longer than MAX_FIELD_CHARS, naming its row and column: a 10 MB id would
    otherwise become a numpy string column of 10 MB a row (out of memory), not an answer."""
    for name, col in columns.items():
        if col and max(map(len, col)) > MAX_FIELD_CHARS:
            i = next(i for i, v in enumerate(col) if len(v) > MAX_FIELD_CHARS)
            raise InputError(
                path, f"row {i + 2}, column {name}", f"is {len(col[i]):,} characters long; at most {MAX_FIELD_CHARS:,}"
            )
    return columns


def _split_plain(text: str, required: Sequence[str]) -> dict[str, list[str]] | None:
    """The columns of a CSV with no quoting and "\\n" line ends (what ektp-opt writes), split in
    C rather than by the csv module: 650 k rows in a fraction of a second. None when the text is
    anything else, or irregular; the careful path then reads it and names the bad row."""
    if '"' in text or "\r" in text:
        return None
    lines = text.split("\n")
    header = [h.strip() for h in lines[0].split(",")]
    if list(header) != list(required):
        return None
    body = [line for line in lines[1:] if line]
    width = len(header)
    flat = ",".join(body).split(",")
    if len(flat) != len(body) * width:
        return None
    return {name: flat[i::width] for i, name in enumerate(header)}


def factorize(values: Sequence[str]) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.int64]]:
    """A column with few distinct values (a kecamatan, a device) as its distinct values, in order
    of first appearance, and each row's index into them: one dict pass, no sort of the strings."""
    labels = list(dict.fromkeys(values))
    number = {label: i for i, label in enumerate(labels)}
    codes = np.fromiter(map(number.__getitem__, values), dtype=np.int64, count=len(values))
    return np.array(labels, dtype=str), codes


def int_column(path: Path, column: str, values: list[str], lo: int, hi: int) -> np.ndarray:
    """Parse a whole column of integers; on a bad cell, name its row (header = row 1)."""
    import numpy as np

    try:
        arr = np.array(values, dtype=np.int64)
    except (ValueError, OverflowError):
        for i, v in enumerate(values):
            parse_int(path, i + 2, column, v.strip(), lo, hi)
        raise
    bad = np.flatnonzero((arr < lo) | (arr > hi))
    if bad.size:
        parse_int(path, int(bad[0]) + 2, column, values[int(bad[0])], lo, hi)
    return arr


def date_column(path: Path, column: str, values: list[str]) -> np.ndarray:
    """Parse a whole column of ISO dates; on a bad cell, name its row. A plan has a few hundred
    distinct dates in 650 k rows: each is parsed once."""
    labels, codes = factorize(values)
    try:
        parsed = _dates(path, column, labels.tolist())
    except InputError:
        _dates(path, column, values)  # names the first bad row
        raise
    return parsed[codes] if len(parsed) else np.zeros(0, dtype="datetime64[D]")


def _dates(path: Path, column: str, values: list[str]) -> np.ndarray:
    try:
        arr = np.array(values, dtype="datetime64[D]")
    except ValueError:
        for i, v in enumerate(values):
            try:
                np.datetime64(v, "D")
            except ValueError:
                raise InputError(path, f"row {i + 2}, column {column}", f"{v!r} is not an ISO date") from None
        raise
    # '' parses as NaT and '0000-01-01' as a date no calendar here can hold: both are bad cells.
    bad = np.flatnonzero(np.isnat(arr) | (arr < np.datetime64("1900-01-01")) | (arr > np.datetime64("2200-12-31")))
    if bad.size:
        i = int(bad[0])
        raise InputError(path, f"row {i + 2}, column {column}", f"{values[i]!r} is not an ISO date (1900..2200)")
    return arr
