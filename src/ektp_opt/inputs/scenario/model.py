"""pydantic models of a scenario. They check each field alone; checks that need the kecamatan
list (unknown codes) live in ``load.py``, after the admin CSVs are read."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, model_validator


def _calendar_date(value: object) -> object:
    """A date as TOML writes one (2011-08-18), between 1900 and 2100: not a number pydantic would
    read as seconds since 1970 (``start = 20110818``), not a date and time, not year 1."""
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
        raise ValueError(f"{value!r} is not a date written as YYYY-MM-DD")
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a date written as YYYY-MM-DD") from None
    assert isinstance(value, dt.date)
    if not 1900 <= value.year <= 2100:
        raise ValueError(f"{value} is not between 1900 and 2100")
    return value


Date = Annotated[dt.date, BeforeValidator(_calendar_date)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Shifts = Literal[4, 5]
KecamatanCode = Annotated[str, Field(pattern=r"^\d{2}\.\d{2}\.\d{2}$")]


class _Strict(BaseModel):
    """Unknown keys are errors: a typo such as ``dedline`` must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class CalendarSpec(_Strict):
    workdays: list[Weekday] = Field(min_length=1)
    holidays: list[Date] = Field(default_factory=list)
    day_start: dt.time = dt.time(8, 0)
    day_end: dt.time = dt.time(16, 0)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if len(set(self.workdays)) != len(self.workdays):
            raise ValueError("workdays lists a day twice")
        if self.day_end <= self.day_start:
            raise ValueError("day_end must be after day_start")
        return self


class EarlierCapacity(_Strict):
    """A device's capacity up to and including ``until``: a re-plan at a measured pace keeps the
    days that already happened at the capacity they were planned with."""

    until: Date
    capacity_per_day: int = Field(gt=0, le=10_000)


class DeviceSpec(_Strict):
    capacity_per_day: int = Field(gt=0, le=10_000)
    setup_days: int = Field(default=0, ge=0, le=60)
    earlier: list[EarlierCapacity] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Self:
        untils = [e.until for e in self.earlier]
        if untils != sorted(set(untils)):
            raise ValueError("earlier: the until dates must increase")
        return self

    def capacity_on(self, day: dt.date) -> int:
        """``capacity_per_day`` as it was on ``day``."""
        for e in self.earlier:
            if day <= e.until:
                return e.capacity_per_day
        return self.capacity_per_day


class BacklogSpec(_Strict):
    reserve_per_shift: int = Field(default=0, ge=0, le=10_000)
    catch_up_days: int = Field(default=0, ge=0, le=365)
    late_rate: float = Field(default=0.0, ge=0.0, le=1.0)


