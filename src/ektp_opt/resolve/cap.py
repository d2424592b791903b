"""A cap on each moved KK's delay: which extra KK must make room, one kecamatan at a time.

With ``resolve --max-delay N`` a KK that moves may be appointed at most N working days after its
old appointment (earlier is allowed, never inside the notice window). The KK that *must* move
(their cell lost seats, largest families first) often find no free seat within N days: seats free
up only where other KK leave. So a capped re-plan moves extra KK, each of which must itself land
within N days of its own old day: a chain that pushes the kecamatan's schedule along.

The model (models/FORMULATION.md, "resolve --max-delay"), per kecamatan, given the device placement
and the KK that must move:

- every mover has a *deadline*, the last regular day within N working days of its old date; all
  windows start at the same day (the end of the notice window), so by Hall's theorem the movers
  fit in fluid terms exactly when, for every day t, the members whose deadline is t or earlier fit
  into the seats free from the window's start to t;
- ``z[e, s]``: how many KK of ``s`` members that keep day ``e`` move instead. Moving them frees
  ``s`` seats on day e and asks for ``s`` seats by day ``e + N``: they help every prefix ending in
  ``[e, e + N)`` and no other, so the condition for prefix t reads
  ``sum over e in (t - N, t] of s * z[e, s] >= demand(t) - free seats up to t``;
- minimise ``sum z``: the fewest extra KK.

Those are covering rows with an interval structure; SCIP (``solver/mip.py``) solves a kecamatan in
milliseconds. The optimum is a lower bound on the extra moves of any plan (families only make the
fluid picture harder), so each point reports its bound; ``feasible_cap`` checks the same condition
with every KK allowed to move, in closed form, which proves the smallest cap that can be met at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ektp_opt.solver import mip

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class KecamatanCap:
    """One kecamatan in plain arrays; days are indices of regular days."""

    w_end: int  # first day a mover may take
    free: IntArray  # (n_days,) seats free for movers on each day (0 before w_end)
    keepers: IntArray  # (n_days, max size + 1) KK that keep day e, by members (0 before w_end)
    must_size: IntArray  # members of each KK that must move
    must_reach: IntArray  # per such KK, the last day index within 0 working days of its old date

    @property
    def n_days(self) -> int:
        return len(self.free)

    def deadlines(self, cap: int) -> IntArray:
        """The last day each must-move KK may take under ``cap`` (clipped to the horizon)."""
        return np.minimum(self.must_reach + cap, self.n_days - 1)

    def shortfall(self, cap: int, extra_demand: IntArray | None = None) -> IntArray:
        """(n_days,) members due by day t minus the free seats from w_end to t, before any KK
        that keeps its day moves; the prefix rows of the model need z to cover the positive part."""
        n = self.n_days
        due = np.zeros(n, dtype=np.int64)
        dl = self.deadlines(cap)
        np.add.at(due, np.maximum(dl, 0), self.must_size)
        due = np.cumsum(due)
        if extra_demand is not None:
            due = due + np.cumsum(extra_demand)
        return due - np.cumsum(self.free)

    def helpers(self, cap: int) -> IntArray:
        """(n_days,) members that could move to make room for prefix t: those of days e in
        [max(w_end, t - cap + 1), t] whose own deadline lies past t."""
        n = self.n_days
        member_rows = self.keepers @ np.arange(self.keepers.shape[1], dtype=np.int64)
        out = np.zeros(n, dtype=np.int64)
        for t in range(self.w_end, n):
            lo = max(self.w_end, t - cap + 1)
            if min(t + 1, n) > lo and t < n - 1:  # at the last day every mover's deadline is t
                out[t] = int(member_rows[lo : t + 1].sum())
        return out


def feasible(kc: KecamatanCap, cap: int, extra_demand: IntArray | None = None) -> bool:
    """Whether some choice of extra movers meets ``cap`` in the fluid picture (every keeper may
    move). A must-move KK whose deadline falls before the notice window ends can never make it."""
    if len(kc.must_size) == 0:
        return True
    if (kc.deadlines(cap) < kc.w_end).any():
        return False
    gap = kc.shortfall(cap, extra_demand)
    return bool((gap[kc.w_end :] <= kc.helpers(cap)[kc.w_end :]).all())


def smallest_feasible_cap(kc: KecamatanCap, upper: int) -> int | None:
    """The least cap in [0, upper] that ``feasible`` accepts (feasibility grows with the cap:
    every window only widens); None when even ``upper`` fails."""
    if not feasible(kc, upper):
        return None
    lo, hi = 0, upper
    while lo < hi:
        mid = (lo + hi) // 2
        if feasible(kc, mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def no_extra_cap(kc: KecamatanCap, upper: int) -> int:
    """The least cap at which no KK beyond the must-move ones needs to move (fluid picture)."""
    lo, hi = 0, upper
    ok = lambda c: (kc.deadlines(c) >= kc.w_end).all() and (kc.shortfall(c)[kc.w_end :] <= 0).all()  # noqa: E731
    if len(kc.must_size) == 0 or ok(0):
        return 0
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


@dataclass(frozen=True)
class ExtraMoves:
    status: str  # OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN
    take: dict[tuple[int, int], int]  # (day, members) -> KK of that size that move from that day
    count: int
    bound: int  # proven lower bound on the extra moves


GAP = 1e-3  # relative gap at which a kecamatan's model stops; the bound is reported beside the value
# Branch-and-bound nodes a kecamatan's model may use: a limit that stops at the same point on any
# machine and under any load, so that ``resolve --tradeoff`` gives the same front on one process or
# several, and a point of it is what ``--max-delay`` then plans. Medan's slip: most of its 456 models
# prove the gap in a few nodes; the hardest (caps 12-15) ran 1,822 nodes in the 5 s they had before.
# At 200 their bounds are within 2 KK of those at 1,000 nodes, and the front takes 43 s, not 50.
MIP_NODES = 200
# SCIP's presolve finds nothing to take from these covering rows, and its root cut rounds stop
# paying after a few. Medan slip, 18 caps x 19 kecamatan, this machine, one process: 53 s with
# SCIP's defaults, 40 s without presolve, 31 s with five root rounds as well; extra KK over every
# model 1,307,232 / 1,307,234 / 1,307,224, bounds summed 1,306,445 / 1,306,445 / 1,306,443.
SCIP_SETTINGS: dict[str, object] = {"presolving/maxrounds": 0, "separating/maxroundsroot": 5}


def extra_moves(
    kc: KecamatanCap, cap: int, limit: float, extra_demand: IntArray | None = None, nodes: int | None = MIP_NODES
) -> ExtraMoves:
    """The fewest KK beyond the must-move ones, by day and size, that meet ``cap`` (SCIP, to a
    relative gap of ``GAP``: closing the last unit can take SCIP minutes on Medan-sized days)."""
    if not feasible(kc, cap, extra_demand):
        return ExtraMoves("INFEASIBLE", {}, 0, 0)
    gap = kc.shortfall(cap, extra_demand)
    rows = [t for t in range(kc.w_end, kc.n_days) if gap[t] > 0]
    if not rows:
        return ExtraMoves("OPTIMAL", {}, 0, 0)
    first = max(kc.w_end, rows[0] - cap + 1)
    solver = mip.make_mip(limit, nodes, SCIP_SETTINGS)
    z: dict[tuple[int, int], Any] = {}
    by_day: dict[int, list[tuple[int, Any]]] = {}
    for e in range(first, rows[-1] + 1):
        for s in np.flatnonzero(kc.keepers[e]).tolist():
            if s > 0:
                z[(e, s)] = solver.IntVar(0, int(kc.keepers[e, s]), f"z_{e}_{s}")
                by_day.setdefault(e, []).append((s, z[(e, s)]))
    n = kc.n_days
    # Built through the solver's own rows (the natural API's expressions took most of the time of
    # a Medan front): row t holds the KK of days (t - cap, t] from first on; none at the last day.
    for t in rows:
        row = solver.Constraint(float(gap[t]), solver.infinity())
        if t < n - 1:
            for e in range(max(first, t - cap + 1), t + 1):
                for s, v in by_day.get(e, ()):
                    row.SetCoefficient(v, float(s))
    objective = solver.Objective()
    for v in z.values():
        objective.SetCoefficient(v, 1.0)
    objective.SetMinimization()
    status = mip.solve(solver, GAP)
    if status not in ("OPTIMAL", "FEASIBLE"):
        return ExtraMoves(status, {}, 0, 0)
    take = {key: round(v.solution_value()) for key, v in z.items() if round(v.solution_value()) > 0}
    count = sum(take.values())
    low = min(count, mip.bound(solver))
    return ExtraMoves("OPTIMAL" if low == count else "FEASIBLE", take, count, low)
