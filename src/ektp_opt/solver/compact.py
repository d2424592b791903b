"""Levels 3 and 4: which kelurahan are invited on which day (and, with overflow, to which site).

Input: the level-2 service profile ``served[site, day]``. Output: quotas ``r[kelurahan, site,
day]`` in residents, with the fewest (kelurahan, day) pairs, then the fewest residents away from
home. Without overflow the problem splits by kecamatan.

Bound (models/FORMULATION.md §5): the bipartite graph kelurahan–days with an edge per pair has
n + D - c edges when it is a forest of c components, and every component's kelurahan residents
must equal the seats of some subset of its days. So c is at most the longest chain of kelurahan
subsets whose residents are each a subset-sum of the day seats, and pairs >= n + D - c_max. When
no proper subset qualifies (the usual case) this proves the sequential order optimal with no
search at all; otherwise CP-SAT searches with the bound added as a valid cut.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from ektp_opt.problem import ProblemData
from ektp_opt.progress import Reporter
from ektp_opt.solver.cpsat import found, run_many
from ektp_opt.solver.cpsat import run as cpsat_run
from ektp_opt.solver.params import SolveOptions, make_solver
from ektp_opt.solver.result import LevelResult, Status

Quota = dict[tuple[int, int], list[tuple[int, int]]]  # (site, day) -> [(kelurahan, residents)]
MAX_SUBSET_KELURAHAN = 16


@dataclass
class CompactResult:
    quotas: Quota
    compactness: LevelResult
    overflow: LevelResult | None


def sequential_fill(
    amounts: Sequence[tuple[int, int]], days: Sequence[int], caps: Sequence[int]
) -> dict[int, list[tuple[int, int]]]:
    """Kelurahan one after another, each filling days in order: D + n - 1 pairs at most."""
    out: dict[int, list[tuple[int, int]]] = {d: [] for d in days}
    i, left = 0, list(caps)
    for kel, amount in amounts:
        rest = amount
        while rest > 0:
            take = min(rest, left[i])
            if take:
                out[days[i]].append((kel, take))
                left[i] -= take
                rest -= take
            if left[i] == 0 and rest > 0:
                i += 1
    return out


def component_bound(pops: Sequence[int], caps: Sequence[int]) -> int:
    """Upper bound on the number of components c (see module docstring)."""
    n = len(pops)
    if n > MAX_SUBSET_KELURAHAN:
        return min(n, len(caps))
    reach = 1
    for c in caps:
        reach |= reach << int(c)
    masks = np.arange(1, (1 << n) - 1, dtype=np.int64)
    bits = (masks[:, None] >> np.arange(n)) & 1
    sums = bits @ np.asarray(pops, dtype=np.int64)
    good = [int(m) for m, s in zip(masks.tolist(), sums.tolist(), strict=True) if (reach >> s) & 1]
    good.sort(key=lambda m: bin(m).count("1"))
    chain: dict[int, int] = {}
    for m in [*good, (1 << n) - 1]:
        inner = [chain[g] for g in chain if g & ~m == 0 and g != m]
        chain[m] = 1 + max(inner, default=0)
    return min(chain[(1 << n) - 1], len(caps))


def plan_pairs_bound(
    kelurahan: npt.NDArray[np.integer],
    day: npt.NDArray[np.integer],
    members: npt.NDArray[np.integer],
    kec_of_kel: npt.NDArray[np.integer],
) -> int:
    """The component bound on (kelurahan, day) pairs for the amounts a finished plan serves (its
    office KK: kelurahan, day, members), summed over kecamatan: no plan that serves each kecamatan
    the same residents on the same days uses fewer pairs. For a seating that left the level-2
    profile (families that did not fit their day), where the profile's own bound need not hold."""
    total = 0
    kec = kec_of_kel[kelurahan]
    for k in np.unique(kec).tolist():
        mine = kec == k
        _kels, where = np.unique(kelurahan[mine], return_inverse=True)
        pops = np.bincount(where, weights=members[mine]).astype(np.int64).tolist()
        _days, inverse = np.unique(day[mine], return_inverse=True)
        caps = np.bincount(inverse, weights=members[mine]).astype(np.int64).tolist()
        total += len(pops) + len(caps) - component_bound(pops, caps)
    return total


