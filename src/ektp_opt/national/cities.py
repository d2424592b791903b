"""Each kab/kota of a national scenario as a city scenario of its own: the same calendar, device
and backlog rules, its kecamatan and desa/kelurahan, a generated population of its residents, and
as deliveries the fixed allotment plus the wave devices the master plan gave each kecamatan.

The files are ordinary city inputs (city.toml, kecamatan.csv, kelurahan.csv), so every city plan
is an ordinary plan folder that ``ektp-opt verify`` checks as it is.

Desa/kelurahan have no centroids in the national data: each takes its kecamatan's (overflow is
off in national cities, so no distance is ever computed from them). Kecamatan have no population
either: the generator spreads a city's families over its kecamatan by desa/kelurahan count.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ektp_opt.inputs.admin import AdminData, Kecamatan, Kelurahan
from ektp_opt.inputs.generate import kecamatan_shares
from ektp_opt.inputs.scenario.model import GeneratorSpec
from ektp_opt.national.scenario import LoadedNational
from ektp_opt.safety.csvwrite import csv_text

CITY_TOML = "city.toml"
KECAMATAN_CSV = "kecamatan.csv"
KELURAHAN_CSV = "kelurahan.csv"


@dataclass(frozen=True)
class City:
    """One kab/kota's inputs, before the master plan gives it devices."""

    code: str
    name: str
    province: str
    spec: GeneratorSpec
    admin: AdminData
    residents: npt.NDArray[np.int64]  # per kecamatan, as the generator will make them

    @property
    def kecamatan(self) -> list[str]:
        return [k.code for k in self.admin.kecamatan]


def city_seed(seed: int, code: str) -> int:
    """A seed per kab/kota from the national seed: the same city, the same families, in any run."""
    digest = hashlib.blake2b(f"{seed}:{code}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & (2**31 - 1)


def make_city(ln: LoadedNational, code: str) -> City:
    kk = ln.admin.kabkota_by_code[code]
    residents, households = ln.residents[code], ln.households(code)
    kecamatan = tuple(
        Kecamatan(code=k.code, name=k.name, weight=float(k.desa), lat=k.lat, lon=k.lon)
        for k in ln.admin.kecamatan_of[code]
    )
    kelurahan = tuple(
        Kelurahan(code=d.code, kecamatan_code=k.code, name=d.name, lat=k.lat, lon=k.lon)
        for k in kecamatan
        for d in ln.admin.desa_of[k.code]
    )
    admin = AdminData(kecamatan=kecamatan, kelurahan=kelurahan)
    spec = GeneratorSpec(seed=city_seed(ln.scenario.seed, code), residents=residents, households=households)
    _kk, per_kec = kecamatan_shares(spec, admin)
    return City(code, kk.name, kk.province, spec, admin, per_kec)


def _toml_date_list(days: list[dt.date]) -> str:
    return "[" + ", ".join(d.isoformat() for d in days) + "]"


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def city_files(ln: LoadedNational, city: City, waves: dict[str, list[int]]) -> dict[str, str]:
    """The city's input files; ``waves[kecamatan][w]`` is how many devices of wave w it gets."""
    sc = ln.scenario
    lines = [
        f"# {city.name} ({city.code}) in the national scenario {sc.name}; written by ektp-opt national plan.",
        f"name = {_toml_string(f'{sc.name}-{city.code}')}",
        f"city = {_toml_string(city.name)}",
        f"start = {sc.start.isoformat()}",
        f"deadline = {sc.deadline.isoformat()}",
        f"shifts_per_day = {sc.shifts_per_day}",
        "overflow_km = 0.0",
        f'kecamatan = "{KECAMATAN_CSV}"',
        f'kelurahan = "{KELURAHAN_CSV}"',
        "",
        "[calendar]",
        "workdays = [" + ", ".join(f'"{d}"' for d in sc.calendar.workdays) + "]",
        f"holidays = {_toml_date_list(sc.calendar.holidays)}",
        f"day_start = {sc.calendar.day_start.isoformat()}",
        f"day_end = {sc.calendar.day_end.isoformat()}",
        "",
        "[device]",
        f"capacity_per_day = {sc.device.capacity_per_day}",
        f"setup_days = {sc.device.setup_days}",
        "",
        "[backlog]",
        f"reserve_per_shift = {sc.backlog.reserve_per_shift}",
        f"catch_up_days = {sc.backlog.catch_up_days}",
        f"late_rate = {sc.backlog.late_rate}",
        "",
        "# The fixed allotment, at its arrival in this province.",
        "[[deliveries]]",
        f"date = {sc.allotment.arrives(city.province).isoformat()}",
        f"per_kecamatan = {sc.allotment.per_kecamatan}",
    ]
    for w, wave in enumerate(sc.waves):
        for kec in city.kecamatan:
            count = waves.get(kec, [0] * len(sc.waves))[w]
            if count:
                lines += [
                    "",
                    f"# wave {w + 1} of the national pool",
                    "[[deliveries]]",
                    f"date = {wave.arrives(city.province).isoformat()}",
                    f'kecamatan = "{kec}"',
                    f"count = {count}",
                ]
    spec = city.spec
    lines += [
        "",
        "[households]",
        f"seed = {spec.seed}",
        f"residents = {spec.residents}",
        f"households = {spec.households}",
        f"home_visit_share = {spec.home_visit_share}",
        "",
    ]
    kec_csv = csv_text(
        ["code", "name", "weight", "lat", "lon", "population_source"],
        [[k.code, k.name, int(k.weight), k.lat, k.lon, "weight = desa/kelurahan count"] for k in city.admin.kecamatan],
    )
    kel_csv = csv_text(
        ["code", "kecamatan_code", "name", "lat", "lon"],
        [[k.code, k.kecamatan_code, k.name, k.lat, k.lon] for k in city.admin.kelurahan],
    )
    return {CITY_TOML: "\n".join(lines), KECAMATAN_CSV: kec_csv, KELURAHAN_CSV: kel_csv}
