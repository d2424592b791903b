"""The national master plan: how many devices of each national wave each kecamatan gets
(models/NATIONAL.md).

It uses the city planner's aggregate arithmetic at kecamatan level: a kecamatan's residents are
served earliest-first by its devices, each giving ``s`` regular seats a working day from its first
service day (arrival in the province + setup days). Then

* level 1, national completion: the fewest working days T such that every kecamatan's seats up
  to T cover its residents; found by bisection with a covering model per T, and proven (T
  feasible, T - 1 infeasible). The covering model chooses among each kecamatan's minimal ways to
  be covered, kecamatan with the same ways counted as one class (``_ways``, ``_feasible``): its
  relaxation is then tight where one integer per (kecamatan, wave) left SCIP a fractional device
  in every kecamatan to branch on (national-2012: 249 found, 241 proven in 446 s; now 244 proven);
* level 2, national waiting: with T fixed, the least sum over residents of their working-day
  index, i.e. the sum over kecamatan and days t < T of the residents still waiting at the start
  of day t. A greedy marginal allocation (each wave device left after level 1 goes where it saves
  most waiting) gives a hint; column generation over each kecamatan's device vectors
  (``national/waiting.py``) then minimises exactly and proves a bound (national-2012: OPTIMAL in
  12 s, where a model by (kecamatan, day) rows stopped 2.8 % above its bound at 300 s).

The covering model and level 2's integer picks are solved by SCIP, which OR-Tools bundles: their
LP relaxation settles them quickly, where CP-SAT searched for minutes without a proof
(national-2011, one bisection step: CP-SAT out of time at 120 s; SCIP proves it in 0.2 s).

Each city plans with its devices fixed by this split; its own levels 1-2 then equal the master's
restricted to its kecamatan, so the national waiting is the sum of the cities' (checked in tests).
"""

from __future__ import annotations

import datetime as dt
import heapq
import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ektp_opt.inputs.calendar import available_from, index_on_or_after, working_days
from ektp_opt.national.cities import City
from ektp_opt.national.scenario import LoadedNational
from ektp_opt.results import NationalDiagnosis, NationalEarliest, NationalExtra, Proof
from ektp_opt.solver import mip
from ektp_opt.solver.result import LevelResult, Status, claimed


@dataclass(frozen=True)
class MasterInput:
    """Everything the master needs, per kecamatan (rows) and wave (columns)."""

    days: list[dt.date]  # working days from start to the deadline
    regular: int  # working days before the catch-up days
    kecamatan: list[str]
    city_of: list[str]
    residents: npt.NDArray[np.int64]
    seats: int  # regular seats per device per working day
    fixed: int  # allotment devices per kecamatan
    fixed_first: npt.NDArray[np.int64]  # first service day of the allotment, per kecamatan
    wave_first: npt.NDArray[np.int64]  # [kecamatan, wave] first service day (len(days): never)
    wave_count: list[int]


def master_input(ln: LoadedNational, cities: list[City]) -> MasterInput:
    sc = ln.scenario
    workdays = frozenset(["mon", "tue", "wed", "thu", "fri", "sat", "sun"].index(d) for d in sc.calendar.workdays)
    holidays = frozenset(sc.calendar.holidays)
    days = working_days(sc.start, sc.deadline, workdays, holidays)
    regular = max(0, len(days) - sc.backlog.catch_up_days)

    def first(arrival: dt.date) -> int:
        day = index_on_or_after(days, available_from(arrival, sc.device.setup_days, workdays, holidays))
        return min(day, regular)  # past the regular days: never serves a regular seat

    per_shift = sc.device.capacity_per_day // sc.shifts_per_day - sc.backlog.reserve_per_shift
    kec, city_of, residents, fixed_first, wave_first = [], [], [], [], []
    for c in cities:
        f = first(sc.allotment.arrives(c.province))
        w = [first(wave.arrives(c.province)) for wave in sc.waves]
        for code, r in zip(c.kecamatan, c.residents.tolist(), strict=True):
            kec.append(code)
            city_of.append(c.code)
            residents.append(r)
            fixed_first.append(f)
            wave_first.append(w)
    return MasterInput(
        days=days,
        regular=regular,
        kecamatan=kec,
        city_of=city_of,
        residents=np.array(residents, dtype=np.int64),
        seats=per_shift * sc.shifts_per_day,
        fixed=sc.allotment.per_kecamatan,
        fixed_first=np.array(fixed_first, dtype=np.int64),
        wave_first=np.array(wave_first, dtype=np.int64).reshape(len(kec), len(sc.waves)),
        wave_count=[w.count for w in sc.waves],
    )


