"""Typed results that leave the library: the diagnosis of an infeasible deadline (with the pool
sensitivity `capacity` adds). Each is a frozen pydantic model, serialised in one place
(``to_json``), read back with ``model_validate``; the JSON keeps the names SPEC.md documents.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_json(self) -> dict[str, Any]:
        """JSON-ready figures: dates as ISO strings; absent values as null."""
        return self.model_dump(mode="json")


class EarliestCompletion(_Result):
    citywide: dt.date | None  # None: never, with these deliveries (see reason)
    status: str
    working_days: int | None
    per_kecamatan: dict[str, dt.date | None]  # each kecamatan's finish in the earliest citywide plan
    pool_split: list[dict[str, int]]
    never_served: list[str] | None = None
    reason: str | None = None


class SeatArithmetic(_Result):
    regular_working_days: int
    seats_by_last_regular_day_upper_bound: int
    residents: int
    shortfall: int
    note: str


class ExtraDevices(_Result):
    """The fewest extra pool devices delivered on ``date`` that meet the deadline, or why none do."""

    date: dt.date
    possible: bool
    reason: str | None = None
    extra_devices: int | None = None
    pool_on_date_with_extra: int | None = None
    closed_form_lower_bound: int | None = None
    available_from: dt.date | None = None
    split: dict[str, int] = {}


class HomeVisitFigures(_Result):
    mobile_device_days: int
    visited_kk: int
    unserved_kk: int
    note: str


class PoolPoint(_Result):
    """Pool devices on the pool date (the scenario's own pools replaced by one of this size)."""

    pool: int
    completion: dt.date
    working_days: int
    meets_deadline: bool


class PoolSensitivity(_Result):
    pool_date: dt.date
    points: list[PoolPoint]


class Diagnosis(_Result):
    """What is missing when the deadline cannot be met (and the same figures when it can)."""

    scenario: str
    meets_deadline: bool
    deadline: dt.date
    last_regular_day: dt.date
    residents: int
    households: int
    devices_delivered: int
    kecamatan_names: dict[str, str]
    earliest_completion: EarliestCompletion
    seat_arithmetic: SeatArithmetic
    extra_devices_needed: list[ExtraDevices]
    short_kecamatan: list[str]
    home_visits: HomeVisitFigures | None
    calendar_note: str
    pool_sensitivity: PoolSensitivity | None = None
