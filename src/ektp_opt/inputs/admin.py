"""Administrative geography: kecamatan (one enrolment office each) and their kelurahan."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from ektp_opt.errors import InputError
from ektp_opt.inputs.csvread import iter_rows, parse_float

KECAMATAN_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")
KELURAHAN_CODE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")


@dataclass(frozen=True)
class Kecamatan:
    code: str
    name: str
    weight: float  # relative population weight, used only by the synthetic generator
    lat: float
    lon: float


@dataclass(frozen=True)
class Kelurahan:
    code: str
    kecamatan_code: str
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class AdminData:
    """Kecamatan and kelurahan in file order; kelurahan grouped under their kecamatan."""

    kecamatan: tuple[Kecamatan, ...]
    kelurahan: tuple[Kelurahan, ...]

    def kecamatan_index(self) -> dict[str, int]:
        return {k.code: i for i, k in enumerate(self.kecamatan)}

    def kelurahan_index(self) -> dict[str, int]:
        return {k.code: i for i, k in enumerate(self.kelurahan)}


def load_kecamatan(path: Path) -> tuple[Kecamatan, ...]:
    rows: list[Kecamatan] = []
    seen: set[str] = set()
    for row_no, row in iter_rows(
        path,
        ["code", "name", "lat", "lon"],
        ["population_2013", "weight", "kelurahan_count", "area_km2", "population_source"],
    ):
        # The generator's relative weight: Medan's 2013 population, or any other weight (the
        # national cities use their desa/kelurahan counts, having no kecamatan population).
        weight_column = "population_2013" if "population_2013" in row else "weight"
        if weight_column not in row or ("population_2013" in row and "weight" in row):
            raise InputError(path, "header", "needs exactly one of the columns population_2013 or weight")
        code = row["code"]
        if not KECAMATAN_CODE.match(code):
            raise InputError(path, f"row {row_no}, column code", f"{code!r} is not like 12.71.07")
        if code in seen:
            raise InputError(path, f"row {row_no}, column code", f"duplicate kecamatan {code}")
        seen.add(code)
        rows.append(
            Kecamatan(
                code=code,
                name=row["name"] or code,
                weight=parse_float(path, row_no, weight_column, row[weight_column], 0, 1e9),
                lat=parse_float(path, row_no, "lat", row["lat"], -90, 90),
                lon=parse_float(path, row_no, "lon", row["lon"], -180, 180),
            )
        )
    if not rows:
        raise InputError(path, None, "no kecamatan rows")
    return tuple(rows)


def load_kelurahan(path: Path, kecamatan: tuple[Kecamatan, ...]) -> tuple[Kelurahan, ...]:
    known = {k.code for k in kecamatan}
    rows: list[Kelurahan] = []
    seen: set[str] = set()
    for row_no, row in iter_rows(path, ["code", "kecamatan_code", "name", "lat", "lon"], ["kecamatan"]):
        code, kec = row["code"], row["kecamatan_code"]
        if not KELURAHAN_CODE.match(code):
            raise InputError(path, f"row {row_no}, column code", f"{code!r} is not like 12.71.07.1001")
        if code in seen:
            raise InputError(path, f"row {row_no}, column code", f"duplicate kelurahan {code}")
        if kec not in known:
            raise InputError(path, f"row {row_no}, column kecamatan_code", f"unknown kecamatan {kec}")
        if not code.startswith(kec + "."):
            raise InputError(path, f"row {row_no}, column code", f"{code} is not inside {kec}")
        seen.add(code)
        rows.append(
            Kelurahan(
                code=code,
                kecamatan_code=kec,
                name=row["name"] or code,
                lat=parse_float(path, row_no, "lat", row["lat"], -90, 90),
                lon=parse_float(path, row_no, "lon", row["lon"], -180, 180),
            )
        )
    without = known - {k.kecamatan_code for k in rows}
    if without:
        raise InputError(path, None, f"kecamatan without kelurahan: {', '.join(sorted(without))}")
    order = {k.code: i for i, k in enumerate(kecamatan)}
    rows.sort(key=lambda k: (order[k.kecamatan_code], k.code))
    return tuple(rows)


def load_admin(kecamatan_csv: Path, kelurahan_csv: Path) -> AdminData:
    kec = load_kecamatan(kecamatan_csv)
    return AdminData(kecamatan=kec, kelurahan=load_kelurahan(kelurahan_csv, kec))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance; centroids are close enough that this is within metres of geodesic."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))
