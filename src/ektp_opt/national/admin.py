"""Indonesia's administrative tables (data/indonesia, see its SOURCES.md): provinces, kab/kota
with their 2010 census population and e-KTP phase, kecamatan and desa/kelurahan.

A kab/kota formed after the 2010 census has no population of its own; its parent's 2010 figure
covers both, and is shared between them by desa/kelurahan count (``effective_population``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ektp_opt.errors import InputError
from ektp_opt.inputs.csvread import iter_rows, parse_float, parse_int

PACKAGED = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class KabKota:
    code: str
    name: str
    province: str
    population_2010: int | None
    phase: int | None  # 2011, 2012, or None when no source named it
    desa: int  # desa/kelurahan count
    parent: str | None  # for a kab/kota formed after 2010: the one its territory came from


@dataclass(frozen=True)
class NationalKecamatan:
    code: str
    kabkota: str
    name: str
    desa: int
    lat: float
    lon: float


@dataclass(frozen=True)
class Desa:
    code: str
    kecamatan: str
    name: str


@dataclass(frozen=True)
class NationalAdmin:
    folder: Path
    provinces: dict[str, str]
    kabkota: tuple[KabKota, ...]
    kecamatan: tuple[NationalKecamatan, ...]
    desa: tuple[Desa, ...]

    @cached_property
    def kabkota_by_code(self) -> dict[str, KabKota]:
        return {k.code: k for k in self.kabkota}

    @cached_property
    def kecamatan_of(self) -> dict[str, list[NationalKecamatan]]:
        out: dict[str, list[NationalKecamatan]] = {k.code: [] for k in self.kabkota}
        for kec in self.kecamatan:
            out[kec.kabkota].append(kec)
        return out

    @cached_property
    def desa_of(self) -> dict[str, list[Desa]]:
        out: dict[str, list[Desa]] = {k.code: [] for k in self.kecamatan}
        for d in self.desa:
            out[d.kecamatan].append(d)
        return out

    def effective_population(self) -> dict[str, float]:
        """2010 population per kab/kota, a parent's figure shared with the kab/kota formed from it
        in proportion to their desa/kelurahan counts."""
        children: dict[str, list[KabKota]] = {}
        for k in self.kabkota:
            if k.parent is not None:
                children.setdefault(k.parent, []).append(k)
        out: dict[str, float] = {}
        for k in self.kabkota:
            if k.parent is not None:
                continue
            family = [k, *children.get(k.code, [])]
            desa = sum(m.desa for m in family)
            for m in family:
                out[m.code] = (k.population_2010 or 0) * m.desa / desa if desa else 0.0
        return out


def admin_folder(name: str, relative_to: Path) -> Path:
    """A packaged admin data set by name (``indonesia``), else a folder next to the scenario."""
    packaged = PACKAGED / name
    if "/" not in name and packaged.is_dir():
        return packaged
    return relative_to / name


def load_national_admin(folder: Path) -> NationalAdmin:
    provinces = {
        row["code"]: row["name"] for _n, row in iter_rows(folder / "provinsi.csv", ["code", "name"], ["lat", "lon"])
    }
    parents = {
        row["code"]: row["parent_code"]
        for _n, row in iter_rows(folder / "formed_after_2010.csv", ["code", "parent_code"])
    }
    path = folder / "kabkota.csv"
    kabkota = []
    for n, row in iter_rows(
        path,
        ["code", "name", "province_code", "desa_kelurahan_count", "population_2010", "ektp_phase"],
        ["kind", "kecamatan_count", "population_source", "lat", "lon"],
    ):
        if row["province_code"] not in provinces:
            raise InputError(path, f"row {n}, column province_code", f"unknown province {row['province_code']}")
        population = (
            parse_int(path, n, "population_2010", row["population_2010"], 0, 10**9) if row["population_2010"] else None
        )
        if population is None and row["code"] not in parents:
            raise InputError(path, f"row {n}, column population_2010", "empty, and no parent in formed_after_2010.csv")
        kabkota.append(
            KabKota(
                code=row["code"],
                name=row["name"],
                province=row["province_code"],
                population_2010=population,
                phase=parse_int(path, n, "ektp_phase", row["ektp_phase"], 2011, 2012) if row["ektp_phase"] else None,
                desa=parse_int(path, n, "desa_kelurahan_count", row["desa_kelurahan_count"], 0, 10**6),
                parent=parents.get(row["code"]),
            )
        )
    known = {k.code for k in kabkota}
    path = folder / "kecamatan.csv"
    kecamatan = []
    for n, row in iter_rows(
        path, ["code", "kabkota_code", "name", "desa_kelurahan_count", "lat", "lon"], ["centroid_source"]
    ):
        if row["kabkota_code"] not in known:
            raise InputError(path, f"row {n}, column kabkota_code", f"unknown kab/kota {row['kabkota_code']}")
        kecamatan.append(
            NationalKecamatan(
                code=row["code"],
                kabkota=row["kabkota_code"],
                name=row["name"],
                desa=parse_int(path, n, "desa_kelurahan_count", row["desa_kelurahan_count"], 0, 10**5),
                lat=parse_float(path, n, "lat", row["lat"], -90, 90),
                lon=parse_float(path, n, "lon", row["lon"], -180, 180),
            )
        )
    known_kec = {k.code for k in kecamatan}
    path = folder / "kelurahan.csv"
    desa = []
    for n, row in iter_rows(path, ["code", "kecamatan_code", "name"], ["kind"]):
        if row["kecamatan_code"] not in known_kec:
            raise InputError(path, f"row {n}, column kecamatan_code", f"unknown kecamatan {row['kecamatan_code']}")
        desa.append(Desa(row["code"], row["kecamatan_code"], row["name"]))
    return NationalAdmin(folder, provinces, tuple(kabkota), tuple(kecamatan), tuple(desa))