def _subset_with_sum(caps: Sequence[int], target: int) -> list[int] | None:
    """Indices of caps summing to exactly ``target`` (subset sum by bitsets), or None."""
    reach = [1]
    for c in caps:
        reach.append(reach[-1] | (reach[-1] << int(c)))
    if not (reach[-1] >> target) & 1:
        return None
    chosen = []
    for j in range(len(caps), 0, -1):
        if not (reach[j - 1] >> target) & 1:  # target needs cap j-1
            chosen.append(j - 1)
            target -= int(caps[j - 1])
    return chosen[::-1]


def split_fill(
    kels: Sequence[int], pops: Sequence[int], days: Sequence[int], caps: Sequence[int]
) -> dict[int, list[tuple[int, int]]]:
    """The sequential fill, after splitting the kecamatan into independent components: the
    smallest group of kelurahan whose residents exactly fill some of the days is given those
    days, and so on, greedily. Each component of k kelurahan and m days costs k + m - 1 pairs, so
    every split saves one (module docstring); with a split per chain link it meets the bound."""
    left = list(range(len(pops)))
    free = list(range(len(days)))
    parts: list[tuple[list[int], list[int]]] = []
    while len(left) > 1 and len(left) <= MAX_SUBSET_KELURAHAN:
        masks = sorted(range(1, (1 << len(left)) - 1), key=lambda m: (bin(m).count("1"), m))
        split = None
        for mask in masks:
            group = [left[i] for i in range(len(left)) if mask >> i & 1]
            chosen = _subset_with_sum([caps[j] for j in free], sum(pops[i] for i in group))
            if chosen is not None:
                split = group, [free[j] for j in chosen]
                break
        if split is None:
            break
        parts.append(split)
        left = [i for i in left if i not in split[0]]
        free = [j for j in free if j not in split[1]]
    parts.append((left, free))
    out: dict[int, list[tuple[int, int]]] = {d: [] for d in days}
    for group, part_days in parts:
        part_days = sorted(part_days)
        fill = sequential_fill(
            [(kels[i], pops[i]) for i in group], [days[j] for j in part_days], [caps[j] for j in part_days]
        )
        for d, items in fill.items():
            out[d].extend(items)
    return out


def _pairs(plan: dict[int, list[tuple[int, int]]]) -> int:
    return sum(len(v) for v in plan.values())


# Time goes where the gap is, in CP-SAT's deterministic time (the same work on a loaded or a faster
# machine): a kecamatan whose sequential fill is g pairs above its component bound gets
# DTIME_PER_PAIR * g, within [DTIME_MIN, DTIME_MAX]. Measured on Medan (FORMULATION.md §5): the
# search finds its last improvement early; 26 s of wall-clock budget gave 1,933 pairs, this 2 s.
DTIME_PER_PAIR = 0.02
DTIME_MIN = 0.1
DTIME_MAX = 1.0


@dataclass
class _KecamatanSearch:
    """One kecamatan's level-3 model, solved alone on one CP-SAT worker within a deterministic-time
    budget: the same answer whatever else runs beside it, so searches can run side by side."""

    kels: Sequence[int]
    days: Sequence[int]
    hint: dict[int, list[tuple[int, int]]]
    bound: int
    model: cp_model.CpModel
    r: list[list[cp_model.IntVar]]
    solver: cp_model.CpSolver

    def outcome(self, code: object) -> tuple[dict[int, list[tuple[int, int]]], int, Status]:
        if not found(code):
            return self.hint, self.bound, "FEASIBLE"
        out: dict[int, list[tuple[int, int]]] = {d: [] for d in self.days}
        for j, d in enumerate(self.days):
            for i, kel in enumerate(self.kels):
                q = self.solver.value(self.r[i][j])
                if q:
                    out[d].append((kel, q))
        best_bound = max(self.bound, int(np.ceil(self.solver.best_objective_bound - 1e-6)))
        status: Status = "OPTIMAL" if code == cp_model.OPTIMAL else "FEASIBLE"
        if _pairs(out) > _pairs(self.hint):  # never worse than the sequential order
            return self.hint, best_bound, "FEASIBLE"
        return out, best_bound, status


