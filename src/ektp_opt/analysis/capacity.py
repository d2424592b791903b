"""Capacity planning: how late the given deliveries finish, and what would meet the deadline.

Every figure comes from the planner's own level-1 question ("can all residents be served in the
first T working days?", aggregate.FeasibilityModel) on a calendar extended past the deadline with
the same working-day rules. Each is also set beside the closed-form seat arithmetic, which it
can never beat.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import numpy as np

from ektp_opt.errors import InfeasibleError, NoSolutionError
from ektp_opt.inputs.calendar import available_from, index_on_or_after
from ektp_opt.inputs.households import Households
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.problem import DeviceBatch, ProblemData, build_problem
from ektp_opt.progress import Reporter
from ektp_opt.results import (
    Diagnosis,
    EarliestCompletion,
    ExtraDevices,
    HomeVisitFigures,
    PoolPoint,
    PoolSensitivity,
    SeatArithmetic,
)
from ektp_opt.solver.aggregate import FeasibilityModel, fill_earliest, search_completion
from ektp_opt.solver.params import SolveOptions, cpsat_parameters, load_preset

EXTEND_YEARS = 4  # how far past the deadline the calendar is extended
MAX_EXTRA_DEVICES = 1_000_000


def extended_problem(ls: LoadedScenario, households: Households) -> ProblemData:
    horizon_end = ls.scenario.deadline + dt.timedelta(days=365 * EXTEND_YEARS)
    return build_problem(ls, households, extend_to=horizon_end)


def with_extra_pool(ls: LoadedScenario, data: ProblemData, count: int, on: dt.date) -> ProblemData:
    avail = available_from(on, ls.scenario.device.setup_days, ls.workdays, ls.holidays)
    extra = DeviceBatch(-1, None, count, on, avail, index_on_or_after(data.days, avail))
    return dataclasses.replace(data, batches=(*data.batches, extra))


def closed_form_extra(data: ProblemData, on_first_day: int) -> int:
    """Seat arithmetic: extra devices on the best kecamatan, ignoring where residents live.
    No plan can need fewer."""
    horizon = data.regular_days
    fixed, pooled = data.best_case_seats()
    seats = int(fixed[:horizon].sum() + pooled[:horizon].sum())
    short = int(data.kelurahan_residents.sum()) - seats
    per_extra = int((data.seats * data.shifts).max()) * max(0, horizon - on_first_day)
    if short <= 0:
        return 0
    return math.ceil(short / per_extra) if per_extra else -1


def fewest_extra(
    ls: LoadedScenario, data: ProblemData, on: dt.date, options: SolveOptions, cpsat: dict[str, Any]
) -> ExtraDevices:
    """Least extra pool devices delivered on ``on`` that make the regular days feasible
    (bisection; every "no" is proven by CP-SAT)."""
    regular = dataclasses.replace(data, days=data.days[: data.regular_days])

    def feasible(n: int) -> tuple[bool, np.ndarray | None]:
        trial = with_extra_pool(ls, regular, n, on)
        status, split, _ = FeasibilityModel(trial, trial.regular_days).solve(options, cpsat, 30.0)
        if status == "UNKNOWN":
            raise NoSolutionError("the extra-device check ran out of time (30 s) without an answer")
        return status != "INFEASIBLE", (split[-1] if status != "INFEASIBLE" else None)

    avail = available_from(on, ls.scenario.device.setup_days, ls.workdays, ls.holidays)
    if avail > data.last_regular_day:
        return ExtraDevices(
            date=on,
            possible=False,
            reason=f"devices delivered then serve only from {avail}, after the last regular day",
        )
    lo, hi = 0, 1
    ok, split = feasible(0)
    if ok:
        return ExtraDevices(date=on, possible=True, extra_devices=0)
    while True:
        ok, split = feasible(hi)
        if ok:
            break
        lo = hi
        hi *= 2
        if hi > MAX_EXTRA_DEVICES:
            return ExtraDevices(
                date=on, possible=False, reason=binding_rule(ls, regular) or "more than a million devices"
            )
    while hi - lo > 1:
        mid = (lo + hi) // 2
        ok_mid, split_mid = feasible(mid)
        if ok_mid:
            hi, split = mid, split_mid
        else:
            lo = mid
    assert split is not None
    first = index_on_or_after(data.days, avail)
    return ExtraDevices(
        date=on,
        possible=True,
        extra_devices=hi,
        pool_on_date_with_extra=sum(b.count for b in data.pools if b.delivery == on) + hi,
        closed_form_lower_bound=closed_form_extra(regular, first),
        available_from=avail,
        split={code: int(n) for code, n in zip(data.kecamatan_codes, split.tolist(), strict=True) if n},
    )


def binding_rule(ls: LoadedScenario, regular: ProblemData) -> str | None:
    """Why no number of devices helps, when it is the operator rule: a kecamatan whose operators
    cannot staff enough device-shifts by the last regular day, even with a device for each one
    from the first day. (With overflow its residents might go elsewhere: then nothing is named.)"""
    if ls.scenario.operators is None or ls.scenario.overflow_km > 0:
        return None
    people = regular.kecamatan_residents
    for k in range(regular.n_kec):
        limit = int(regular.slot_limit[k])
        if limit < 0:
            continue
        most = limit * int(regular.seats[k]) * regular.regular_days
        if people[k] > most:
            code = regular.kecamatan_codes[k]
            return (
                f"operators at {code}: at most {limit} device-shifts a day, so {most:,} seats by "
                f"{regular.last_regular_day} for {int(people[k]):,} residents; more operators are needed there"
            )
    return None


def diagnose(
    ls: LoadedScenario,
    households: Households,
    options: SolveOptions,
    extra_on: dt.date | None = None,
) -> Diagnosis:
    """The numbers a planner needs when the deadline cannot be met (SPEC.md), and also when it
    can (then extra devices are 0)."""
    cpsat = cpsat_parameters(load_preset(options.preset))
    data = extended_problem(ls, households)
    try:
        search: Any = search_completion(data, options, cpsat, 60.0, Reporter())
    except InfeasibleError:
        search = None  # some residents can never be served by these deliveries, however long
    if search is not None:
        horizon = search.level.value
        served = fill_earliest(data, search.split, search.away, horizon)
        last = [int(np.flatnonzero(row)[-1]) if row.any() else -1 for row in served]
        per_kec = {code: (data.days[d] if d >= 0 else None) for code, d in zip(data.kecamatan_codes, last, strict=True)}
        citywide = data.days[horizon - 1]
        meets = citywide <= data.last_regular_day
        completion = EarliestCompletion(
            citywide=citywide,
            status=search.level.status,
            working_days=horizon,
            per_kecamatan=per_kec,
            pool_split=[dict(zip(data.kecamatan_codes, (int(x) for x in row), strict=True)) for row in search.split],
        )
    else:
        never = never_served(data, households)
        per_kec = dict.fromkeys(data.kecamatan_codes)
        meets = False
        completion = EarliestCompletion(
            citywide=None,
            status="INFEASIBLE",
            working_days=None,
            per_kecamatan=per_kec,
            pool_split=[],
            never_served=never,
            reason=(
                f"no delivery ever brings a device to {', '.join(never)}"
                if never
                else f"these deliveries cannot serve every resident even by {data.days[-1]}"
            ),
        )
    dates = sorted({d.date for d in ls.scenario.deliveries} | ({extra_on} if extra_on else set()))
    extra = [fewest_extra(ls, data, d, options, cpsat) for d in dates] if not meets else []
    short = sorted(code for code, d in per_kec.items() if d is not None and d > data.last_regular_day)
    fixed, pooled = data.best_case_seats()
    seats_by_deadline = int(fixed[: data.regular_days].sum() + pooled[: data.regular_days].sum())
    hv = data.home_visits
    return Diagnosis(
        scenario=ls.scenario.name,
        meets_deadline=meets,
        deadline=ls.scenario.deadline,
        last_regular_day=data.last_regular_day,
        residents=households.residents,
        households=len(households),
        devices_delivered=sum(b.count for b in data.batches),
        kecamatan_names={k.code: k.name for k in ls.admin.kecamatan},
        earliest_completion=completion,
        seat_arithmetic=SeatArithmetic(
            regular_working_days=data.regular_days,
            seats_by_last_regular_day_upper_bound=seats_by_deadline,
            residents=households.residents,
            shortfall=max(0, households.residents - seats_by_deadline),
            note="every pool device counted at its most productive kecamatan, no family "
            "integrality: an upper bound on what any plan can seat",
        ),
        extra_devices_needed=extra,
        short_kecamatan=short,
        home_visits=None
        if hv is None
        else HomeVisitFigures(
            mobile_device_days=len(hv.days),
            visited_kk=hv.visited,
            unserved_kk=sum(len(v) for v in hv.unserved.values()),
            note="each mobile day takes a portable device out of the office; the figures above count it",
        ),
        calendar_note="past the deadline the calendar keeps the scenario's holidays (they may be "
        "listed past the deadline); beyond the last one listed it has workdays only",
    )


def never_served(data: ProblemData, households: Households) -> list[str]:
    """Kecamatan with residents that no delivery can ever reach: no named device and no pool."""
    if data.pools:
        return []
    has_device = np.zeros(data.n_kec, dtype=bool)
    for b in data.batches:
        if b.kecamatan is not None and b.count > 0:
            has_device[b.kecamatan] = True
    people = np.bincount(data.kelurahan_kecamatan[households.kelurahan], minlength=data.n_kec)
    return [data.kecamatan_codes[k] for k in range(data.n_kec) if people[k] > 0 and not has_device[k]]


def pool_sensitivity(
    ls: LoadedScenario,
    households: Households,
    options: SolveOptions,
    diagnosis: Diagnosis,
    points: int = 12,
) -> PoolSensitivity:
    """Pool size on the first pool date against the proven earliest completion date.

    The scenario's own pools are replaced by one pool of each size, so the current size and the
    size that just meets the deadline are both on the curve."""
    cpsat = cpsat_parameters(load_preset(options.preset))
    data = extended_problem(ls, households)
    pools = data.pools
    on = pools[0].delivery if pools else ls.scenario.deliveries[0].date
    base = sum(b.count for b in pools)
    needed = next((e.extra_devices or 0 for e in diagnosis.extra_devices_needed if e.date == on and e.possible), 0)
    top = (base + needed) * 3 // 2 + 1
    sizes = sorted({int(x) for x in np.linspace(max(0, base // 4), top, points)} | {base, base + needed})
    if needed:
        sizes = sorted(set(sizes) | {base + needed - 1})
    no_pool = dataclasses.replace(data, batches=tuple(b for b in data.batches if b.kecamatan is not None))
    out: list[PoolPoint] = []
    for n in sizes:
        trial = with_extra_pool(ls, no_pool, n, on) if n else no_pool
        try:
            level = search_completion(trial, options, cpsat, 30.0, Reporter()).level
        except InfeasibleError:  # not even the extended calendar is enough for so few devices
            continue
        when = trial.days[level.value - 1]
        out.append(
            PoolPoint(pool=n, completion=when, working_days=level.value, meets_deadline=when <= trial.last_regular_day)
        )
    return PoolSensitivity(pool_date=on, points=out)
