"""Level 2 of the national master, the national waiting, by Dantzig-Wolfe decomposition
(models/NATIONAL.md).

Why this shape: a kecamatan's waiting depends on its own devices alone, and the kecamatan share
nothing but the wave counts (one row per wave). So level 2 is: choose for every kecamatan one
device vector (a *column*: devices of each wave), with at most ``count_w`` devices of wave w in
all. The LP over every column is as strong as the Lagrangian dual of the wave rows, and an optimal
basic solution of it splits at most one kecamatan per wave row between two columns: the integer
plan is then within a few kecamatan's waiting of the bound. A model by (kecamatan, day) rows,
instead, needed days in blocks of 8 to stay at 250 k rows on national-2012 and left 2.8 % between
its split and its bound after 300 s.

Columns are generated: the LP's wave prices λ ask every kecamatan for its cheapest vector at those
prices (``price``, exact: every vector that can be cheapest lies in a box found from the waiting's
diminishing returns), and each round gives the Lagrangian bound
Σ_k min_x (W_k(x) + λ·x) − λ·count, valid at any λ ≥ 0. When no kecamatan has a cheaper vector
the LP is optimal and its value is that bound. SCIP then picks one generated column per kecamatan
(the restricted master as an integer model); the split is valued exactly, day by day.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ektp_opt.solver import mip

if TYPE_CHECKING:
    from ektp_opt.national.master import MasterInput

Ints = npt.NDArray[np.int64]

# Pricing enumerates every vector in each kecamatan's box; past this many in a round (wave prices
# near zero make boxes huge) the rounds stop and the best bound found so far stands.
MAX_POINTS = 20_000_000


def waiting_at(mi: MasterInput, horizon: int, rows: Ints, x: Ints) -> Ints:
    """Waiting of kecamatan ``rows[i]`` with wave devices ``x[i]`` (one row per pair): the sum over
    days t < horizon of its residents still waiting at the start of t, in closed form. Device-days
    D(t) grow with t, so residents wait until the first day tau with seats·D(tau) >= residents
    (found by bisection), and the waiting is residents·tau − seats·Σ_{t<tau} D(t), each device
    serving Σ_{t<tau} (t − first)⁺ = n(n − 1)/2 device-days, n = tau − first."""
    r = mi.residents[rows]
    a = mi.fixed_first[rows]
    b = mi.wave_first[rows]
    lo = np.zeros(len(rows), dtype=np.int64)
    hi = np.full(len(rows), horizon, dtype=np.int64)
    while (open_ := lo < hi).any():
        mid = (lo + hi) // 2
        served = mi.fixed * np.maximum(0, mid - a) + (x * np.maximum(0, mid[:, None] - b)).sum(axis=1)
        enough = mi.seats * served >= r
        hi = np.where(open_ & enough, mid, hi)
        lo = np.where(open_ & ~enough, mid + 1, lo)

    def triangle(n: Ints) -> Ints:
        return np.where(n > 0, n * (n - 1) // 2, 0)  # type: ignore[no-any-return]

    served_before = mi.fixed * triangle(lo - a) + (x * triangle(lo[:, None] - b)).sum(axis=1)
    return r * lo - mi.seats * served_before  # type: ignore[no-any-return]


def shortfall(mi: MasterInput, horizon: int) -> tuple[Ints, Ints]:
    """Per kecamatan, the device-days its wave devices must add for it to be served by
    ``horizon`` (level 1 kept), and per (kecamatan, wave) the days a device serves before it
    (0: the wave comes too late, or has no device)."""
    short = mi.residents - mi.seats * mi.fixed * np.maximum(0, horizon - mi.fixed_first)
    need = np.maximum(0, -(-short // mi.seats))
    days = np.maximum(0, horizon - mi.wave_first)
    days[:, np.array(mi.wave_count) == 0] = 0
    return need, days


def boxes(mi: MasterInput, horizon: int, prices: npt.NDArray[np.float64], need: Ints, days: Ints) -> Ints:
    """Per (kecamatan, wave), the most devices a cheapest vector at ``prices`` can hold.

    Each day's waiting is a convex function of the device-days, so one more device of a wave saves
    no more when the kecamatan has more devices (diminishing returns). Take a cheapest vector x
    with x_w devices of wave w: if its last device of w saves at most the price (then so does the
    x_w-th device of w alone, the saving U_w below stops before it) and the vector still covers
    the kecamatan without it, dropping it costs nothing; so some cheapest vector has
    x_w <= max(U_w, ceil(need / days_w)), U_w being the number of devices of w alone whose saving
    exceeds the price (found by bisection, the savings falling)."""
    n_k, n_w = days.shape
    rows = np.arange(n_k)
    out = np.zeros((n_k, n_w), dtype=np.int64)
    for w in range(n_w):
        count = mi.wave_count[w]
        lo = np.zeros(n_k, dtype=np.int64)
        hi = np.full(n_k, count, dtype=np.int64)
        unit = np.zeros(n_w, dtype=np.int64)
        unit[w] = 1
        while (open_ := lo < hi).any():  # the first m whose (m + 1)-th device saves <= the price
            mid = (lo + hi) // 2
            saving = waiting_at(mi, horizon, rows, mid[:, None] * unit) - waiting_at(
                mi, horizon, rows, (mid + 1)[:, None] * unit
            )
            cheap = saving <= prices[w]
            hi = np.where(open_ & cheap, mid, hi)
            lo = np.where(open_ & ~cheap, mid + 1, lo)
        forced = -(-need // np.maximum(1, days[:, w]))
        out[:, w] = np.where(days[:, w] > 0, np.minimum(count, np.maximum(lo, forced)), 0)
    return out


def _covering(box: Ints, need: Ints, days: Ints) -> tuple[Ints, Ints] | None:
    """Every vector of every kecamatan's box (x_w from 0 to box_w) that covers it, in kecamatan
    order then the box's (lexicographic) order, with its kecamatan; None: more than MAX_POINTS."""
    sizes = np.prod(box + 1, axis=1)
    total = int(sizes.sum())
    if total > MAX_POINTS:
        return None
    n_k, n_w = box.shape
    owner = np.repeat(np.arange(n_k), sizes)
    index = np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    x = np.empty((total, n_w), dtype=np.int64)
    stride = np.ones(n_k, dtype=np.int64)
    for w in reversed(range(n_w)):
        x[:, w] = (index // stride[owner]) % (box[owner, w] + 1)
        stride *= box[:, w] + 1
    covers = (x * days[owner]).sum(axis=1) >= need[owner]
    return owner[covers], x[covers]


def price(
    mi: MasterInput, horizon: int, prices: npt.NDArray[np.float64], need: Ints, days: Ints
) -> tuple[npt.NDArray[np.float64], Ints] | None:
    """Every kecamatan's cheapest covering vector at the wave ``prices``: min over x with
    Σ_w x_w·days_w >= need of W_k(x) + prices·x, every vector of its box tried (the first
    cheapest, in the box's order, on a tie). Its value per kecamatan and the vectors; None when
    the boxes hold more than MAX_POINTS vectors."""
    found = _covering(boxes(mi, horizon, prices, need, days), need, days)
    if found is None:
        return None
    owner, x = found
    if np.unique(owner).size != len(need):
        raise AssertionError("a kecamatan has no covering vector in its box: level 1 was not kept")
    value = waiting_at(mi, horizon, owner, x) + x @ prices
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    least = np.minimum.reduceat(value, starts)
    at = np.flatnonzero(value == least[owner])
    first = at[np.r_[True, owner[at][1:] != owner[at][:-1]]]
    return least, x[first]


def near(
    mi: MasterInput,
    horizon: int,
    prices: npt.NDArray[np.float64],
    need: Ints,
    days: Ints,
    least: npt.NDArray[np.float64],
    slack: float,
) -> tuple[Ints, Ints] | None:
    """Every covering vector whose cost at ``prices`` is within ``slack`` of its kecamatan's
    ``least``: with slack = (a split's waiting) − (the Lagrangian bound at these prices), these
    are all the vectors any better split can take, since a split's costs above each least add up
    to at most its waiting minus the bound. Beyond the box (``boxes``), the j-th more device of
    wave w costs at least price − (saving of that device of w alone) >= 0 more, so the box grows by
    the devices whose excess so far stays within the slack. None: more than MAX_POINTS."""
    box = boxes(mi, horizon, prices, need, days)
    n_k, n_w = box.shape
    rows = np.arange(n_k)
    for w in range(n_w):
        unit = np.zeros(n_w, dtype=np.int64)
        unit[w] = 1
        base = waiting_at(mi, horizon, rows, box[:, w, None] * unit)
        lo = np.zeros(n_k, dtype=np.int64)  # the most j with j·price − (saving of j more) <= slack
        hi = np.where(days[:, w] > 0, mi.wave_count[w] - box[:, w], 0)
        while (open_ := lo < hi).any():
            mid = (lo + hi + 1) // 2
            saved = base - waiting_at(mi, horizon, rows, (box[:, w] + mid)[:, None] * unit)
            within = mid * prices[w] - saved <= slack + 1e-6
            lo = np.where(open_ & within, mid, lo)
            hi = np.where(open_ & ~within, mid - 1, hi)
        box[:, w] += lo
    found = _covering(box, need, days)
    if found is None:
        return None
    owner, x = found
    cost = waiting_at(mi, horizon, owner, x) + x @ prices
    keep = cost - least[owner] <= slack + 1e-6 + 1e-12 * np.abs(cost)
    return owner[keep], x[keep]


class _Columns:
    """The restricted master LP (GLOP): one column per generated (kecamatan, vector), a convexity
    row per kecamatan (= 1) and a row per wave (<= count). Kept between rounds, columns added."""

    def __init__(self, mi: MasterInput, horizon: int) -> None:
        from ortools.linear_solver import pywraplp

        self.mi, self.horizon = mi, horizon
        self.lp = pywraplp.Solver.CreateSolver("GLOP")
        self.waves = [self.lp.Add(self.lp.Sum([]) <= float(c)) for c in mi.wave_count]
        self.one = [self.lp.Add(self.lp.Sum([]) == 1.0) for _ in mi.kecamatan]
        self.objective = self.lp.Objective()
        self.objective.SetMinimization()
        self.seen: list[set[tuple[int, ...]]] = [set() for _ in mi.kecamatan]
        self.cost: list[tuple[int, tuple[int, ...], int]] = []  # (kecamatan, vector, waiting)

    def add(self, ks: Ints, xs: Ints) -> int:
        """Add the vectors not yet columns; returns how many were new."""
        fresh = [(k, tuple(x)) for k, x in zip(ks.tolist(), xs.tolist(), strict=True) if tuple(x) not in self.seen[k]]
        if not fresh:
            return 0
        ks_new = np.array([k for k, _x in fresh], dtype=np.int64)
        xs_new = np.array([x for _k, x in fresh], dtype=np.int64).reshape(len(fresh), len(self.mi.wave_count))
        waiting = waiting_at(self.mi, self.horizon, ks_new, xs_new).tolist()
        for (k, x), wait in zip(fresh, waiting, strict=True):
            v = self.lp.NumVar(0.0, 1.0, "")
            self.one[k].SetCoefficient(v, 1.0)
            for w, n in enumerate(x):
                if n:
                    self.waves[w].SetCoefficient(v, float(n))
            self.objective.SetCoefficient(v, float(wait))
            self.seen[k].add(x)
            self.cost.append((k, x, wait))
        return len(fresh)

    def solve(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
        """The wave prices (λ >= 0) and each kecamatan's convexity dual, or None (no LP answer)."""
        if mip.solve(self.lp) != "OPTIMAL":
            return None
        prices = np.array([max(0.0, -c.dual_value()) for c in self.waves])
        return prices, np.array([c.dual_value() for c in self.one])

    def pick(self, hint: Ints, limit: float) -> tuple[Ints | None, float | None]:
        """One column per kecamatan, the wave counts kept, the least waiting (SCIP on the
        restricted master as an integer model, ``hint`` a split whose rows are columns): the split
        (None: no answer in time) and SCIP's proven bound over these columns."""
        solver = mip.make_mip(limit)
        n_w = len(self.mi.wave_count)
        z = [solver.BoolVar("") for _ in self.cost]
        by_k: list[list[int]] = [[] for _ in self.mi.kecamatan]
        per_wave: list[list[Any]] = [[] for _ in range(n_w)]
        for i, (k, x, _wait) in enumerate(self.cost):
            by_k[k].append(i)
            for w, n in enumerate(x):
                if n:
                    per_wave[w].append(n * z[i])
        for cols in by_k:
            solver.Add(solver.Sum([z[i] for i in cols]) == 1)
        for w, terms in enumerate(per_wave):
            if terms:
                solver.Add(solver.Sum(terms) <= self.mi.wave_count[w])
        solver.Minimize(solver.Sum([wait * z[i] for i, (_k, _x, wait) in enumerate(self.cost)]))
        rows = [tuple(r) for r in hint.tolist()]
        solver.SetHint(z, [1.0 if rows[k] == x else 0.0 for k, x, _w in self.cost])
        st = mip.solve(solver)
        if st not in ("OPTIMAL", "FEASIBLE"):
            return None, None
        split = np.zeros((len(self.mi.kecamatan), n_w), dtype=np.int64)
        for i, (k, x, _wait) in enumerate(self.cost):
            if z[i].solution_value() > 0.5:
                split[k] = x
        return split, float(mip.bound(solver))


def neighbours(split: Ints, need: Ints, days: Ints, counts: list[int]) -> tuple[Ints, Ints]:
    """Each kecamatan's row of ``split`` with one device of a wave more or fewer (covering still):
    first columns around a good split, so that the first LP prices every wave."""
    n_w = split.shape[1]
    ks, xs = [np.zeros(0, dtype=np.int64)], [np.zeros((0, n_w), dtype=np.int64)]
    for w in range(n_w):
        more = split.copy()
        more[:, w] += 1
        ok = (days[:, w] > 0) & (more[:, w] <= counts[w])
        less = split.copy()
        less[:, w] -= 1
        ok_less = (less[:, w] >= 0) & ((less * days).sum(axis=1) >= need)
        for rows, ok_rows in ((more, ok), (less, ok_less)):
            ks.append(np.flatnonzero(ok_rows))
            xs.append(rows[ok_rows])
    return np.concatenate(ks), np.concatenate(xs)


def decompose(
    mi: MasterInput, horizon: int, splits: list[Ints], limit: float
) -> tuple[Ints | None, int | None, dict[str, Any]]:
    """Level 2 by column generation from ``splits`` (each finishing by ``horizon``; the last is
    the hint for the integer pick): the best split picked (None: no answer in time), the bound
    proven (None: no round priced), and what was done (rounds, columns, seconds) for the record.

    The bound is the best Lagrangian bound of the rounds. When the split picked is above it, every
    vector within the difference of its kecamatan's least cost (``near``) joins the columns and
    SCIP picks again: the columns then hold every split better than the one in hand, so SCIP's
    own bound over them is a bound for level 2, and its optimum the optimum."""
    began = time.perf_counter()
    need, days = shortfall(mi, horizon)
    columns = _Columns(mi, horizon)
    n_k = len(mi.kecamatan)
    for split in splits:
        columns.add(np.arange(n_k), split)
    columns.add(*neighbours(splits[-1], need, days, mi.wave_count))
    counts = np.array(mi.wave_count, dtype=np.float64)
    best: tuple[float, npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None  # bound, prices, least
    rounds = 0
    while time.perf_counter() - began < 0.6 * limit:
        duals = columns.solve()
        if duals is None:
            break
        prices, one = duals
        priced = price(mi, horizon, prices, need, days)
        rounds += 1
        if priced is None:
            break
        least, vectors = priced
        bound = math.fsum(least.tolist()) - float(prices @ counts)
        if best is None or bound > best[0]:
            best = (bound, prices, least)
        cheaper = least < one - 1e-7 * np.maximum(1.0, np.abs(one))
        if not cheaper.any() or columns.add(np.flatnonzero(cheaper), vectors[cheaper]) == 0:
            break  # no kecamatan has a cheaper vector: the LP is optimal, its value the bound
    picked, _over_generated = columns.pick(splits[-1], max(1.0, 0.8 * limit - (time.perf_counter() - began)))
    proven = None if best is None else _at_most(best[0])
    record: dict[str, Any] = {"rounds": rounds, "columns": len(columns.cost), "complete": False}
    if picked is not None and best is not None and proven is not None:
        value = int(waiting_at(mi, horizon, np.arange(n_k), picked).sum())
        if value > proven:
            found = near(mi, horizon, best[1], need, days, best[2], value - best[0])
            if found is not None:
                columns.add(*found)
                again, over_all = columns.pick(picked, max(1.0, limit - (time.perf_counter() - began)))
                if again is not None and over_all is not None:
                    picked, proven = again, max(proven, _at_most(over_all))
                    record.update(columns=len(columns.cost), complete=True)
        else:
            record["complete"] = True
    record["seconds"] = round(time.perf_counter() - began, 3)
    return picked, proven, record


def _at_most(bound: float) -> int:
    """A bound on an integer waiting, never above the float given: taken down by more than the
    rounding of the sums behind it (< 0.01 resident-days on national-2012), then rounded up."""
    return math.ceil(bound - 1e-6 - 1e-11 * abs(bound))