class Delivery(_Strict):
    """One of three forms: ``{date, per_kecamatan}``, ``{date, kecamatan, count}``,
    ``{date, pool}``. A pool is split across kecamatan by the optimiser."""

    date: Date
    per_kecamatan: int | None = Field(default=None, ge=0, le=100_000)
    kecamatan: KecamatanCode | None = None
    count: int | None = Field(default=None, ge=0, le=100_000)
    pool: int | None = Field(default=None, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        forms = [
            self.per_kecamatan is not None,
            self.kecamatan is not None or self.count is not None,
            self.pool is not None,
        ]
        if sum(forms) != 1:
            raise ValueError("give exactly one of: per_kecamatan = N; kecamatan = CODE with count = N; pool = N")
        if (self.kecamatan is None) != (self.count is None):
            raise ValueError("kecamatan and count go together")
        return self

    @property
    def kind(self) -> Literal["per_kecamatan", "kecamatan", "pool"]:
        if self.per_kecamatan is not None:
            return "per_kecamatan"
        return "pool" if self.pool is not None else "kecamatan"


class OperatorsSpec(_Strict):
    """Trained operators: each device-shift in use needs one."""

    per_kecamatan: int = Field(ge=0, le=100_000)
    shifts_per_operator: int = Field(ge=1, le=5)
    overrides: dict[KecamatanCode, Annotated[int, Field(ge=0, le=100_000)]] = Field(default_factory=dict)


class HomeVisitSpec(_Strict):
    """Mobile enrolment days for KK flagged ``needs_home_visit``. With this section present those
    KK get a home visit instead of an office seat; without it they are given office seats."""

    portable_per_kecamatan: int = Field(default=0, ge=0, le=1_000)
    overrides: dict[KecamatanCode, Annotated[int, Field(ge=0, le=1_000)]] = Field(default_factory=dict)
    # 12 visits a day: about 40 minutes per home (travel, setup, 1-3 people) in an 8-hour day.
    visits_per_day: int = Field(default=12, ge=1, le=200)
    # 0: a mobile day stays inside one kelurahan; > 0: it may join kelurahan whose centroids are
    # all within this distance of each other.
    cluster_km: float = Field(default=0.0, ge=0.0, le=50.0)

    def portable(self, kecamatan_code: str) -> int:
        return self.overrides.get(kecamatan_code, self.portable_per_kecamatan)


class GeneratorSpec(_Strict):
    """A synthetic population, built deterministically from the seed (see generate.py)."""

    seed: int = Field(ge=0, le=2**63 - 1)
    residents: int = Field(gt=0, le=100_000_000)
    households: int = Field(gt=0, le=50_000_000)
    home_visit_share: float = Field(default=0.005, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.residents < self.households:
            raise ValueError("residents must be at least households: every KK has a member")
        if self.residents > 10 * self.households:
            raise ValueError("more than 10 members per KK on average is not a real population")
        return self


class HouseholdsFile(_Strict):
    file: str = Field(min_length=1)


class Scenario(_Strict):
    name: str = Field(min_length=1, max_length=200)
    city: str = Field(min_length=1, max_length=200)
    start: Date
    deadline: Date
    calendar: CalendarSpec
    device: DeviceSpec
    shifts_per_day: Shifts
    shifts_override: dict[KecamatanCode, Shifts] = Field(default_factory=dict)
    backlog: BacklogSpec = BacklogSpec()
    deliveries: list[Delivery] = Field(min_length=1)
    overflow_km: float = Field(default=0.0, ge=0.0, le=100.0)
    operators: OperatorsSpec | None = None
    home_visits: HomeVisitSpec | None = None
    kecamatan: str = Field(min_length=1)
    kelurahan: str = Field(min_length=1)
    # A households table has ``file``; a generator spec has not. Said explicitly, so an error names
    # the form the user wrote (``file = ""`` is about ``file``, not a missing ``seed``).
    households: Annotated[
        Annotated[GeneratorSpec, Tag("spec")] | Annotated[HouseholdsFile, Tag("file")],
        Discriminator(lambda v: "file" if isinstance(v, dict) and "file" in v else "spec"),
    ]

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.deadline <= self.start:
            raise ValueError(f"deadline {self.deadline} must be after start {self.start}")
        if not (self.start.year >= 1900 and self.deadline.year <= 2100):
            raise ValueError("start and deadline must lie between 1900 and 2100")
        if (self.deadline - self.start).days > 3653:
            raise ValueError("a campaign longer than ten years is not a plan ektp-opt can make")
        shifts = {self.shifts_per_day, *self.shifts_override.values()}
        for n in shifts:
            seats = self.device.capacity_per_day // n - self.backlog.reserve_per_shift
            if seats <= 0:
                raise ValueError(
                    f"with {n} shifts a device-shift has {self.device.capacity_per_day // n} "
                    f"seats, not more than reserve_per_shift = {self.backlog.reserve_per_shift}"
                )
        return self

    def staffed_device_shifts(self, kecamatan_code: str) -> int | None:
        """Rule 7: the device-shifts a day the kecamatan's operators can staff (None: no limit)."""
        if self.operators is None:
            return None
        ops = self.operators
        return ops.overrides.get(kecamatan_code, ops.per_kecamatan) * ops.shifts_per_operator

    def shifts_for(self, kecamatan_code: str) -> int:
        return self.shifts_override.get(kecamatan_code, self.shifts_per_day)

    def seats_per_device_shift(self, kecamatan_code: str) -> int:
        """Regular seats: a shift's share of daily capacity, net of the backlog seats."""
        n = self.shifts_for(kecamatan_code)
        return self.device.capacity_per_day // n - self.backlog.reserve_per_shift
