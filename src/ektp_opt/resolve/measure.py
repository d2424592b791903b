"""The re-plan's levels (moves, completion, waiting, compactness) with their bounds, the delays
of the moves, and the re-plan's part of summary.json.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ektp_opt.inputs.households import Households
from ektp_opt.problem import ProblemData
from ektp_opt.resolve.capped import working_days_after
from ektp_opt.resolve.oldplan import OldPlan
from ektp_opt.resolve.records import CAP_SCOPE, KEPT_SCOPE, CapBound, Change, IntArray, Replan
from ektp_opt.resolve.seating import Seating
from ektp_opt.resolve.split import SplitResult
from ektp_opt.solver.metrics import plan_objectives
from ektp_opt.solver.result import LevelResult, claimed


def measure_levels(
    data: ProblemData,
    households: Households,
    old: OldPlan,
    members: IntArray,
    seating: Seating,
    split: SplitResult,
    bound_last: int,
    bound_wait: int,
    cap: CapBound | None = None,
) -> list[LevelResult]:
    """The re-plan's levels: moves (proven by the split model), then completion, waiting and
    compactness, each bounded given the kept appointments."""
    day, shift, movers = seating.day, seating.shift, seating.movers
    n = len(households)
    office = ~old.visited
    kept = ~np.isin(np.arange(n), [m[0] for m in movers] + sorted(seating.reseated)) & office
    home = data.kelurahan_kecamatan[households.kelurahan]
    measured = plan_objectives(
        day[office], members[office], households.kelurahan[office], old.site[office], home[office]
    )
    kept_obj = plan_objectives(day[kept], members[kept], households.kelurahan[kept], old.site[kept], home[kept])
    moved = int((((day != old.day) | (shift != old.shift)) & office).sum())
    if cap is None:
        moves = make_level(
            "moves", moved, split.bound, split.status == "OPTIMAL", split.seconds, "movers go after the notice window"
        )
    else:
        moves = make_level(
            "moves",
            moved,
            cap.must + cap.extra_bound,
            split.status == "OPTIMAL" and cap.proven,
            split.seconds,
            CAP_SCOPE,
        )
    levels = [
        moves,
        make_level(
            "completion", measured["completion"], max(kept_obj["completion"], bound_last + 1), True, 0.0, KEPT_SCOPE
        ),
        make_level("waiting", measured["waiting"], kept_obj["waiting"] + bound_wait, True, 0.0, KEPT_SCOPE),
        make_level("compactness", measured["compactness"], kept_obj["compactness"], True, 0.0, KEPT_SCOPE),
    ]
    return levels


def make_level(name: str, value: int, bound: int, proven: bool, seconds: float, scope: str) -> LevelResult:
    status = claimed(value, bound, proven)
    return LevelResult(name, value, min(bound, value), status, seconds, scope)


def move_delays(days: Sequence[dt.date], changes: list[Change], backlog: Collection[int] = ()) -> list[int]:
    """Working days between old and new appointment of each KK whose date changed (negative:
    earlier), counted as SPEC.md says: the working days after the old date up to the new one.
    KK missing a slot (``backlog``) are not moves."""
    return [
        working_days_after(days, c.old[0] or c.new[0], c.new[0])
        for c in changes
        if c.is_move and c.kk not in backlog and c.new[0] is not None and c.new[0] != c.old[0]
    ]


def delays(rp: Replan) -> list[int]:
    """``move_delays`` of a finished re-plan."""
    return move_delays(rp.result.problem.days, rp.changes, rp.backlog)


def summary_extra(rp: Replan, old_plan: Path, notice_days: int) -> dict[str, Any]:
    forced = sum(c.forced and c.is_move for c in rp.changes)
    moved_days = delays(rp)
    return {
        "old_plan": str(old_plan.resolve()),
        "as_of": rp.as_of.isoformat(),
        "notice_days": notice_days,
        "notice_end": rp.notice_end.isoformat() if rp.notice_end else None,
        "moved_kk": rp.moved,
        "moved_kk_proven_minimum": rp.result.levels[0].bound,  # the moves level: within the cap when there is one
        "forced_in_notice_window": forced,
        "new_device_same_slot": sum(not c.is_move and not c.visit and c.kk not in rp.backlog for c in rp.changes),
        "home_visits_changed": sum(c.visit for c in rp.changes),
        "missed_rebooked": sum(v is not None for v in rp.backlog.values()),
        "missed_not_rebooked": sum(v is None for v in rp.backlog.values()),
        "pool_split_status": rp.split.status,
        "moved_earlier": sum(d < 0 for d in moved_days),
        "moved_later": sum(d > 0 for d in moved_days),
        "largest_delay_working_days": max(moved_days, default=0),
        "max_delay": rp.max_delay,
        "moved_to_make_room": rp.cap.extra if rp.cap else 0,
        "moved_to_make_room_bound": rp.cap.extra_bound if rp.cap else 0,
    }
