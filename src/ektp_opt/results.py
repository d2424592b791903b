"""Typed results that leave the library: a plan's summary (summary.json) and the diagnosis of an
infeasible deadline (with the pool sensitivity `capacity` adds). Each is a frozen pydantic model,
serialised in one place (``to_json``) and read back with ``read``/``model_validate``; the JSON keeps
the names, order and shape SPEC.md documents.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    # Optional fields that are left out of the JSON when absent (rather than written as null).
    _omit_if_none: ClassVar[tuple[str, ...]] = ()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready figures: dates as ISO strings; absent values as null (or left out)."""
        return _dump(self)


def _dump(value: Any) -> Any:
    if isinstance(value, _Result):
        out = {}
        for name in type(value).model_fields:
            item = getattr(value, name)
            if item is None and name in type(value)._omit_if_none:
                continue
            out[name] = _dump(item)
        return out
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


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


class ShortKecamatan(_Result):
    """Where a proof binds: residents left without a seat at the least, and the device-shifts
    (at that kecamatan's seats per device-shift) that would seat them."""

    kecamatan: str
    short_residents: int
    extra_device_shifts: int


class Proof(_Result):
    """Why the answer is "cannot": the model that proved it, what it proves, under which rules
    (its scope), where it binds, and what would fix it."""

    _omit_if_none = ("fix",)
    model: str
    statement: str
    scope: str
    binding: list[ShortKecamatan] = []
    fix: str | None = None


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
    proof: Proof | None = None  # which model proved the "cannot" (absent when the deadline is met)


class LevelFigures(_Result):
    """One lexicographic level as summary.json holds it (solver.result.LevelResult.as_dict)."""

    _omit_if_none = ("note",)
    value: int
    bound: int
    gap: float
    status: str
    scope: str = "global"
    seconds: float = 0.0
    note: str | None = None


class Inputs(_Result):
    scenario_sha256: str
    households_sha256: str


class Versions(_Result):
    ektp_opt: str
    ortools: str


class HomeVisitSummary(_Result):
    _omit_if_none = (
        "visited_kk", "unserved_kk", "mobile_device_days", "office_seats_lost", "fix", "note", "kept_from_old_plan",
        "flagged_kk",
    )  # fmt: skip
    planned: bool
    flagged_kk: int | None = None
    visited_kk: int | None = None
    unserved_kk: int | None = None
    mobile_device_days: int | None = None
    office_seats_lost: int | None = None
    fix: dict[str, str] | None = None
    note: str | None = None
    kept_from_old_plan: bool | None = None


class KecamatanCapFigures(_Result):
    kecamatan: str
    must_move: int  # KK whose cell lost seats: they move under any cap
    smallest_cap_bound: int  # no plan keeps this kecamatan's movers within a smaller cap
    smallest_cap: int  # the smallest cap a plan meets here (every KK seated)


class CapDiagnosis(_Result):
    """diagnosis.json of ``resolve --max-delay`` when the cap cannot be met (exit 4)."""

    scenario: str
    as_of: dt.date
    max_delay: int
    meets_cap: bool
    smallest_cap: int  # the smallest cap a plan meets (every KK seated within it)
    smallest_cap_bound: int  # no plan meets a smaller cap (proven; see scope)
    moves_at_smallest_cap: int
    scope: str
    per_kecamatan: list[KecamatanCapFigures]
    proof: Proof | None = None


class NationalEarliest(_Result):
    date: dt.date | None  # None: not within three years past the deadline
    working_days: int | None
    status: str  # OPTIMAL: proven earliest
    bound: int  # no split finishes in fewer working days (proven)


class NationalExtra(_Result):
    wave: int  # 1-based, as in the scenario
    date: dt.date
    province: str
    province_name: str
    devices: int


class NationalDiagnosis(_Result):
    """diagnosis.json of ``national plan`` when no split of the waves meets the deadline (exit 4),
    and what ``national capacity`` prints."""

    scenario: str
    meets_deadline: bool
    deadline: dt.date
    regular_working_days: int
    earliest_completion: NationalEarliest
    extra_devices: list[NationalExtra]
    extra_status: str  # OPTIMAL: the fewest; INFEASIBLE: no number of extra wave devices helps
    proof: Proof | None = None


class ResolveSummary(_Result):
    old_plan: str
    as_of: dt.date
    notice_days: int
    notice_end: dt.date | None
    moved_kk: int
    moved_kk_proven_minimum: int
    forced_in_notice_window: int
    new_device_same_slot: int
    missed_rebooked: int
    missed_not_rebooked: int
    pool_split_status: str
    # KK whose date changed, by direction, and the largest delay (working days); 0 in plans
    # written before these were recorded
    moved_earlier: int = 0
    moved_later: int = 0
    largest_delay_working_days: int = 0
    # resolve --max-delay: the cap (working days; None: no cap), the KK moved only to make room
    # within it, and the proven lower bound on those
    max_delay: int | None = None
    moved_to_make_room: int = 0
    moved_to_make_room_bound: int = 0
    # KK whose home visit changed (re-planned, added or dropped with the [home_visits] section)
    home_visits_changed: int = 0


class PlanSummary(_Result):
    """summary.json (SPEC.md, "Output: a plan folder")."""

    _omit_if_none = ("resolve", "campaign")
    scenario: str
    scenario_file: str
    city: str
    status: str
    late: bool
    objectives: dict[str, LevelFigures]
    completion_date: dt.date
    kecamatan_completion: dict[str, dt.date | None]
    start: dt.date
    deadline: dt.date
    last_regular_day: dt.date
    residents: int
    households: int
    devices: int
    devices_per_kecamatan: dict[str, int]
    residents_per_site: dict[str, int]
    seat_utilisation: float | None
    home_visits: HomeVisitSummary
    solve_seconds: float
    stage_seconds: dict[str, float]
    workers: int
    seed: int
    time_limit: float
    preset: str
    inputs: Inputs
    versions: Versions
    resolve: ResolveSummary | None = None
    # A campaign re-plan: which records and which calibration made it (campaign/replan.py).
    campaign: dict[str, Any] | None = None


class KecamatanBacklog(_Result):
    kecamatan: str
    probability_cleared_by_deadline: float
    expected_clear_date: str  # an ISO date, "no backlog" or "after the deadline"
    p95_clear_date: str
    expected_waiting_at_deadline: float


class SimulationSummary(_Result):
    """What ``simulate`` measured over its runs at one late rate."""

    runs: int
    late_rate: float
    mean_delay_working_days: float
    seed: int
    deadline: dt.date
    last_regular_day: dt.date
    probability_on_time: float
    late_residents_mean: float
    returned_after_deadline_mean: float
    citywide_clear_date_expected: str
    citywide_clear_date_p95: str
    peak_backlog_mean: float
    peak_backlog_p95: float
    peak_backlog_typical_date: dt.date
    waiting_at_deadline_mean: float
    waiting_at_deadline_p95: float
    per_kecamatan: list[KecamatanBacklog]