def _kecamatan_search(
    kels: Sequence[int],
    pops: Sequence[int],
    days: Sequence[int],
    caps: Sequence[int],
    hint: dict[int, list[tuple[int, int]]],
    bound: int,
    options: SolveOptions,
    cpsat: dict[str, object],
    limit: float,
    dtime: float,
) -> _KecamatanSearch:
    m = cp_model.CpModel()
    r = [[m.new_int_var(0, min(p, c), f"r_{i}_{j}") for j, c in enumerate(caps)] for i, p in enumerate(pops)]
    u = [[m.new_bool_var(f"pair_{kels[i]}_{days[j]}") for j in range(len(days))] for i in range(len(pops))]
    for i, p in enumerate(pops):
        m.add(sum(r[i]) == p)
        for j, c in enumerate(caps):
            m.add(r[i][j] <= min(p, c) * u[i][j])
            m.add(r[i][j] >= 1).only_enforce_if(u[i][j])
    for j, c in enumerate(caps):
        m.add(sum(r[i][j] for i in range(len(pops))) == c)
    total = sum(x for row in u for x in row)
    m.add(total >= bound).with_name("component_bound_cut")
    m.minimize(total)
    where = {kel: i for i, kel in enumerate(kels)}
    col = {d: j for j, d in enumerate(days)}
    for d, items in hint.items():
        for kel, q in items:
            m.add_hint(r[where[kel]][col[d]], q)
            m.add_hint(u[where[kel]][col[d]], 1)
    solver = make_solver(dataclasses.replace(options, workers=1), cpsat, limit)  # type: ignore[arg-type]
    solver.parameters.max_deterministic_time = dtime
    return _KecamatanSearch(kels, days, hint, bound, m, r, solver)


def compact_home_only(
    data: ProblemData,
    served: npt.NDArray[np.int64],
    options: SolveOptions,
    cpsat: dict[str, object],
    limit: float,
    reporter: Reporter,
    scope: str,
    threads: int | None = None,
    search: bool = True,
) -> CompactResult:
    """Kecamatan by kecamatan: the sequential fill, proven optimal by the component bound where
    it meets it, else a one-worker CP-SAT search (``search``; without it, the fill with its
    bound); ``threads`` searches run at once (default: the run's workers)."""
    start = time.perf_counter()
    quotas: Quota = {}
    value = bound = 0
    all_optimal = True
    kept = 0  # kecamatan above their bound that kept their fill (no search)
    searches: list[tuple[int, _KecamatanSearch]] = []
    for k in range(data.n_kec):
        kels = [int(i) for i in np.flatnonzero(data.kelurahan_kecamatan == k)]
        pops = [int(data.kelurahan_residents[i]) for i in kels]
        kels = [kel for kel, p in zip(kels, pops, strict=True) if p > 0]
        pops = [p for p in pops if p > 0]
        days = [int(d) for d in np.flatnonzero(served[k] > 0)]
        caps = [int(served[k, d]) for d in days]
        if not kels:
            continue
        hint = sequential_fill(list(zip(kels, pops, strict=True)), days, caps)
        lb = len(kels) + len(days) - component_bound(pops, caps)
        if _pairs(hint) > lb:
            split = split_fill(kels, pops, days, caps)
            if _pairs(split) < _pairs(hint):
                hint = split
        if _pairs(hint) > lb:
            if search:
                dtime = min(DTIME_MAX, max(DTIME_MIN, DTIME_PER_PAIR * (_pairs(hint) - lb)))
                searches.append((k, _kecamatan_search(kels, pops, days, caps, hint, lb, options, cpsat, limit, dtime)))
                continue
            kept += 1
            all_optimal = False
        value += _pairs(hint)
        bound += lb
        for d, items in hint.items():
            quotas[(k, d)] = items
    codes = run_many([(s.solver, s.model) for _k, s in searches], threads or options.workers)
    for (k, searched), code in zip(searches, codes, strict=True):
        plan, kec_bound, status = searched.outcome(code)
        all_optimal &= status == "OPTIMAL" and _pairs(plan) == kec_bound
        value += _pairs(plan)
        bound += kec_bound
        for d, items in plan.items():
            quotas[(k, d)] = items
    reporter.solving("compactness", value, bound, time.perf_counter() - start)
    if search:
        note = f"{len(searches)} kecamatan needed a CP-SAT search; the rest met the component bound"
    else:
        note = f"{kept} kecamatan kept their fill above the component bound (no search in this preset)"
    level = LevelResult(
        "compactness",
        value,
        bound,
        "OPTIMAL" if all_optimal else "FEASIBLE",
        time.perf_counter() - start,
        scope=scope,
        note=note,
    )
    return CompactResult(quotas, level, None)