@dataclass(frozen=True)
class MasterPlan:
    split: npt.NDArray[np.int64]  # [kecamatan, wave] devices
    horizon: int  # working days to the national completion (level 1 value)
    completion: LevelResult
    waiting: LevelResult
    waiting_per_kecamatan: npt.NDArray[np.int64]

    def completion_date(self, mi: MasterInput) -> dt.date:
        return mi.days[self.horizon - 1]


def device_days(mi: MasterInput, split: npt.NDArray[np.int64], t: int) -> npt.NDArray[np.int64]:
    """Device-days each kecamatan has served before day ``t``."""
    fixed = mi.fixed * np.maximum(0, t - mi.fixed_first)
    return fixed + (split * np.maximum(0, t - mi.wave_first)).sum(axis=1)


def waiting_of(
    mi: MasterInput, split: npt.NDArray[np.int64], horizon: int, rows: slice = slice(None)
) -> npt.NDArray[np.int64]:
    """Per kecamatan (those in ``rows``, whose wave devices ``split`` gives): sum over days
    t < horizon of residents still waiting at the start of t (= sum over residents of their
    1-based working-day index, served earliest first)."""
    t = np.arange(horizon)
    fixed = mi.fixed * np.maximum(0, t[None, :] - mi.fixed_first[rows, None])
    pooled = np.einsum("kw,kwt->kt", split, np.maximum(0, t[None, None, :] - mi.wave_first[rows, :, None]))
    left = np.maximum(0, mi.residents[rows, None] - mi.seats * (fixed + pooled))
    return left.sum(axis=1).astype(np.int64)  # type: ignore[no-any-return]


# A kecamatan with more ways than this to be covered keeps its own integer per wave in the covering
# model (exact either way; the ways are what make the model's relaxation tight).
MAX_WAYS = 64


