"""Households (KK) as flat numpy arrays, and their CSV form.

650,000 KK are held column-wise: a Python object per KK would cost ~200 bytes each and make every
later step loop in Python. Personal data rule: nothing here ever puts a row's contents in a
message; errors name the file, the row number and the column, and at most the kk_id.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ektp_opt.errors import InputError
from ektp_opt.inputs.admin import AdminData
from ektp_opt.inputs.csvread import iter_rows, parse_int
from ektp_opt.inputs.ids import is_id
from ektp_opt.safety.atomic import write_text_atomic

MAX_MEMBERS = 30  # the largest KK we accept; a real KK card rarely lists more than 15 adults
COLUMNS = ("kk_id", "kelurahan_code", "members", "lingkungan", "needs_home_visit")


@dataclass(frozen=True)
class Households:
    kk_id: npt.NDArray[np.str_]
    kelurahan: npt.NDArray[np.int32]  # index into AdminData.kelurahan
    members: npt.NDArray[np.int32]
    lingkungan: npt.NDArray[np.int32]  # 0 when the input has none
    home_visit: npt.NDArray[np.bool_]
    sha256: str

    def __len__(self) -> int:
        return int(self.kk_id.shape[0])

    @property
    def residents(self) -> int:
        return int(self.members.sum())

    def residents_per_kelurahan(self, n_kelurahan: int) -> npt.NDArray[np.int64]:
        return np.bincount(self.kelurahan, weights=self.members, minlength=n_kelurahan).astype(np.int64)


def _parse_bool(path: Path, row: int, value: str) -> bool:
    v = value.lower()
    if v in ("", "0", "false", "no"):
        return False
    if v in ("1", "true", "yes"):
        return True
    raise InputError(path, f"row {row}, column needs_home_visit", f"{value!r} is not 0/1")


def load_households_csv(path: Path, admin: AdminData) -> Households:
    """Read ``kk_id,kelurahan_code,members[,lingkungan][,needs_home_visit]`` strictly."""
    kel_index = admin.kelurahan_index()
    ids: list[str] = []
    kel: list[int] = []
    members: list[int] = []
    ling: list[int] = []
    visit: list[bool] = []
    first_row: dict[str, int] = {}
    for row_no, row in iter_rows(path, ["kk_id", "kelurahan_code", "members"], ["lingkungan", "needs_home_visit"]):
        kk = row["kk_id"]
        if len(kk) > 32 or not is_id(kk):
            raise InputError(
                path,
                f"row {row_no}, column kk_id",
                "kk_id must be 1-32 letters, digits, '-' or '.', starting alphanumeric",
            )
        if kk in first_row:
            raise InputError(
                path,
                f"row {row_no}, column kk_id",
                f"duplicate kk_id {kk} (first on row {first_row[kk]})",
            )
        first_row[kk] = row_no
        code = row["kelurahan_code"]
        if code not in kel_index:
            shown = code if len(code) <= 20 else code[:20] + "…"
            raise InputError(path, f"row {row_no}, column kelurahan_code", f"unknown kelurahan {shown!r}")
        ids.append(kk)
        kel.append(kel_index[code])
        members.append(parse_int(path, row_no, "members", row["members"], 1, MAX_MEMBERS))
        lv = row.get("lingkungan", "")
        ling.append(0 if lv == "" else parse_int(path, row_no, "lingkungan", lv, 0, 10_000))
        visit.append(_parse_bool(path, row_no, row.get("needs_home_visit", "")))
    if not ids:
        raise InputError(path, None, "no household rows")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Households(
        kk_id=np.array(ids),
        kelurahan=np.array(kel, dtype=np.int32),
        members=np.array(members, dtype=np.int32),
        lingkungan=np.array(ling, dtype=np.int32),
        home_visit=np.array(visit, dtype=np.bool_),
        sha256=digest,
    )


def households_csv_text(h: Households, admin: AdminData) -> str:
    codes = np.array([k.code for k in admin.kelurahan])[h.kelurahan]
    buf = io.StringIO()
    buf.write(",".join(COLUMNS) + "\n")
    lines = (
        f"{a},{b},{c},{d},{int(e)}"
        for a, b, c, d, e in zip(
            h.kk_id.tolist(),
            codes.tolist(),
            h.members.tolist(),
            h.lingkungan.tolist(),
            h.home_visit.tolist(),
            strict=True,
        )
    )
    buf.write("\n".join(lines))
    buf.write("\n")
    return buf.getvalue()


def write_households_csv(h: Households, admin: AdminData, path: Path) -> None:
    write_text_atomic(path, households_csv_text(h, admin))