def _site_amounts(data: ProblemData, away: dict[tuple[int, int], int]) -> dict[int, list[tuple[int, int]]]:
    """Residents of each kelurahan at each site, home first, in kelurahan order."""
    at: dict[int, list[tuple[int, int]]] = {k: [] for k in range(data.n_kec)}
    for kel, options in enumerate(data.sites):
        home = options[0][0]
        moved = sum(away.get((kel, site), 0) for site, _ in options[1:])
        if data.kelurahan_residents[kel] - moved > 0:
            at[home].append((kel, int(data.kelurahan_residents[kel]) - moved))
        for site, _ in options[1:]:
            if away.get((kel, site), 0) > 0:
                at[site].append((kel, away[(kel, site)]))
    for k in at:
        at[k].sort()
    return at


def days_needed_bound(data: ProblemData, served: npt.NDArray[np.int64], horizon: int) -> int:
    """A lower bound on (kelurahan, day) pairs when kelurahan may use several offices: on day d a
    kelurahan can send at most what its offices serve that day, so it needs at least as many days
    as it takes its best days to hold its residents. Summed over kelurahan; valid for the fixed
    service profile ``served`` (office x day), which is what the level is scoped to."""
    total = 0
    for kel, options in enumerate(data.sites):
        need = int(data.kelurahan_residents[kel])
        if need <= 0:
            continue
        caps = np.zeros(horizon, dtype=np.int64)
        for site, _km in options:
            caps += served[site, :horizon]
        best = np.cumsum(np.sort(caps)[::-1])
        total += int(np.searchsorted(best, need, side="left")) + 1
    return total