def _ways(need: int, days: tuple[int, ...], counts: tuple[int, ...]) -> list[tuple[int, ...]] | None:
    """Every minimal way to cover ``need`` device-days with whole devices of the waves (a device of
    wave w serves ``days[w]`` days): no device of it can be taken away. Any split that covers the
    kecamatan takes at least one of these, device for device, so a covering model may choose among
    them alone, and its LP relaxation is then the convex hull of each kecamatan's coverings instead
    of a fractional device. None: more than MAX_WAYS ways."""
    ways: list[tuple[int, ...]] = []

    def walk(w: int, left: int, taken: tuple[int, ...]) -> bool:
        if left <= 0:
            way = taken + (0,) * (len(days) - w)
            served = sum(x * d for x, d in zip(way, days, strict=True))
            if all(x == 0 or served - d < need for x, d in zip(way, days, strict=True)):
                ways.append(way)
            return len(ways) <= MAX_WAYS
        if w == len(days):
            return True
        most = min(counts[w], -(-left // days[w])) if days[w] > 0 else 0
        return all(walk(w + 1, left - x * days[w], (*taken, x)) for x in range(most, -1, -1))

    return ways if walk(0, need, ()) else None


# A kecamatan short of device-days in the covering models: (group, kecamatan, device-days short,
# each wave's days in service, the most devices of each wave it may take). Kecamatan are classed by
# group and ways: level 1 has one group, the fewest extra devices one per province.
Short = tuple[Hashable, int, int, tuple[int, ...], tuple[int, ...]]
Classes = list[tuple[list[int], list[tuple[tuple[int, ...], Any]]]]  # (members, (way, how many take it))


def _covering(
    short: list[Short], n_w: int, limit: float
) -> tuple[Any, dict[Hashable, list[list[Any]]], Classes, dict[tuple[int, int], Any]] | None:
    """The covering rows of the covering models, by ways: each kecamatan takes one of its minimal
    ways (``_ways``); kecamatan of one group with the same ways are one class, whose integers count
    how many of it take each way (no symmetric copies for the search to tell apart); a kecamatan
    with more than MAX_WAYS ways keeps an integer per wave and its own covering row. Returns the
    SCIP model, per group each wave's devices used (terms for the caller's rows), the classes and
    the kecamatan's own integers; None when some kecamatan has no way at all."""
    classes: dict[tuple[Hashable, tuple[tuple[int, ...], ...]], list[int]] = {}
    own: list[Short] = []
    for row in short:
        group, k, need, days, most = row
        ways = _ways(need, days, most)
        if ways is None:
            own.append(row)
        elif not ways:
            return None
        else:
            classes.setdefault((group, tuple(ways)), []).append(k)
    solver = mip.make_mip(limit)
    used: dict[Hashable, list[list[Any]]] = {}
    chosen: Classes = []
    for c, ((group, class_ways), members) in enumerate(classes.items()):
        per_wave = used.setdefault(group, [[] for _ in range(n_w)])
        y = [(way, solver.IntVar(0, len(members), f"y_{c}_{j}")) for j, way in enumerate(class_ways)]
        solver.Add(solver.Sum([v for _w, v in y]) == len(members))
        for way, v in y:
            for w, x in enumerate(way):
                if x:
                    per_wave[w].append(x * v)
        chosen.append((members, y))
    x_own: dict[tuple[int, int], Any] = {}
    for group, k, need, days, most in own:
        per_wave = used.setdefault(group, [[] for _ in range(n_w)])
        terms = []
        for w, days_w in enumerate(days):
            if days_w > 0 and most[w] > 0:
                x_own[k, w] = solver.IntVar(0, min(most[w], -(-need // days_w)), f"x_{k}_{w}")
                terms.append(days_w * x_own[k, w])
                per_wave[w].append(x_own[k, w])
        solver.Add(solver.Sum(terms) >= need)
    return solver, used, chosen, x_own


def _feasible(mi: MasterInput, t: int, limit: float) -> tuple[Status, npt.NDArray[np.int64] | None]:
    """Can every kecamatan be served within ``t`` working days? The covering model (``_covering``):
    each kecamatan's device-days (allotment plus wave devices times their days in service before t)
    reach its residents, and no wave gives more devices than it has."""
    need = -(-(mi.residents - mi.seats * mi.fixed * np.maximum(0, t - mi.fixed_first)) // mi.seats)
    n_k, n_w = mi.wave_first.shape
    split = np.zeros((n_k, n_w), dtype=np.int64)
    short = np.flatnonzero(need > 0)
    if short.size == 0:
        return "OPTIMAL", split
    counts = tuple(mi.wave_count)
    rows: list[Short] = [
        (None, k, int(need[k]), tuple(max(0, t - int(f)) for f in mi.wave_first[k].tolist()), counts)
        for k in short.tolist()
    ]
    model = _covering(rows, n_w, limit)
    if model is None:
        return "INFEASIBLE", None  # no split of the waves covers some kecamatan
    solver, used, chosen, x_own = model
    for w, terms in enumerate(used[None]):
        if terms:
            solver.Add(solver.Sum(terms) <= counts[w])
    st = mip.solve(solver)
    if st not in ("OPTIMAL", "FEASIBLE"):
        return st, None
    for members, y in chosen:  # the class's kecamatan take its ways in order, as many as counted
        at = 0
        for way, v in y:
            n = round(v.solution_value())
            for k in members[at : at + n]:
                split[k] = way
            at += n
    for (k, w), v in x_own.items():
        split[k, w] = round(v.solution_value())
    return "OPTIMAL", split


def capacity_bound(mi: MasterInput) -> int:
    """No plan finishes before the first day on which all seats, with every wave device at its
    earliest province, could hold every resident."""
    total = int(mi.residents.sum())
    earliest = mi.wave_first.min(axis=0) if mi.wave_first.size else np.zeros(0, dtype=np.int64)
    for t in range(1, mi.regular + 1):
        fixed = int(mi.fixed * np.maximum(0, t - mi.fixed_first).sum())
        pooled = sum(c * max(0, t - int(e)) for c, e in zip(mi.wave_count, earliest.tolist(), strict=True))
        if mi.seats * (fixed + pooled) >= total:
            return t
    return mi.regular + 1


def solve_completion(mi: MasterInput, limit: float) -> tuple[LevelResult, npt.NDArray[np.int64] | None]:
    """Level 1 by bisection over T: the least T with a feasible split, proven by an infeasible T-1."""
    start = time.perf_counter()
    lo, hi = capacity_bound(mi), mi.regular  # lo: proven lower bound; hi: candidate
    if lo > hi:
        return LevelResult("completion", mi.regular + 1, lo, "INFEASIBLE", time.perf_counter() - start), None
    st, best = _feasible(mi, hi, limit)
    if best is None:
        return LevelResult(
            "completion",
            mi.regular + 1,
            lo,
            "INFEASIBLE" if st == "INFEASIBLE" else "UNKNOWN",
            time.perf_counter() - start,
        ), None
    proven = searched = lo  # proven: no plan is shorter; searched: no shorter plan was found
    while searched < hi:
        mid = (searched + hi) // 2
        st, split = _feasible(mi, mid, limit)
        if split is not None:
            hi, best = mid, split
        else:  # infeasible (proven), or out of time (not proven: the bound stays where it is)
            searched = mid + 1
            if st == "INFEASIBLE":
                proven = mid + 1
    # Bisection can step over days it never settled (a step out of time moves on upward): walk up
    # from the proof, where infeasibility is often quick to prove, until a step has no answer.
    while proven < hi:
        st, split = _feasible(mi, proven, limit)
        if split is not None:
            hi, best = proven, split
        elif st == "INFEASIBLE":
            proven += 1
        else:
            break
    level_status = "OPTIMAL" if proven == hi else "FEASIBLE"
    return LevelResult("completion", hi, proven, level_status, time.perf_counter() - start), best  # type: ignore[arg-type]


def _greedy(mi: MasterInput, start: npt.NDArray[np.int64], horizon: int) -> npt.NDArray[np.int64]:
    """Add every device the level-1 split left in each wave where it saves the most waiting (a
    device that saves nothing stays unplaced). A hint and a fallback for the exact model."""
    split = start.copy()
    n_k, n_w = split.shape
    left = [mi.wave_count[w] - int(split[:, w].sum()) for w in range(n_w)]
    wait = waiting_of(mi, split, horizon)

    def gain(k: int, w: int) -> int:
        trial = split[k].copy()
        trial[w] += 1
        return int(wait[k] - _row_waiting(mi, k, trial, horizon))

    heap = [(-gain(k, w), k, w) for w in range(n_w) if left[w] > 0 for k in range(n_k) if mi.wave_first[k, w] < horizon]
    heapq.heapify(heap)
    while heap:
        neg, k, w = heapq.heappop(heap)
        if left[w] <= 0:
            continue
        current = gain(k, w)
        if current != -neg:  # stale: this kecamatan got devices since
            heapq.heappush(heap, (-current, k, w))
            continue
        if current <= 0:
            continue  # a device that saves nothing stays unused (a city may still use it)
        split[k, w] += 1
        left[w] -= 1
        wait[k] = _row_waiting(mi, k, split[k], horizon)
        heapq.heappush(heap, (-gain(k, w), k, w))
    return split


def _row_waiting(mi: MasterInput, k: int, row: npt.NDArray[np.int64], horizon: int) -> int:
    return int(waiting_of(mi, row[None, :], horizon, slice(k, k + 1))[0])


def solve_waiting(
    mi: MasterInput, horizon: int, start: npt.NDArray[np.int64], limit: float
) -> tuple[LevelResult, npt.NDArray[np.int64]]:
    """Level 2: the least waiting among the splits that finish by ``horizon``, by column
    generation over each kecamatan's device vectors (``national/waiting.py``), from the level-1
    split and the greedy one; its Lagrangian bound is the level's bound. Each split is valued
    here, day by day, and the better of the greedy and the decomposition's is kept (the greedy
    alone, with the every-device bound, when the decomposition gives nothing in time)."""
    from ektp_opt.national.waiting import decompose

    began = time.perf_counter()
    greedy = _greedy(mi, start, horizon)
    split, value = greedy, int(waiting_of(mi, greedy, horizon).sum())
    bound = int(np.maximum(0, mi.residents[:, None] - mi.seats * _all_devices(mi, horizon)).sum())
    found, proven, record = decompose(mi, horizon, [start, greedy], limit)
    if found is not None:
        found_value = int(waiting_of(mi, found, horizon).sum())
        if found_value <= value:
            split, value = found, found_value
    if proven is not None:
        bound = max(bound, proven)
    note = f"column generation: {record['rounds']} pricing rounds, {record['columns']:,} columns"
    return LevelResult(
        "waiting", value, min(bound, value), claimed(value, bound), time.perf_counter() - began, note=note
    ), split


def _all_devices(mi: MasterInput, horizon: int) -> npt.NDArray[np.int64]:
    """Device-days per kecamatan and day if it had every wave device: a (weak) waiting bound."""
    t = np.arange(horizon)
    fixed = mi.fixed * np.maximum(0, t[None, :] - mi.fixed_first[:, None])
    pooled = (np.array(mi.wave_count)[None, :, None] * np.maximum(0, t[None, None, :] - mi.wave_first[:, :, None])).sum(
        axis=1
    )
    return fixed + pooled  # type: ignore[no-any-return]


def solve_master(mi: MasterInput, limit: float = 60.0) -> MasterPlan:
    """Levels 1 and 2: ``limit`` seconds for level 2, a tenth of it per level-1 bisection step.
    Raises InfeasibleError when no split meets the deadline."""
    from ektp_opt.errors import InfeasibleError

    completion, split = solve_completion(mi, limit / 10)  # per bisection step; most take < 1 s
    if split is None:
        if completion.status == "UNKNOWN":
            from ektp_opt.errors import NoSolutionError

            raise NoSolutionError("the master found no split within its time limit; raise --master-time-limit")
        raise InfeasibleError(f"no split of the national waves finishes by the deadline ({mi.regular} regular days)")
    waiting, split = solve_waiting(mi, completion.value, split, limit)
    return MasterPlan(split, completion.value, completion, waiting, waiting_of(mi, split, completion.value))


@dataclass(frozen=True)
class NationalCapacity:
    """What the deliveries can do: the earliest national completion (working days and date, found
    past the deadline when it must be), and the fewest extra devices per wave and province that
    would meet the deadline (empty when it is met already)."""

    earliest_days: int | None  # None: not even within the projection window
    earliest_date: dt.date | None
    earliest: LevelResult
    extra: dict[tuple[int, str], int]  # (wave index, province) -> devices
    extra_status: Status


def extend_days(ln: LoadedNational, cities: list[City], years: int = 3) -> MasterInput:
    """The master input with the calendar run ``years`` past the deadline (no catch-up days)."""
    import dataclasses

    longer = ln.scenario.model_copy(
        update={
            "deadline": ln.scenario.deadline + dt.timedelta(days=365 * years),
            "backlog": ln.scenario.backlog.model_copy(update={"catch_up_days": 0}),
        }
    )
    return master_input(dataclasses.replace(ln, scenario=longer), cities)


def national_capacity(ln: LoadedNational, cities: list[City], limit: float) -> NationalCapacity:
    mi = master_input(ln, cities)
    longer = extend_days(ln, cities)
    level, _split = solve_completion(longer, limit)
    found = level.status in ("OPTIMAL", "FEASIBLE")
    days = level.value if found else None
    extra: dict[tuple[int, str], int] = {}
    extra_status: Status = "OPTIMAL"
    if days is None or days > mi.regular:
        extra, extra_status = _fewest_extra(mi, [c.province for c in cities for _k in c.kecamatan], limit)
    return NationalCapacity(days, longer.days[days - 1] if days else None, level, extra, extra_status)


NATIONAL_MODEL = "national master covering model (devices per kecamatan from each wave, SCIP)"


def national_diagnosis(ln: LoadedNational, limit: float) -> NationalDiagnosis:
    """What the deliveries can do, as diagnosis.json says it: the earliest national completion
    with its proven bound, the fewest extra devices per wave and province, and the proof."""
    from ektp_opt.national.cities import make_city

    cities = [make_city(ln, k.code) for k in ln.kabkota]
    cap = national_capacity(ln, cities, limit)
    mi = master_input(ln, cities)
    sc = ln.scenario
    meets = cap.earliest_days is not None and cap.earliest_days <= mi.regular
    statement = (
        f"no split of the waves serves every resident within the {mi.regular} regular working days: "
        f"at least {cap.earliest.bound} are needed"
    )
    return NationalDiagnosis(
        scenario=sc.name,
        meets_deadline=meets,
        deadline=sc.deadline,
        regular_working_days=mi.regular,
        earliest_completion=NationalEarliest(
            date=cap.earliest_date, working_days=cap.earliest_days, status=cap.earliest.status, bound=cap.earliest.bound
        ),
        extra_devices=[
            NationalExtra(wave=w + 1, date=sc.waves[w].date, province=p, province_name=ln.admin.provinces[p], devices=n)
            for (w, p), n in sorted(cap.extra.items())
        ],
        extra_status=cap.extra_status,
        proof=None
        if meets
        else Proof(
            model=NATIONAL_MODEL,
            statement=statement,
            scope="every kecamatan's residents against its device seats (families as members): a relaxation of "
            "every national plan",
        ),
    )


def _fewest_extra(mi: MasterInput, province_of: list[str], limit: float) -> tuple[dict[tuple[int, str], int], Status]:
    """Fewest devices added to the waves, each extra device bound for one province, so that every
    kecamatan finishes within the regular days.

    The covering model of level 1 (``_covering``) with the waves' counts open (a kecamatan's ways
    limited by its need alone) and the kecamatan grouped by province; a wave's devices used in a
    province are its share b[w, p] of the wave (Σ_p b[w, p] <= count_w) plus that province's extra
    devices. (By integer devices per kecamatan and wave instead, national-2011 took SCIP 45 s.)"""
    t = mi.regular
    need = -(-(mi.residents - mi.seats * mi.fixed * np.maximum(0, t - mi.fixed_first)) // mi.seats)
    n_w = mi.wave_first.shape[1]
    provinces = sorted(set(province_of))
    rows: list[Short] = []
    for k in np.flatnonzero(need > 0).tolist():
        days = tuple(max(0, t - int(f)) for f in mi.wave_first[k].tolist())
        if not any(days):
            return {}, "INFEASIBLE"  # no wave reaches this kecamatan in time: devices cannot help
        open_counts = tuple(-(-int(need[k]) // d) if d else 0 for d in days)  # no wave count limits it
        rows.append((province_of[k], k, int(need[k]), days, open_counts))
    model = _covering(rows, n_w, limit)
    assert model is not None  # with the counts open, every kecamatan a wave reaches has a way
    solver, used, _classes, _own = model
    extra = {(w, p): solver.IntVar(0, solver.infinity(), f"extra_{w}_{p}") for w in range(n_w) for p in provinces}
    share = {(w, p): solver.IntVar(0, mi.wave_count[w], f"share_{w}_{p}") for w in range(n_w) for p in provinces}
    for w in range(n_w):
        solver.Add(solver.Sum([share[w, p] for p in provinces]) <= mi.wave_count[w])
        for p in provinces:
            terms = used.get(p, [[]] * n_w)[w]
            if terms:
                solver.Add(solver.Sum(terms) <= share[w, p] + extra[w, p])
    solver.Minimize(solver.Sum(list(extra.values())))
    st = mip.solve(solver)
    if st not in ("OPTIMAL", "FEASIBLE"):
        return {}, st
    return {key: round(v.solution_value()) for key, v in extra.items() if round(v.solution_value())}, st


def proportional_split(mi: MasterInput) -> npt.NDArray[np.int64]:
    """The obvious alternative to the master: every wave split over the kecamatan in proportion
    to their residents (largest remainders), each city then planned alone with its share."""
    from ektp_opt.inputs.generate import apportion

    out = np.zeros(mi.wave_first.shape, dtype=np.int64)
    for w, count in enumerate(mi.wave_count):
        out[:, w] = apportion(count, mi.residents.astype(np.float64))
    return out


def completion_of(mi: MasterInput, split: npt.NDArray[np.int64]) -> int | None:
    """Working days until every kecamatan is served with this split (None: not within the
    regular days)."""
    for t in range(1, mi.regular + 1):
        if np.all(mi.seats * device_days(mi, split, t) >= mi.residents):
            return t
    return None
