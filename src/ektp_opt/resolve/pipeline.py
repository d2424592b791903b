"""The re-plan as a pipeline: ``prepare`` (read the plan in force, the window, the device
placement, the KK that keep their cell), then ``finish`` (seat the movers, book the backlog,
measure); ``resolve`` runs both.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from pathlib import Path

import numpy as np

from ektp_opt.inputs.households import Households
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.problem import build_problem
from ektp_opt.progress import Reporter
from ektp_opt.resolve.backlog import book_backlog
from ektp_opt.resolve.capping import seat_capped
from ektp_opt.resolve.homes import old_visit_groups, visit_changes, visit_groups
from ektp_opt.resolve.measure import measure_levels, move_delays
from ektp_opt.resolve.oldplan import check_history, read_old, window_of
from ektp_opt.resolve.placement import devices_away, devices_in_service, place_pools
from ektp_opt.resolve.records import CapBound, Change, Prepared, Replan
from ektp_opt.resolve.seating import seat_kept, seat_movers
from ektp_opt.resolve.visits import replan_visits
from ektp_opt.solver import Result, SolveOptions
from ektp_opt.solver.assign import Assignment, place_devices
from ektp_opt.solver.result import Timings, overall_status


def prepare(
    old_plan: Path,
    ls: LoadedScenario,
    households: Households,
    as_of: dt.date,
    notice_days: int,
    attendance: dict[int, bool] | None = None,
    options: SolveOptions | None = None,
    reporter: Reporter | None = None,
) -> Prepared:
    """Read the plan in force, fix the window, place the devices (fewest moves first, CP-SAT) and
    keep every KK in its cell where the cell's devices still seat it. Raises InfeasibleError when
    the changed deliveries cannot hold every KK by the last regular day."""
    options = options or SolveOptions()
    reporter = reporter or Reporter()
    start = time.perf_counter()
    # Home visits: kept where still possible, re-planned otherwise (resolve/visits.py); their
    # devices are taken out of the office on those days below.
    full = build_problem(ls, households)
    data = dataclasses.replace(full, mobile=None, home_visits=None)
    members = households.members.astype(np.int64)
    with reporter.stage("read old plan"):
        old = read_old(old_plan, data, households)
    groups = visit_groups(old_plan, ls, data, households, old, full, as_of)
    win = window_of(old_plan, data, households, old, as_of, notice_days, attendance or {})
    future = ~win.past & ~old.visited  # KK visited at home have no office seat
    with reporter.stage("resolve: fewest moves"):
        away = devices_away(ls, data, old, full, groups is not None)
        split, split_all, late = place_pools(ls, data, old, members, future, win, as_of, options, away)
    devices = place_devices(data, split_all, late)
    check_history(ls, data, old, devices, win)
    visits = None
    if ls.scenario.home_visits is not None:
        spec = ls.scenario.home_visits
        portable = {k: spec.portable(code) for k, code in enumerate(data.kecamatan_codes)}
        visited = np.flatnonzero(old.visited).tolist()
        kec_of = {i: int(data.kelurahan_kecamatan[households.kelurahan[i]]) for i in visited}
        visits = replan_visits(
            data,
            portable,
            kec_of,
            groups if groups is not None else old_visit_groups(old),
            devices,
            win.w_end,
            as_of,
            "the scenario now plans home visits ([home_visits])" if groups is not None else None,
        )
        old = dataclasses.replace(old, visit_days=visits.mobile_days)  # their devices leave the office
    in_service = devices_in_service(data, devices, old)
    seating = seat_kept(data, old, devices, in_service, members, future, win, split.relaxed)
    return Prepared(
        ls, data, households, members, old, win, split, devices, in_service, seating, as_of, options, start, visits
    )


def resolve(
    old_plan: Path,
    ls: LoadedScenario,
    households: Households,
    as_of: dt.date,
    notice_days: int,
    attendance: dict[int, bool] | None = None,
    options: SolveOptions | None = None,
    reporter: Reporter | None = None,
    max_delay: int | None = None,
) -> Replan:
    """Re-plan ``old_plan`` under the changed scenario ``ls``. Raises InfeasibleError when the
    changed deliveries cannot hold every KK by the last regular day, and DelayCapError (an
    InfeasibleError) when no plan keeps every moved KK within ``max_delay`` working days.

    The steps: ``prepare`` (read the plan in force, the window, the device placement, the KK that
    keep their cell), then ``finish``: seat the movers after the notice window (within the cap,
    moving the fewest extra KK, when there is one), book missed KK into backlog seats, measure the
    levels."""
    prep = prepare(old_plan, ls, households, as_of, notice_days, attendance, options, reporter)
    return finish(prep, max_delay, reporter)


def finish(prep: Prepared, max_delay: int | None = None, reporter: Reporter | None = None) -> Replan:
    """Seat the movers of a prepared re-plan (under ``max_delay`` when given) and measure it. The
    prepared state is not changed, so one ``prepare`` serves several caps."""
    reporter = reporter or Reporter()
    ls, data, households, members, old, win = prep.ls, prep.data, prep.households, prep.members, prep.old, prep.win
    devices, in_service, split = prep.devices, prep.in_service, prep.split
    seating = prep.seating.copy()
    cap_bound: CapBound | None = None
    with reporter.stage("resolve: seat KK"):
        bound_last, bound_wait = seat_movers(
            data, households, old, devices, in_service, members, win, seating, prep.options
        )
        if max_delay is not None and max(move_delays(data.days, seating.changes), default=0) > max_delay:
            # The plan without a cap has the fewest moves; only when it breaks the cap is it replaced.
            seating = prep.seating.copy()
            bound_last, bound_wait, cap_bound = seat_capped(prep, seating, max_delay)
        backlog = book_backlog(
            ls, data, devices, win.missed, old, members, (seating.day, seating.shift, seating.device), win.w_end
        )
        seating.changes += visit_changes(prep)
        for i, booked in backlog.items():
            new: tuple[dt.date | None, int | None, str | None] = booked if booked is not None else (None, None, None)
            seating.changes.append(
                Change(
                    i,
                    (old.date[i], int(old.shift[i]), old.device[i]),
                    new,
                    "missed appointment: backlog seat"
                    if booked
                    else "missed appointment: no backlog seat left before the deadline",
                    False,
                )
            )
    levels = measure_levels(data, households, old, members, seating, split, bound_last, bound_wait, cap_bound)
    site_out = np.where(old.visited, -1, old.site)  # visited KK have no office appointment
    assignment = Assignment(
        site_out.astype(np.int32),
        seating.day.astype(np.int32),
        seating.shift.astype(np.int8),
        seating.device.astype(np.int32),
        devices,
        0,
    )
    timings = Timings()
    timings.add("resolve", time.perf_counter() - prep.started)
    result = Result(
        overall_status(levels),
        levels,
        assignment,
        data,
        None,
        time.perf_counter() - prep.started,
        prep.options,
        timings,
    )
    return Replan(
        result, seating.changes, prep.as_of, win.notice_end, split, backlog, max_delay, cap_bound, prep.visits
    )