def compact_with_overflow(
    data: ProblemData,
    served: npt.NDArray[np.int64],
    away: dict[tuple[int, int], int],
    options: SolveOptions,
    cpsat: dict[str, object],
    limit: float,
    reporter: Reporter,
    scope: str,
) -> CompactResult:
    """Levels 3 then 4 in one CP-SAT model over (kelurahan, site, day), phases linked by hints."""
    start = time.perf_counter()
    m = cp_model.CpModel()
    horizon = served.shape[1]
    r: dict[tuple[int, int, int], cp_model.IntVar] = {}
    pair: dict[tuple[int, int], cp_model.IntVar] = {}
    for kel, options_ in enumerate(data.sites):
        pop = int(data.kelurahan_residents[kel])
        if pop == 0:
            continue
        for site, _ in options_:
            for d in np.flatnonzero(served[site] > 0).tolist():
                if (kel, d) not in pair:
                    pair[(kel, d)] = m.new_bool_var(f"pair_{data.kelurahan_codes[kel]}_d{d}")
                ub = min(pop, int(served[site, d]))
                x = m.new_int_var(0, ub, f"r_{kel}_{site}_{d}")
                m.add(x <= ub * pair[(kel, d)])
                r[(kel, site, d)] = x
    by_kel: dict[int, list[cp_model.IntVar]] = {}
    by_site_day: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    away_terms: list[cp_model.IntVar] = []
    for (kel, site, d), x in r.items():
        by_kel.setdefault(kel, []).append(x)
        by_site_day.setdefault((site, d), []).append(x)
        if site != data.sites[kel][0][0]:
            away_terms.append(x)
    for kel, xs in by_kel.items():
        m.add(sum(xs) == int(data.kelurahan_residents[kel]))
    for (site, d), xs in by_site_day.items():
        m.add(sum(xs) == int(served[site, d]))
    for (kel, d), b in pair.items():
        related = [r[(kel, s, d)] for s, _ in data.sites[kel] if (kel, s, d) in r]
        m.add(sum(related) >= 1).only_enforce_if(b)

    hint: Quota = {}
    for site, amounts in _site_amounts(data, away).items():
        days = [d for d in range(horizon) if served[site, d] > 0]
        for d, items in sequential_fill(amounts, days, [int(served[site, d]) for d in days]).items():
            hint[(site, d)] = items
    for (site, d), items in hint.items():
        for kel, q in items:
            m.add_hint(r[(kel, site, d)], q)
    hinted_pairs = {(kel, d) for (_s, d), items in hint.items() for kel, _ in items}
    for key, b in pair.items():
        m.add_hint(b, int(key in hinted_pairs))

    pairs_total = sum(pair.values())
    m.minimize(pairs_total)
    solver = make_solver(options, cpsat, limit / 2)  # type: ignore[arg-type]
    code = cpsat_run(solver, m)
    floor = days_needed_bound(data, served, horizon)
    # Without a solution in its budget (a busy machine, a tiny --time-limit) the model's own hint
    # is the plan: it is feasible by construction, so a budget that runs out never ends the solve.
    if found(code):
        value: dict[int, int] = {x.index: int(solver.value(x)) for x in [*r.values(), *pair.values()]}
        p_bound = max(int(np.ceil(solver.best_objective_bound - 1e-6)), floor)
    else:
        value = {x.index: 0 for x in r.values()}
        for (site, d), items in hint.items():
            for kel, q in items:
                value[r[(kel, site, d)].index] = q
        value.update({b.index: int(key in hinted_pairs) for key, b in pair.items()})
        p_bound = floor
    p_value = sum(value[b.index] for b in pair.values())
    p_status: Status = "OPTIMAL" if code == cp_model.OPTIMAL or p_value == p_bound else "FEASIBLE"
    t_pairs = time.perf_counter() - start
    reporter.solving("compactness", p_value, p_bound, t_pairs)

    m.add(pairs_total <= p_value)
    m.clear_hints()
    for x in [*r.values(), *pair.values()]:
        m.add_hint(x, value[x.index])
    m.minimize(sum(away_terms))
    solver2 = make_solver(options, cpsat, max(0.2, limit - t_pairs))  # type: ignore[arg-type]
    code2 = cpsat_run(solver2, m)
    if found(code2):
        value = {x.index: int(solver2.value(x)) for x in [*r.values(), *pair.values()]}
    a_value = int(sum(value[x.index] for x in away_terms))
    a_bound = int(np.ceil(solver2.best_objective_bound - 1e-6)) if found(code2) else 0
    a_status: Status = "OPTIMAL" if code2 == cp_model.OPTIMAL else "FEASIBLE"
    reporter.solving("overflow", a_value, a_bound, time.perf_counter() - start)

    quotas: Quota = {}
    for (kel, site, d), x in sorted(r.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
        q = value[x.index]
        if q:
            quotas.setdefault((site, d), []).append((kel, q))
    compactness = LevelResult("compactness", p_value, p_bound, p_status, t_pairs, scope=scope)
    overflow_scope = scope if p_status == "OPTIMAL" else "given the compactness value found"
    overflow = LevelResult(
        "overflow",
        a_value,
        a_bound,
        a_status,
        time.perf_counter() - start - t_pairs,
        scope=overflow_scope,
    )
    return CompactResult(quotas, compactness, overflow)
