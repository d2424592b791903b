"""The households and each plan version's appointments as compressed numpy archives in the store.

Why: ``status``, ``forecast`` and ``replan`` need every household and its appointment in force,
and Medan has 650 k of them. Read as rows, that alone is 1.5 s in SQLite before any figure is
computed; read as one archive per table it is a few hundredths of a second. The rows stay the
truth (``households``, ``appointments``: queryable by any tool) and the archives are copies of
them, written in the same transaction as the rows they copy and never changed afterwards (a plan
version is immutable). ``tests/campaign/test_store.py`` holds the two together.

Layout (numpy's .npz, no pickles): ``format``; per text column ``<name>.values`` (its distinct
values, sorted) and ``<name>.codes`` (int32 positions into them); other columns as they are.
Households are in kk_id order (numpy's, i.e. by code point); a plan's columns are aligned with
them, "" / NaT / 0 where a household has no appointment (a home visit).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import numpy.typing as npt

FORMAT = 1
HOUSEHOLDS = "households"

Columns = dict[str, npt.NDArray[Any]]
Coded = dict[str, tuple[npt.NDArray[np.str_], npt.NDArray[np.intp]]]  # text column -> (values, codes)


def plan_name(version: int) -> str:
    return f"plan-{version}"


def pack(columns: Columns) -> bytes:
    """Columns as one compressed archive (text columns as distinct values and codes)."""
    parts: dict[str, npt.NDArray[Any]] = {"format": np.array(FORMAT)}
    for name, col in columns.items():
        if col.dtype.kind == "U":
            values, codes = np.unique(col, return_inverse=True)
            parts[f"{name}.values"] = values
            parts[f"{name}.codes"] = codes.astype(np.int32)
        else:
            parts[name] = col
    buf = io.BytesIO()
    np.savez_compressed(buf, **parts)  # type: ignore[arg-type]
    return buf.getvalue()


def unpack(blob: bytes, coded: Coded | None = None) -> Columns:
    """The columns of an archive made by :func:`pack` (a format this version does not know:
    ValueError); ``coded`` receives each text column as its distinct values and codes too."""
    with np.load(io.BytesIO(bytes(blob)), allow_pickle=False) as z:
        if "format" not in z.files or int(z["format"]) != FORMAT:
            raise ValueError("an archive of another format")
        out: Columns = {}
        for key in z.files:
            if key.endswith(".codes"):
                name = key[: -len(".codes")]
                values, codes = z[f"{name}.values"], z[key].astype(np.intp)
                out[name] = values[codes]
                if coded is not None:
                    coded[name] = (values, codes)
            elif key != "format" and not key.endswith(".values"):
                out[key] = z[key]
        return out


def households_archive(kk: list[str], kelurahan: list[str], home: list[str], members: list[int]) -> bytes:
    """The households in kk_id order."""
    ids = np.array(kk, dtype=str)
    order = np.argsort(ids, kind="stable")
    return pack(
        {
            "kk": ids[order],
            "kelurahan": np.array(kelurahan, dtype=str)[order],
            "home": np.array(home, dtype=str)[order],
            "members": np.array(members, dtype=np.int64)[order],
        }
    )


def plan_archive(
    households_kk: npt.NDArray[np.str_],
    kk: list[str],
    day: npt.NDArray[np.datetime64],
    shift: list[int],
    device: list[str],
    site: list[str],
) -> bytes:
    """A plan's appointments aligned with the households (``households_kk``, sorted)."""
    n = len(households_kk)
    pos = np.searchsorted(households_kk, np.array(kk, dtype=str))
    appt_day = np.full(n, np.datetime64("NaT", "D"), dtype="datetime64[D]")
    appt_shift = np.zeros(n, dtype=np.int64)
    appt_device = np.full(n, "", dtype=object)
    appt_site = np.full(n, "", dtype=object)
    appt_day[pos] = np.asarray(day, dtype="datetime64[D]")
    appt_shift[pos] = shift
    appt_device[pos] = device
    appt_site[pos] = site
    return pack(
        {
            "day": appt_day,
            "shift": appt_shift,
            "device": appt_device.astype(str),
            "site": appt_site.astype(str),
        }
    )
