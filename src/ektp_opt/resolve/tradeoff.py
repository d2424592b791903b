"""The trade-off a planner chooses on: the largest delay of a moved KK against how many KK move
(``resolve --tradeoff``).

One ``prepare`` (device placement, kept KK) serves every cap; each cap is then planned per
kecamatan (``capped.KecamatanMovers.plan``), which gives the moves a plan makes at that cap and a
proven lower bound. From the smallest cap any plan can meet (proven in closed form, ``cap.py``) up
to the cap past which no KK beyond the must-move ones moves: beyond it the front is flat.

The kecamatan models of all caps are independent of one another: ``jobs`` processes plan them side
by side (forked once the kecamatan are built, so they share them without copying). Each model's
limits are deterministic (``KecamatanMovers.plan``), and the points are assembled from the answers
by cap and kecamatan, never by arrival: the front is the same, to the byte, with one process or
several (tests/resolve/test_resolve_cap.py).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from ektp_opt.progress import Reporter
from ektp_opt.resolve import Prepared, delays, finish, kecamatan_movers
from ektp_opt.resolve.cap import no_extra_cap, smallest_feasible_cap
from ektp_opt.resolve.capped import KecamatanMovers


class Answer(NamedTuple):
    """One kecamatan under one cap, as a forked process sends it back (a ``CapOutcome`` without
    its placements, which the front does not need)."""

    ok: bool
    moves: int
    bound: int
    largest_delay: int
    seconds: float


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


def front(prep: Prepared, caps: list[int] | None = None, reporter: Reporter | None = None, jobs: int = 1) -> Front:
    """The front over ``caps`` (default: ``default_caps``), its kecamatan models planned by ``jobs``
    processes. A point's ``seconds`` is the time its kecamatan models took, summed (with several
    processes, more than the wall time it added)."""
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
    planned = [cap for cap in todo if low <= cap < (no_cap.largest_delay or 0)]
    tasks = [(cap, k) for cap in planned for k in sorted(movers)]
    with reporter.stage("resolve: trade-off"):
        answers = plan_all(
            movers,
            tasks,
            jobs,
            lambda n: reporter.detail(f"{n}/{len(tasks)} kecamatan models ({len(planned)} caps, {jobs} process(es))"),
        )
    points = []
    for cap in todo:
        moves: int | None = None
        bound, worst, seconds = must, 0, 0.0
        if cap >= (no_cap.largest_delay or 0):  # the plan without a cap keeps this one
            moves, bound, worst = no_cap.moves, no_cap.bound, no_cap.largest_delay or 0
        elif cap >= low:
            outs = [answers[(cap, k)] for k in sorted(movers)]
            bound += sum(o.bound for o in outs)
            worst = max((o.largest_delay for o in outs), default=0)
            seconds = sum(o.seconds for o in outs)
            if all(o.ok for o in outs):
                moves = sum(o.moves for o in outs)
        points.append(FrontPoint(cap, moves, bound, worst if moves is not None else None, seconds))
    return Front(points, no_cap, must, low, flat, time.perf_counter() - start)


_MOVERS: dict[int, KecamatanMovers] = {}  # what the forked processes plan (set just before the fork)


def _plan_one(task: tuple[int, int]) -> tuple[tuple[int, int], Answer]:
    cap, k = task
    t0 = time.perf_counter()
    o = _MOVERS[k].plan(cap)
    return task, Answer(o.ok, o.moves, o.bound, o.largest_delay, time.perf_counter() - t0)


def _worker_signals() -> None:
    """A worker leaves Ctrl-C to the command (the terminal sends it to every process of the
    group): the command stops the pool, whose SIGTERM then ends the worker at once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def plan_all(
    movers: dict[int, KecamatanMovers],
    tasks: list[tuple[int, int]],
    jobs: int,
    progress: Callable[[int], None] = lambda n: None,
) -> dict[tuple[int, int], Answer]:
    """Each (cap, kecamatan) task planned, in this process (``jobs`` 1) or in ``jobs`` forked ones.
    Fork, not spawn: the kecamatan models of a city hold every KK that could move (Medan: about a
    million tuples); forked processes read the parent's copy instead of each unpickling its own,
    and no solver runs in the parent while they start."""
    global _MOVERS
    out: dict[tuple[int, int], Answer] = {}
    _MOVERS = movers
    try:
        if jobs <= 1 or len(tasks) <= 1:
            for n, task in enumerate(tasks, 1):
                key, answer = _plan_one(task)
                out[key] = answer
                progress(n)
            return out
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(min(jobs, len(tasks)), initializer=_worker_signals) as pool:
            for n, (key, answer) in enumerate(pool.imap_unordered(_plan_one, tasks), 1):
                out[key] = answer
                progress(n)
        return out
    finally:
        _MOVERS = {}
