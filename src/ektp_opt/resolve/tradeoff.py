"""The trade-off a planner chooses on: the largest delay of a moved KK against how many KK move
(``resolve --tradeoff``).

One ``prepare`` (device placement, kept KK) serves every cap; each cap is then planned per
kecamatan (``capped.KecamatanMovers.plan``), which gives the moves a plan makes at that cap and a
proven lower bound. From the smallest cap any plan can meet (proven in closed form, ``cap.py``) up
to the cap past which no KK beyond the must-move ones moves: beyond it the front is flat.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

from ektp_opt.progress import Reporter
from ektp_opt.resolve import Prepared, delays, finish, kecamatan_movers
from ektp_opt.resolve.cap import no_extra_cap, smallest_feasible_cap

MIP_SECONDS = 5.0  # per kecamatan and cap: the bound is reported as far as it got


@dataclass(frozen=True)
class FrontPoint:
    cap: int | None  # working days; None: the plan without a cap
    moves: int | None  # KK a plan moves at this cap; None: no plan found that meets it
    bound: int  # no plan within this cap moves fewer KK (given the device placement)
    largest_delay: int | None  # the largest delay in that plan, working days
    seconds: float


@dataclass(frozen=True)
class Front:
    points: list[FrontPoint]  # every cap evaluated, in order
    no_cap: FrontPoint  # resolve without a cap: the fewest moves of all
    must: int  # KK that move under any cap (their cell lost seats)
    smallest_cap_bound: int  # no plan meets a smaller cap
    flat_from: int  # from this cap on, only the must-move KK move
    seconds: float

    def to_json(self) -> dict[str, Any]:
        point = lambda p: dataclasses.asdict(p)  # noqa: E731
        return {
            "must_move": self.must,
            "smallest_cap_bound": self.smallest_cap_bound,
            "flat_from": self.flat_from,
            "seconds": round(self.seconds, 2),
            "points": [point(p) for p in self.points],
            "no_cap": point(self.no_cap),
            "pareto_caps": [p.cap for p in self.pareto],
        }

    @property
    def pareto(self) -> list[FrontPoint]:
        """The points no other point beats on both counts (fewer moves for a cap no larger)."""
        out: list[FrontPoint] = []
        for p in [*self.points, self.no_cap]:
            if p.moves is not None and (not out or p.moves < (out[-1].moves or 0)):
                out.append(p)
        return out


def default_caps(low: int, flat: int) -> list[int]:
    """Every cap for the first ten working days from the smallest one, then every fifth, and the
    last one before the plan without a cap keeps the cap itself: the steep part in full, the long
    tail sampled."""
    caps = set(range(low, min(flat, low + 10) + 1)) | set(range(low + 10, flat, 5)) | {flat}
    return sorted(c for c in caps if low <= c <= flat)


def front(prep: Prepared, caps: list[int] | None = None, reporter: Reporter | None = None) -> Front:
    reporter = reporter or Reporter()
    start = time.perf_counter()
    movers = kecamatan_movers(prep, prep.seating)
    horizon = 2 * prep.data.regular_days
    must = sum(len(km.must) for km in movers.values())
    low = max((smallest_feasible_cap(km.model, horizon) or horizon for km in movers.values()), default=0)
    flat = max([no_extra_cap(km.model, horizon) for km in movers.values()] + [low])
    t0 = time.perf_counter()
    rp = finish(prep)  # the plan without a cap: the fewest moves, and from its largest delay on it is the answer
    no_cap = FrontPoint(None, rp.moved, rp.split.bound, max(delays(rp), default=0), time.perf_counter() - t0)
    top = max(low, (no_cap.largest_delay or 0) - 1)
    todo = default_caps(low, top) if caps is None else sorted(set(caps))
    points = []
    with reporter.stage("resolve: trade-off"):
        for n, cap in enumerate(todo, 1):
            reporter.detail(f"cap {cap} working days ({n}/{len(todo)} caps)")
            t0 = time.perf_counter()
            moves: int | None = None
            bound, worst = must, 0
            if cap >= (no_cap.largest_delay or 0):  # the plan without a cap keeps this one
                moves, bound, worst = no_cap.moves, no_cap.bound, no_cap.largest_delay or 0
            elif cap >= low:
                outs = [km.plan(cap, MIP_SECONDS) for km in movers.values()]
                bound += sum(o.bound for o in outs)
                worst = max((o.largest_delay for o in outs), default=0)
                if all(o.ok for o in outs):
                    moves = sum(o.moves for o in outs)
            points.append(FrontPoint(cap, moves, bound, worst if moves is not None else None, time.perf_counter() - t0))
    return Front(points, no_cap, must, low, flat, time.perf_counter() - start)
