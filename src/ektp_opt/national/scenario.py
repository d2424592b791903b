"""A national scenario (TOML): which kab/kota take part, how many residents need an e-KTP, the
calendar, the deadline, the fixed allotment per kecamatan and the national delivery waves whose
devices the master plan splits. Validated whole; the first problem is one line naming the file
and the field, as for a city scenario.

    name = "national-small"
    admin = "indonesia"                # packaged data set, or a folder next to this file
    select = "all"                     # or "phase-2011"; narrowed by provinces / kabkota
    provinces = ["75"]
    residents_national = 172015400     # apportioned over all kab/kota by 2010 population
    residents_per_kk = 3.23
    residents_file = "residents.csv"   # optional: kabkota_code,residents[,households] replacing those
    seed = 2011
    start = 2011-08-01
    deadline = 2011-12-30
    shifts_per_day = 4
    [calendar] / [device] / [backlog]  # as in a city scenario
    [allotment]                        # devices every kecamatan gets
    date = 2011-08-01
    per_kecamatan = 1
    [[waves]]                          # a national delivery, split by the master plan
    date = 2011-09-05
    count = 40
    transit_days = { default = 2, "94" = 10 }   # calendar days from the centre, per province
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ektp_opt.errors import InputError, invalid
from ektp_opt.inputs.calendar import weekday_set, working_days
from ektp_opt.inputs.csvread import iter_rows, parse_int, read_text
from ektp_opt.inputs.scenario.model import BacklogSpec, CalendarSpec, Date, DeviceSpec, Shifts
from ektp_opt.national.admin import KabKota, NationalAdmin, admin_folder, load_national_admin

ProvinceCode = Annotated[str, Field(pattern=r"^(\d{2}|default)$")]
KabKotaCode = Annotated[str, Field(pattern=r"^\d{2}\.\d{2}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Shipment(_Strict):
    date: Date
    transit_days: dict[ProvinceCode, Annotated[int, Field(ge=0, le=365)]] = Field(default_factory=dict)

    def arrives(self, province: str) -> dt.date:
        """When the devices reach a kab/kota of ``province``."""
        days = self.transit_days.get(province, self.transit_days.get("default", 0))
        return self.date + dt.timedelta(days=days)


class Allotment(Shipment):
    per_kecamatan: int = Field(ge=0, le=1_000)


class Wave(Shipment):
    count: int = Field(ge=0, le=10_000_000)


class NationalScenario(_Strict):
    name: str = Field(min_length=1, max_length=200)
    admin: str = Field(default="indonesia", min_length=1)
    select: Literal["all", "phase-2011"] = "all"
    provinces: list[Annotated[str, Field(pattern=r"^\d{2}$")]] | None = None
    kabkota: list[KabKotaCode] | None = None
    residents_national: int = Field(default=172_015_400, gt=0, le=10**9)
    residents_per_kk: float = Field(default=3.23, ge=1.0, le=10.0)
    # Optional: known figures per kab/kota (kabkota_code,residents[,households]) that replace the
    # apportioned ones, e.g. a registry's own count; a CSV next to this file.
    residents_file: str | None = Field(default=None, min_length=1)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    start: Date
    deadline: Date
    shifts_per_day: Shifts = 4
    calendar: CalendarSpec
    device: DeviceSpec
    backlog: BacklogSpec = BacklogSpec()
    allotment: Allotment
    waves: list[Wave] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.deadline <= self.start:
            raise ValueError("deadline must be after start")
        if not (self.start.year >= 1900 and self.deadline.year <= 2100):
            raise ValueError("start and deadline must lie between 1900 and 2100")
        for name, when in [("allotment.date", self.allotment.date)] + [
            (f"waves[{i}].date", w.date) for i, w in enumerate(self.waves)
        ]:
            if when.year < 1900:
                raise ValueError(f"{name} {when} is before 1900")
        if self.deadline - self.start > dt.timedelta(days=3653):
            raise ValueError("the campaign may last ten years at most")
        for i, w in enumerate(self.waves):
            if w.date > self.deadline:
                raise ValueError(f"waves[{i}].date {w.date} is after the deadline")
        if self.device.capacity_per_day // self.shifts_per_day - self.backlog.reserve_per_shift < 10:
            raise ValueError("fewer than 10 regular seats per device-shift: a family of 10 would not fit")
        return self


@dataclass(frozen=True)
class LoadedNational:
    path: Path
    scenario: NationalScenario
    admin: NationalAdmin
    sha256: str
    known: dict[str, tuple[int, int | None]] = field(default_factory=dict)  # residents_file rows

    @cached_property
    def kabkota(self) -> tuple[KabKota, ...]:
        """The kab/kota taking part, in code order. ``phase-2011`` takes those a source names as
        2011 (data/indonesia/SOURCES.md: 147 of the 197)."""
        sc = self.scenario
        out = []
        for k in self.admin.kabkota:
            if sc.select == "phase-2011" and k.phase != 2011:
                continue
            if sc.provinces is not None and k.province not in sc.provinces:
                continue
            if sc.kabkota is not None and k.code not in sc.kabkota:
                continue
            out.append(k)
        return tuple(out)

    @property
    def ignored(self) -> list[str]:
        """Kab/kota of the residents_file that do not take part (their rows are not used)."""
        wanted = {k.code for k in self.kabkota}
        return sorted(c for c in self.known if c not in wanted)

    def notes(self) -> list[str]:
        """What a user should hear about the scenario before a run: rows that are not used."""
        if not self.ignored:
            return []
        return [
            f"{self.scenario.residents_file}: {len(self.ignored)} row(s) name kab/kota outside the selection and "
            f"are not used ({', '.join(self.ignored[:5])}{', ...' if len(self.ignored) > 5 else ''})"
        ]

    @cached_property
    def residents(self) -> dict[str, int]:
        """Residents needing an e-KTP per kab/kota: ``residents_national`` apportioned over every
        kab/kota by 2010 population, so a kab/kota has the same figure in every scenario."""
        from ektp_opt.inputs.generate import apportion

        population = self.admin.effective_population()
        codes = list(population)
        shares = apportion(self.scenario.residents_national, [population[c] for c in codes])
        wanted = {k.code for k in self.kabkota}
        out = {c: int(n) for c, n in zip(codes, shares.tolist(), strict=True) if c in wanted}
        out.update({c: r for c, (r, _kk) in self.known.items() if c in wanted})
        return out

    def households(self, code: str) -> int:
        """KK of a kab/kota: the residents_file's figure, else residents / residents_per_kk
        (within 1..10 members per KK, the generator's range)."""
        residents = self.residents[code]
        given = self.known.get(code, (0, None))[1]
        if given is not None:
            return given
        return min(residents, max(-(-residents // 10), round(residents / self.scenario.residents_per_kk)))


def _read_residents(path: Path, admin: NationalAdmin) -> dict[str, tuple[int, int | None]]:
    out: dict[str, tuple[int, int | None]] = {}
    for n, row in iter_rows(path, ["kabkota_code", "residents"], ["households"]):
        code = row["kabkota_code"]
        where = f"row {n}, column kabkota_code"
        if code not in admin.kabkota_by_code:
            raise InputError(path, where, f"unknown kab/kota {code!r}")
        if code in out:
            raise InputError(path, where, f"{code} is listed twice")
        residents = parse_int(path, n, "residents", row["residents"], 1, 100_000_000)
        households = None
        if row.get("households"):
            households = parse_int(path, n, "households", row["households"], 1, residents)
            if residents > 10 * households:
                raise InputError(path, f"row {n}, column households", "more than 10 residents per KK")
        out[code] = (residents, households)
    return out


NATIONAL_DATA = Path(str(resources.files("ektp_opt") / "data" / "indonesia"))


def national_path(path: Path) -> Path:
    """A national scenario file, or the name of one shipped with ektp-opt (``national-small``)."""
    if not path.exists() and path.parent == Path(".") and (NATIONAL_DATA / f"{path.stem}.toml").is_file():
        return NATIONAL_DATA / f"{path.stem}.toml"
    return path


def load_national(path: str | Path) -> LoadedNational:
    p = Path(path)
    text = read_text(p)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(p, None, f"not valid TOML ({exc})") from None
    try:
        sc = NationalScenario.model_validate(raw)
    except ValidationError as exc:
        raise invalid(p, exc) from None
    folder = admin_folder(sc.admin, p.parent)
    if not folder.is_dir():
        raise InputError(p, "admin", f"{sc.admin!r} is neither a packaged data set nor a folder next to the scenario")
    admin = load_national_admin(folder)
    for field_name, codes, known in (
        ("provinces", sc.provinces or [], admin.provinces),
        ("kabkota", sc.kabkota or [], admin.kabkota_by_code),
    ):
        for i, code in enumerate(codes):
            if code not in known:
                raise InputError(p, f"{field_name}[{i}]", f"unknown code {code}")
    shipments = [("allotment", sc.allotment)] + [(f"waves[{i}]", w) for i, w in enumerate(sc.waves)]
    for name, shipment in shipments:
        for prov in shipment.transit_days:
            if prov != "default" and prov not in admin.provinces:
                raise InputError(p, f"{name}.transit_days.{prov}", f"unknown province {prov}")
    workdays, holidays = weekday_set(sc.calendar.workdays), frozenset(sc.calendar.holidays)
    open_days = len(working_days(sc.start, sc.deadline, workdays, holidays))
    if open_days <= sc.backlog.catch_up_days:  # as for a city: the master needs a regular day
        raise InputError(
            p,
            "backlog.catch_up_days",
            f"{sc.backlog.catch_up_days} catch-up days leave no regular day "
            f"({open_days} working days from start to deadline)",
        )
    digest = hashlib.sha256(text.encode("utf-8"))
    figures: dict[str, tuple[int, int | None]] = {}
    if sc.residents_file is not None:
        figures = _read_residents(p.parent / sc.residents_file, admin)
        digest.update((p.parent / sc.residents_file).read_bytes())  # the figures are inputs too
    loaded = LoadedNational(p, sc, admin, digest.hexdigest(), figures)
    if not loaded.kabkota:
        raise InputError(p, "select", "no kab/kota takes part")
    empty = [c for c, n in loaded.residents.items() if n == 0]
    if empty:
        raise InputError(
            p,
            "residents_national",
            f"{sc.residents_national:,} apportioned by population leaves {len(empty)} of the "
            f"{len(loaded.kabkota)} kab/kota taking part with no resident (first: {empty[0]}); each needs one at least",
        )
    return loaded
