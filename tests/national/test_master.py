"""The national master alone (national/master.py): against a brute force over every split of
tiny nations, whose completion and waiting are counted here resident by resident (SPEC.md,
"National": each kecamatan serves its residents earliest first, seats per device per working
day), never with the module's own helpers; and against the proportional split on national-small."""

from __future__ import annotations

import datetime as dt
import itertools
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ektp_opt.errors import InfeasibleError
from ektp_opt.national.master import (
    MasterInput,
    _fewest_extra,
    capacity_bound,
    completion_of,
    device_days,
    master_input,
    proportional_split,
    solve_completion,
    solve_master,
)

SEATS, FIXED = 10, 1
_WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _tiny(
    waves: list[int],
    first: list[list[int]],
    residents: list[int],
    regular: int = 12,
    fixed_first: list[int] | None = None,
) -> MasterInput:
    return MasterInput(
        days=[dt.date(2011, 8, 1) + dt.timedelta(days=i) for i in range(regular)],
        regular=regular,
        kecamatan=[f"99.01.{i + 1:02d}" for i in range(len(residents))],
        city_of=["99.01"] * len(residents),
        residents=np.array(residents, dtype=np.int64),
        seats=SEATS,
        fixed=FIXED,
        fixed_first=np.array(fixed_first or [0] * len(residents), dtype=np.int64),
        wave_first=np.array(first, dtype=np.int64),
        wave_count=waves,
    )


def _served(residents: int, devices_on: list[int]) -> tuple[int | None, int]:
    """A kecamatan's residents served earliest first, ``devices_on[d]`` devices on working day d:
    the 1-based day its last resident is served (None: not within these days) and the sum of
    every resident's 1-based day."""
    left, waiting = residents, 0
    for day, devices in enumerate(devices_on, start=1):
        served = min(left, SEATS * devices)
        waiting += served * day
        left -= served
        if left == 0:
            return day, waiting
    return None, waiting


def _devices_on(split_k: list[int], first_k: list[int], days: int, own_from: int = 0) -> list[int]:
    """A kecamatan's devices on each working day (0-based): its own device from ``own_from``, and
    the ``split_k[w]`` devices of wave w from day ``first_k[w]``."""
    return [
        FIXED * (d >= own_from) + sum(n for n, f in zip(split_k, first_k, strict=True) if d >= f) for d in range(days)
    ]


def _splits(waves: list[int], n_k: int) -> list[list[list[int]]]:
    """Every split of the waves over ``n_k`` kecamatan that gives no wave more than it has."""
    out = []
    for flat in itertools.product(*[range(c + 1) for c in waves for _k in range(n_k)]):
        split = [[flat[w * n_k + k] for w in range(len(waves))] for k in range(n_k)]
        if all(sum(split[k][w] for k in range(n_k)) <= waves[w] for w in range(len(waves))):
            out.append(split)
    return out


def _counted(
    residents: list[int],
    first: list[list[int]],
    split: list[list[int]],
    days: int,
    fixed_first: list[int] | None = None,
) -> tuple[int, int] | None:
    """(completion, waiting) of a split, counted resident by resident; None if some kecamatan is
    not done within ``days``. Waiting counts everyone, as the master's level 2 does. A
    kecamatan's own devices work from day ``fixed_first[k]`` (0-based; 0 if not given)."""
    ff = fixed_first or [0] * len(residents)
    done, total = 0, 0
    for k, people in enumerate(residents):
        day, waiting = _served(people, _devices_on(split[k], first[k], days, ff[k]))
        if day is None:
            return None
        done, total = max(done, day), total + waiting
    return done, total


@pytest.mark.parametrize(
    "case",
    [
        ([2, 1], [[2, 5], [2, 5], [3, 6]], [150, 90, 60]),
        ([1, 2], [[1, 4], [3, 4], [1, 7]], [110, 100, 40]),
        ([3], [[2], [2], [2]], [200, 60, 100]),
    ],
)
def test_master_equals_the_brute_force_optimum_on_tiny_nations(
    case: tuple[list[int], list[list[int]], list[int]],
) -> None:
    """Every split of every wave over the kecamatan, tried: the master's completion is the least
    any split reaches, and its waiting the least among the splits that reach it."""
    waves, first, residents = case
    mi = _tiny(waves, first, residents)
    n_k, n_w = len(residents), len(waves)
    best = min(c for split in _splits(waves, n_k) if (c := _counted(residents, first, split, mi.regular)))
    plan = solve_master(mi, limit=30)
    assert (plan.completion.value, plan.waiting.value) == best
    assert plan.completion.bound <= best[0] and plan.waiting.bound <= best[1]
    assert plan.completion.status == plan.waiting.status == "OPTIMAL"
    split = plan.split.tolist()
    assert all(sum(split[k][w] for k in range(n_k)) <= waves[w] for w in range(n_w))
    assert _counted(residents, first, split, mi.regular) == best  # the split it gives is that optimum
    per_kecamatan = [
        _served(people, _devices_on(split[k], first[k], mi.regular))[1] for k, people in enumerate(residents)
    ]
    assert plan.waiting_per_kecamatan.tolist() == per_kecamatan


def test_master_is_never_worse_than_the_proportional_split() -> None:
    """On national-small: completion no later than the proportional split's, counted here."""
    pytest.importorskip("ray")
    from ektp_opt.national.cities import make_city
    from ektp_opt.national.scenario import load_national
    from tests.national.test_national import SMALL

    ln = load_national(SMALL)
    mi = master_input(ln, [make_city(ln, k.code) for k in ln.kabkota])
    plan = solve_master(mi, limit=60)
    simple = proportional_split(mi).tolist()
    first = mi.wave_first.tolist()
    fixed_first = mi.fixed_first.tolist()
    done, total = 0, 0
    for k, people in enumerate(mi.residents.tolist()):
        devices_on = [
            mi.fixed * (d >= fixed_first[k]) + sum(n for n, f in zip(simple[k], first[k], strict=True) if d >= f)
            for d in range(mi.regular)
        ]
        left, day = people, 0
        for day, devices in enumerate(devices_on, start=1):
            served = min(left, mi.seats * devices)
            total += served * day
            left -= served
            if left == 0:
                break
        if left:
            return  # the proportional split does not finish: nothing to compare
        done = max(done, day)
    assert plan.horizon <= done
    if plan.horizon == done:
        assert plan.waiting.value <= total


def test_completion_and_device_days_of_every_split_as_counted_here() -> None:
    """For every split of a tiny nation: the day its last kecamatan is done (or None past the
    regular days) and each kecamatan's device-days before a day, counted here day by day."""
    waves, first, residents = [2, 1], [[2, 5], [2, 5], [3, 6]], [150, 90, 60]
    mi = _tiny(waves, first, residents, regular=9)
    for split in _splits(waves, len(residents)):
        counted = _counted(residents, first, split, mi.regular)
        assert completion_of(mi, np.array(split, dtype=np.int64)) == (counted[0] if counted else None), split
        for t in (0, 1, 3, 6, 9):
            by_hand = [sum(_devices_on(split[k], first[k], t)) for k in range(len(residents))]
            assert device_days(mi, np.array(split, dtype=np.int64), t).tolist() == by_hand
    own = [0, 2, 4]  # each kecamatan's own device from a day of its own
    late = _tiny(waves, first, residents, regular=9, fixed_first=own)
    for split in _splits(waves, len(residents)):
        for t in (0, 1, 3, 6, 9):
            by_hand = [sum(_devices_on(split[k], first[k], t, own[k])) for k in range(len(residents))]
            assert device_days(late, np.array(split, dtype=np.int64), t).tolist() == by_hand


def _finishes(
    waves: list[int],
    first: list[list[int]],
    residents: list[int],
    province_of: list[str],
    extra: dict[tuple[int, str], int],
    days: int,
    fixed_first: list[int] | None = None,
) -> bool:
    """Does some split finish within ``days`` once ``extra[w, p]`` devices join wave w, bound for
    province p's kecamatan only? Each (wave, province) addition is a pool of its own."""
    n_k, n_w = len(residents), len(waves)
    cols = sorted(extra)
    pools = list(waves) + [extra[c] for c in cols]
    owners: list[str | None] = [None] * n_w + [p for _w, p in cols]
    col_first = [[first[k][w] for w in range(n_w)] + [first[k][w] for w, _p in cols] for k in range(n_k)]
    for split in _splits(pools, n_k):
        if any(split[k][c] and owners[c] not in (None, province_of[k]) for k in range(n_k) for c in range(len(pools))):
            continue
        if _counted(residents, col_first, split, days, fixed_first) is not None:
            return True
    return False


def _least_extra(
    waves: list[int],
    first: list[list[int]],
    residents: list[int],
    province_of: list[str],
    days: int,
    fixed_first: list[int] | None = None,
) -> int:
    """The fewest devices, added to the waves (each bound for a province), with which some split
    finishes within ``days``: every addition of growing size tried."""
    keys = [(w, p) for w in range(len(waves)) for p in sorted(set(province_of))]
    return next(
        total
        for total in range(12)
        for counts in itertools.product(range(total + 1), repeat=len(keys))
        if sum(counts) == total
        and _finishes(waves, first, residents, province_of, dict(zip(keys, counts, strict=True)), days, fixed_first)
    )


@pytest.mark.parametrize(
    ("waves", "first", "residents", "province_of"),
    [
        ([1], [[2], [2]], [150, 100], ["11", "12"]),
        ([1, 1], [[1, 4], [2, 3]], [170, 90], ["11", "12"]),
        ([2], [[1], [3], [1]], [160, 140, 40], ["11", "11", "12"]),
    ],
)
def test_fewest_extra_devices_are_the_least_any_addition_needs(
    waves: list[int], first: list[list[int]], residents: list[int], province_of: list[str]
) -> None:
    """A nation that cannot finish in its regular days: the fewest devices added to its waves
    (each extra bound for one province) such that some split finishes, found here by trying
    every addition of growing size and every split, with the days counted resident by resident;
    and the addition the module names does finish."""
    mi = _tiny(waves, first, residents, regular=8)
    keys = [(w, p) for w in range(len(waves)) for p in sorted(set(province_of))]
    least = _least_extra(waves, first, residents, province_of, mi.regular)
    assert least > 0  # the waves alone cannot do it
    extra_found, status = _fewest_extra(mi, province_of, limit=30)
    assert status == "OPTIMAL"
    assert sum(extra_found.values()) == least
    assert set(extra_found) <= set(keys) and all(n > 0 for n in extra_found.values())
    assert _finishes(waves, first, residents, province_of, extra_found, mi.regular)


def _random_nation(
    seed: int | np.random.Generator,
    n_waves: tuple[int, int] = (0, 3),
    per_wave: tuple[int, int] = (1, 3),
    days: int = 7,
    people: tuple[int, int] = (10, 170),
) -> tuple[list[int], list[list[int]], list[int], list[int]]:
    """A nation of 1-3 kecamatan and, by default, 0-2 waves of 1-2 devices whose splits can all
    be tried, each kecamatan's own device from a day of its own; some finish early, some just in
    time, some not within the regular days. Ranges are half-open, as numpy draws them; ``seed``
    may be a generator the caller goes on drawing from."""
    rng = np.random.default_rng(seed)
    n_k, n_w = int(rng.integers(1, 4)), int(rng.integers(*n_waves))
    waves = [int(c) for c in rng.integers(*per_wave, n_w)]
    first = [[int(f) for f in rng.integers(0, days, n_w)] for _k in range(n_k)]
    residents = [int(r) for r in rng.integers(*people, n_k)]
    fixed_first = [int(f) for f in rng.integers(0, 4, n_k)]
    return waves, first, residents, fixed_first


def _capacity_day(
    waves: list[int], first: list[list[int]], residents: list[int], fixed_first: list[int], regular: int
) -> int:
    """The first day by whose end every seat in the nation, every wave's devices working from
    the earliest day any kecamatan could have them, would hold every resident (one past the
    regular days if none)."""
    for t in range(1, regular + 1):
        own = sum(FIXED * max(0, t - f) for f in fixed_first)
        pooled = sum(n * max(0, t - min(row[w] for row in first)) for w, n in enumerate(waves))
        if SEATS * (own + pooled) >= sum(residents):
            return t
    return regular + 1


def _least_completion(
    waves: list[int], first: list[list[int]], residents: list[int], fixed_first: list[int], regular: int
) -> int | None:
    """The least completion any split reaches within the regular days (None: no split does)."""
    reached = [
        c[0]
        for split in _splits(waves, len(residents))
        if (c := _counted(residents, first, split, regular, fixed_first))
    ]
    return min(reached) if reached else None


@pytest.mark.parametrize("seed", range(40))
def test_completion_level_is_the_least_any_split_reaches_or_proven_impossible(seed: int) -> None:
    """Level 1 on random tiny nations, against every split counted day by day: the least
    completion, OPTIMAL with that bound; or, when no split finishes in the regular days,
    INFEASIBLE with the value one past them and a bound no split beats. The capacity bound is
    never above the least completion, and equals it where one kecamatan takes every device."""
    waves, first, residents, ff = _random_nation(seed)
    mi = _tiny(waves, first, residents, regular=8, fixed_first=ff)
    least = _least_completion(waves, first, residents, ff, mi.regular)
    clock = time.perf_counter()
    level, split = solve_completion(mi, limit=30)
    assert level.name == "completion" and 0 <= level.seconds <= time.perf_counter() - clock
    bound = capacity_bound(mi)
    assert bound == _capacity_day(waves, first, residents, ff, mi.regular)
    if least is None:
        assert (level.value, level.status, split) == (mi.regular + 1, "INFEASIBLE", None)
        assert level.bound == bound
        with pytest.raises(InfeasibleError) as exc:
            solve_master(mi, limit=30)
        assert str(exc.value) == "no split of the national waves finishes by the deadline (8 regular days)"
        return
    assert (level.value, level.bound, level.status) == (least, least, "OPTIMAL")
    assert split is not None and _counted(residents, first, split.tolist(), mi.regular, ff)[0] == least  # type: ignore[index]
    assert bound <= least
    if len(residents) == 1:
        assert bound == least


@pytest.mark.parametrize("seed", range(40))
def test_completion_level_out_of_time_is_never_called_proven(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The covering model out of time on one day (as a real limit would leave it): level 1 keeps
    what is proven apart from what was found. Out of time on the least day: FEASIBLE, a later
    day found, the bound still the least day (every day before it proven infeasible). Out of time
    on the day before it: the least day found, FEASIBLE, the bound below it. Out of time on the
    regular days themselves: no split, UNKNOWN (not INFEASIBLE), the capacity bound kept."""
    import ektp_opt.national.master as master

    waves, first, residents, ff = _random_nation(seed)
    mi = _tiny(waves, first, residents, regular=8, fixed_first=ff)
    least = _least_completion(waves, first, residents, ff, mi.regular)
    if least is None:
        return
    lo = _capacity_day(waves, first, residents, ff, mi.regular)
    real = master._feasible

    def out_of_time_on(day: int) -> None:
        monkeypatch.setattr(
            master, "_feasible", lambda m, t, limit: ("UNKNOWN", None) if t == day else real(m, t, limit)
        )

    out_of_time_on(mi.regular)
    level, split = solve_completion(mi, limit=30)
    assert (level.value, level.bound, level.status, split) == (mi.regular + 1, lo, "UNKNOWN", None)
    if least < mi.regular:
        out_of_time_on(least)
        level, split = solve_completion(mi, limit=30)
        assert split is not None and level.value > least and (level.bound, level.status) == (least, "FEASIBLE")
        assert _counted(residents, first, split.tolist(), level.value, ff) is not None
    if least - 1 >= lo:
        out_of_time_on(least - 1)
        level, split = solve_completion(mi, limit=30)
        assert split is not None and level.value == least and level.bound < least and level.status == "FEASIBLE"
        assert _counted(residents, first, split.tolist(), least, ff) is not None


def _working_days(start: dt.date, end: dt.date, workdays: list[str], holidays: list[dt.date]) -> list[dt.date]:
    week = _WEEK
    days = [start + dt.timedelta(n) for n in range((end - start).days + 1)]
    return [d for d in days if week[d.weekday()] in workdays and d not in holidays]


def test_national_diagnosis_of_a_deadline_too_early(tmp_path: Path) -> None:
    """national-small with its deadline two months early, diagnosed in-process: the regular days
    and the earliest completion's date counted here from the calendar; the earliest completion
    proven; and the extra devices it names are the fewest: with them added to their waves the
    master meets the deadline, with one fewer in all it does not (its own level 1, not the
    extra-device model that named them)."""
    pytest.importorskip("ray")
    from ektp_opt.national.cities import make_city
    from ektp_opt.national.master import national_diagnosis
    from ektp_opt.national.scenario import load_national
    from tests.national.test_national import SMALL

    text = SMALL.read_text().replace("deadline = 2011-12-30", "deadline = 2011-10-31")
    (tmp_path / "late.toml").write_text(text)
    ln = load_national(tmp_path / "late.toml")
    sc = ln.scenario
    d = national_diagnosis(ln, limit=60)
    cal = sc.calendar
    regular = _working_days(sc.start, sc.deadline, cal.workdays, cal.holidays)[: -sc.backlog.catch_up_days]
    assert (d.scenario, d.meets_deadline, d.deadline, d.regular_working_days) == (
        "national-small",
        False,
        dt.date(2011, 10, 31),
        len(regular),
    )
    e = d.earliest_completion
    assert e.working_days is not None and e.working_days > len(regular)
    assert (e.status, e.bound) == ("OPTIMAL", e.working_days)
    later = _working_days(sc.start, sc.start + dt.timedelta(3 * 365), cal.workdays, cal.holidays)
    assert e.date == later[e.working_days - 1]
    assert d.proof is not None and d.proof.statement == (
        f"no split of the waves serves every resident within the {len(regular)} regular working days: "
        f"at least {e.bound} are needed"
    )
    assert (d.proof.model, d.proof.scope) == (
        "national master covering model (devices per kecamatan from each wave, SCIP)",
        "every kecamatan's residents against its device seats (families as members): a relaxation of every "
        "national plan",
    )
    assert d.extra_status == "OPTIMAL" and d.extra_devices
    assert all(x.province == "75" and x.date == sc.waves[x.wave - 1].date for x in d.extra_devices)

    def meets(extra: dict[int, int]) -> bool:
        counts = [w.count + extra.get(n + 1, 0) for n, w in enumerate(sc.waves)]
        more = text
        for w, c in zip(sc.waves, counts, strict=True):
            more = more.replace(f"date = {w.date}\ncount = {w.count}\n", f"date = {w.date}\ncount = {c}\n")
        (tmp_path / "more.toml").write_text(more)
        lm = load_national(tmp_path / "more.toml")
        assert [w.count for w in lm.scenario.waves] == counts
        level, _split = solve_completion(master_input(lm, [make_city(lm, k.code) for k in lm.kabkota]), 60)
        return level.status == "OPTIMAL" and level.value <= len(regular)

    named = {x.wave: x.devices for x in d.extra_devices}
    assert meets(named)
    # one fewer in all: best placed in the first wave, whose devices serve at least as long as any
    # later wave's (one province here); if that cannot meet the deadline, no mix of as many can
    assert sc.waves[0].date <= min(w.date for w in sc.waves)
    assert not meets({1: sum(named.values()) - 1})


def _waiting_within(
    residents: list[int], first: list[list[int]], split: list[list[int]], days: int, fixed_first: list[int]
) -> int:
    """Residents still waiting at the start of each of the first ``days`` working days, summed
    over the days and the kecamatan, served earliest first (finished or not)."""
    total = 0
    for k, people in enumerate(residents):
        left = people
        for devices in _devices_on(split[k], first[k], days, fixed_first[k]):
            total += left
            left = max(0, left - SEATS * devices)
    return total


def _level_one(seed: int) -> tuple[MasterInput, list[int], list[list[int]], list[int], list[int], int] | None:
    """A random tiny nation with at least one wave that some split finishes, and its least
    completion (counted here)."""
    waves, first, residents, ff = _random_nation(seed)
    if not waves:
        return None
    mi = _tiny(waves, first, residents, regular=8, fixed_first=ff)
    least = _least_completion(waves, first, residents, ff, mi.regular)
    return None if least is None else (mi, waves, first, residents, ff, least)


@pytest.mark.parametrize("seed", range(60))
def test_waiting_level_is_the_least_any_split_finishing_on_the_day_reaches(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Level 2 on random tiny nations, from the level-1 split: the least waiting among the splits
    that finish by the least completion day, every split tried and counted day by day; OPTIMAL
    with that bound, and the split it gives has that waiting. With no pricing round (boxes past
    their limit) the pick among the first columns still finishes, valued as counted here, with
    the every-device bound; with no pick either, the greedy split stands."""
    import ektp_opt.national.master as master
    import ektp_opt.national.waiting as waiting

    case = _level_one(seed)
    if case is None:
        return
    mi, waves, first, residents, ff, least = case
    best = min(c[1] for split in _splits(waves, len(residents)) if (c := _counted(residents, first, split, least, ff)))
    level, start = solve_completion(mi, limit=30)
    assert start is not None and level.value == least
    began = time.perf_counter()
    result, split = master.solve_waiting(mi, least, start, limit=30)
    assert 0 <= result.seconds <= time.perf_counter() - began  # its own time, measured
    assert (result.name, result.value, result.bound, result.status) == ("waiting", best, best, "OPTIMAL")
    assert "column generation" in result.note
    given = split.tolist()
    assert all(given[k][w] == 0 for k in range(len(residents)) for w in range(len(waves)) if first[k][w] >= least)
    assert all(sum(given[k][w] for k in range(len(residents))) <= n for w, n in enumerate(waves))
    counted = _counted(residents, first, given, least, ff)
    assert counted is not None and counted[1] == best  # finishes by the day, with that waiting
    weak = _waiting_with_every_device(waves, first, residents, ff, least)
    assert weak <= best
    monkeypatch.setattr(waiting, "MAX_POINTS", 0)  # no round priced: no bound but the weak one
    unpriced, split = master.solve_waiting(mi, least, start, limit=30)
    counted = _counted(residents, first, split.tolist(), least, ff)
    assert counted is not None and unpriced.value == counted[1] >= best
    assert (unpriced.bound, unpriced.status) == (
        min(weak, unpriced.value),
        "OPTIMAL" if weak >= unpriced.value else "FEASIBLE",
    )
    # no pick in time either: the greedy split stands
    monkeypatch.setattr(master.mip, "solve", lambda solver, gap=0.0: "UNKNOWN")
    fallback, split = master.solve_waiting(mi, least, start, limit=30)
    counted = _counted(residents, first, split.tolist(), least, ff)
    assert counted is not None and fallback.value == counted[1]
    assert split.tolist() == _greedy_by_hand(residents, first, ff, waves, start.tolist(), least)
    assert (fallback.bound, fallback.status) == (
        min(weak, fallback.value),
        "OPTIMAL" if weak >= fallback.value else "FEASIBLE",
    )


def _waiting_with_every_device(
    waves: list[int], first: list[list[int]], residents: list[int], fixed_first: list[int], days: int
) -> int:
    """A bound no split beats: each kecamatan's waiting, day by day, as if every device of every
    wave were its own (a resident is waiting at the start of a day while the seats of the days
    before cannot hold everyone)."""
    total = 0
    for k, people in enumerate(residents):
        device_days = 0
        for d in range(days):
            total += max(0, people - SEATS * device_days)
            pooled = sum(n for n, f in zip(waves, first[k], strict=True) if d >= f)
            device_days += FIXED * (d >= fixed_first[k]) + pooled
    return total


@pytest.mark.parametrize("seed", range(60))
def test_the_greedy_fallback_places_every_device_that_saves_waiting(seed: int) -> None:
    """The greedy split (level 2's hint, and its answer when the exact model finds nothing
    better): it keeps the split it starts from, gives no wave more than it has, and leaves no
    device whose placement anywhere would still cut waiting. With one wave, where each
    kecamatan's waiting is convex in its devices, that is the least waiting of every split that
    keeps the start, counted here."""
    from ektp_opt.national.master import _greedy

    case = _level_one(seed)
    if case is None:
        return
    mi, waves, first, residents, ff, least = case
    n_k, n_w = len(residents), len(waves)
    for horizon in (least, mi.regular):
        for start in (np.zeros((n_k, n_w), dtype=np.int64), solve_completion(mi, limit=30)[1]):
            assert start is not None
            split = _greedy(mi, start, horizon).tolist()
            kept = start.tolist()
            assert all(split[k][w] >= kept[k][w] for k in range(n_k) for w in range(n_w))
            left = [n - sum(split[k][w] for k in range(n_k)) for w, n in enumerate(waves)]
            assert min(left) >= 0
            now = _waiting_within(residents, first, split, horizon, ff)
            for w in (w for w in range(n_w) if left[w]):
                for k in range(n_k):
                    more = [row[:] for row in split]
                    more[k][w] += 1
                    assert _waiting_within(residents, first, more, horizon, ff) >= now, (k, w)
            if n_w == 1:
                keeping = [s for s in _splits(waves, n_k) if all(s[k][0] >= kept[k][0] for k in range(n_k))]
                assert now == min(_waiting_within(residents, first, s, horizon, ff) for s in keeping)
            assert split == _greedy_by_hand(residents, first, ff, waves, kept, horizon)


def _greedy_by_hand(
    residents: list[int], first: list[list[int]], ff: list[int], waves: list[int], start: list[list[int]], horizon: int
) -> list[list[int]]:
    """One device at a time, to where it saves the most waiting now (ties: the lowest kecamatan,
    then wave), every placement tried and counted here; done when no device left saves anything."""
    split = [row[:] for row in start]
    left = [n - sum(row[w] for row in split) for w, n in enumerate(waves)]
    while True:
        now = _waiting_within(residents, first, split, horizon, ff)
        best: tuple[int, int, int] | None = None
        for k in range(len(residents)):
            for w in range(len(waves)):
                if left[w] > 0 and first[k][w] < horizon:
                    more = [row[:] for row in split]
                    more[k][w] += 1
                    gain = now - _waiting_within(residents, first, more, horizon, ff)
                    if best is None or gain > best[0]:
                        best = (gain, k, w)
        if best is None or best[0] <= 0:
            return split
        split[best[1]][best[2]] += 1
        left[best[2]] -= 1


def _stops_with_an_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """SCIP out of time with an answer in hand: mip.solve says FEASIBLE where it proved OPTIMAL."""
    import ektp_opt.national.master as master

    real = master.mip.solve
    monkeypatch.setattr(
        master.mip, "solve", lambda solver, gap=0.0: "FEASIBLE" if (st := real(solver, gap)) == "OPTIMAL" else st
    )


@pytest.mark.parametrize("seed", range(40))
def test_the_covering_model_answers_every_day_as_the_splits_do(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """For every day of random tiny nations: a split that finishes by that day exists (OPTIMAL,
    with a split that does) or none does (INFEASIBLE), every split tried here. A split found
    before SCIP proved it best still answers the question: feasible is feasible."""
    import ektp_opt.national.master as master

    waves, first, residents, ff = _random_nation(seed)
    mi = _tiny(waves, first, residents, regular=8, fixed_first=ff)
    finishing = [c[0] for s in _splits(waves, len(residents)) if (c := _counted(residents, first, s, mi.regular, ff))]
    for early in (False, True):
        if early:
            _stops_with_an_answer(monkeypatch)
        for t in range(1, mi.regular + 1):
            st, split = master._feasible(mi, t, 30)
            if any(c <= t for c in finishing):
                assert st == "OPTIMAL" and split is not None, (t, early)
                counted = _counted(residents, first, split.tolist(), t, ff)
                assert counted is not None and counted[0] <= t
            else:
                assert (st, split) == ("INFEASIBLE", None), (t, early)


@pytest.mark.parametrize("need", [1, 5, 9, 12, 30])
def test_the_ways_are_every_minimal_covering(need: int) -> None:
    """_ways against every vector counted here: the vectors of whole devices (no wave beyond its
    count) that cover the need, and from which no device can be taken away."""
    from ektp_opt.national.master import _ways

    days, counts = (4, 7, 0, 3), (2, 9, 5, 9)  # not in date order: a later wave may serve longer
    vectors = itertools.product(*(range(c + 1) for c in counts))

    def covers(v: tuple[int, ...]) -> bool:
        return sum(x * d for x, d in zip(v, days, strict=True)) >= need

    minimal = {
        v
        for v in vectors
        if covers(v) and not any(v[w] and covers((*v[:w], v[w] - 1, *v[w + 1 :])) for w in range(len(v)))
    }
    ways = _ways(need, days, counts)
    assert ways is not None and set(ways) == minimal and len(ways) == len(minimal)


@pytest.mark.parametrize("seed", range(12))
def test_kecamatan_with_too_many_ways_keep_their_own_integers(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """With MAX_WAYS at 1 most kecamatan keep an integer per wave beside the classes: the covering
    model still answers every day as the splits do."""
    import ektp_opt.national.master as master

    monkeypatch.setattr(master, "MAX_WAYS", 1)
    waves, first, residents, ff = _random_nation(seed)
    mi = _tiny(waves, first, residents, regular=8, fixed_first=ff)
    finishing = [c[0] for s in _splits(waves, len(residents)) if (c := _counted(residents, first, s, mi.regular, ff))]
    for t in range(1, mi.regular + 1):
        st, split = master._feasible(mi, t, 30)
        if any(c <= t for c in finishing):
            assert st == "OPTIMAL" and split is not None, t
            counted = _counted(residents, first, split.tolist(), t, ff)
            assert counted is not None and counted[0] <= t
        else:
            assert (st, split) == ("INFEASIBLE", None), t


def test_fewest_extra_devices_found_before_scip_proved_them_still_finish(monkeypatch: pytest.MonkeyPatch) -> None:
    """An addition SCIP found but did not prove least is given with FEASIBLE, and it finishes."""
    waves, first, residents, province_of = [1, 1], [[1, 4], [2, 3]], [170, 90], ["11", "12"]
    mi = _tiny(waves, first, residents, regular=8)
    _stops_with_an_answer(monkeypatch)
    extra, status = _fewest_extra(mi, province_of, limit=30)
    assert status == "FEASIBLE" and extra
    assert _finishes(waves, first, residents, province_of, extra, mi.regular)


def test_no_extra_device_helps_a_kecamatan_no_wave_reaches_in_time() -> None:
    """The only wave reaches the second kecamatan after the regular days: no addition to the
    waves can serve it, and the module says so (INFEASIBLE, nothing to add)."""
    mi = _tiny([2], [[1], [9]], [100, 100], regular=8)
    assert _fewest_extra(mi, ["11", "12"], limit=30) == ({}, "INFEASIBLE")


def test_a_master_out_of_time_before_any_split_is_exit_6_not_a_proof(monkeypatch: pytest.MonkeyPatch) -> None:
    """Level 1 with no split and no proof (UNKNOWN): NoSolutionError (exit 6) telling what to raise;
    with a proof (INFEASIBLE): InfeasibleError."""
    import ektp_opt.national.master as master
    from ektp_opt.errors import NoSolutionError
    from ektp_opt.solver.result import LevelResult

    mi = _tiny([1], [[1]], [50], regular=8)
    for status, error, said in (
        ("UNKNOWN", NoSolutionError, "the master found no split within its time limit; raise --master-time-limit"),
        ("INFEASIBLE", InfeasibleError, "no split of the national waves finishes by the deadline (8 regular days)"),
    ):
        result = LevelResult("completion", 9, 1, status, 0.0)  # type: ignore[arg-type]
        monkeypatch.setattr(master, "solve_completion", lambda m, limit, r=result: (r, None))
        with pytest.raises(error) as exc:
            master.solve_master(mi, limit=30)
        assert str(exc.value) == said


def test_master_input_is_the_scenario_counted_by_hand(tmp_path: Path) -> None:
    """national-small with every day a working day, its province's transit longer than the
    default, a capacity that does not divide into its shifts and a reserve: the days, regular
    days, seats and every kecamatan's first service days counted here from the scenario file."""
    from ektp_opt.national.cities import make_city
    from ektp_opt.national.scenario import load_national
    from tests.national.test_national import SMALL

    text = (
        SMALL.read_text()
        .replace(
            'workdays = ["mon", "tue", "wed", "thu", "fri", "sat"]', "workdays = " + repr(list(_WEEK)).replace("'", '"')
        )
        .replace("capacity_per_day = 100", "capacity_per_day = 102")
        .replace("reserve_per_shift = 0", "reserve_per_shift = 1")
        .replace("count = 37\ntransit_days = { default = 3 }", 'count = 37\ntransit_days = { default = 3, "75" = 6 }')
        .replace(
            "per_kecamatan = 1\ntransit_days = { default = 3 }",
            'per_kecamatan = 1\ntransit_days = { default = 3, "75" = 5 }',
        )
    )
    (tmp_path / "s.toml").write_text(text)
    ln = load_national(tmp_path / "s.toml")
    cities = [make_city(ln, k.code) for k in ln.kabkota]
    mi = master_input(ln, cities)
    holidays = set(ln.scenario.calendar.holidays)
    days = [
        dt.date(2011, 8, 1) + dt.timedelta(n)
        for n in range((dt.date(2011, 12, 30) - dt.date(2011, 8, 1)).days + 1)
        if dt.date(2011, 8, 1) + dt.timedelta(n) not in holidays
    ]
    regular = len(days) - 5

    def first(shipped: dt.date, transit: int) -> int:
        """Arrival, then one setup day strictly between arrival and the first service day."""
        after = [d for d in days if d > shipped + dt.timedelta(transit)]
        return min(days.index(after[1]), regular)

    assert (mi.days, mi.regular, mi.seats, mi.fixed) == (days, regular, (102 // 4 - 1) * 4, 1)
    assert mi.wave_count == [40, 37]
    kec = [(c.code, code, r) for c in cities for code, r in zip(c.kecamatan, c.residents.tolist(), strict=True)]
    assert (mi.kecamatan, mi.city_of, mi.residents.tolist()) == (
        [k for _c, k, _r in kec],
        [c for c, _k, _r in kec],
        [r for _c, _k, r in kec],
    )
    assert mi.fixed_first.tolist() == [first(dt.date(2011, 8, 1), 5)] * len(kec)
    waves = [first(dt.date(2011, 9, 12), 3), first(dt.date(2011, 10, 17), 6)]
    assert mi.wave_first.tolist() == [waves] * len(kec)
    assert mi.residents.dtype == mi.fixed_first.dtype == mi.wave_first.dtype == np.int64


def test_a_device_that_saves_one_residents_day_is_placed() -> None:
    """Eleven residents, their own device from the first day and a wave device from the first day,
    two days: the wave device saves exactly one resident one day of waiting, and is placed."""
    from ektp_opt.national.master import _greedy

    mi = _tiny([1], [[0]], [11], regular=2)
    assert _waiting_within([11], [[0]], [[0]], 2, [0]) - _waiting_within([11], [[0]], [[1]], 2, [0]) == 1
    assert _greedy(mi, np.zeros((1, 1), dtype=np.int64), 2).tolist() == [[1]]


def test_a_nation_served_on_its_first_day() -> None:
    """Ten residents and their own device from the first day: the capacity bound and the
    completion of the empty split are day 1; the figures the module returns are integers."""
    from ektp_opt.national.master import waiting_of

    mi = _tiny([1], [[0]], [10], regular=4)
    empty = np.zeros((1, 1), dtype=np.int64)
    assert (capacity_bound(mi), completion_of(mi, empty)) == (1, 1)
    assert waiting_of(mi, empty, 4).tolist() == [10] and waiting_of(mi, empty, 4).dtype == np.int64
    assert proportional_split(mi).dtype == np.int64


@pytest.mark.parametrize(
    ("waves", "first", "residents", "province_of", "fixed_first"),
    [
        ([1], [[1], [1]], [150, 60], ["11", "12"], [8, 0]),  # the first kecamatan's own device comes too late
        ([1], [[7]], [SEATS * 8 + SEATS + 5], ["11"], [0]),  # a wave that serves on the last regular day only
        ([1], [[9], [1]], [SEATS * 8, 220], ["11", "12"], [0, 0]),  # no wave reaches the first, which needs none
    ],
)
@pytest.mark.parametrize("own", [1, 2])
def test_fewest_extra_devices_at_the_edges_of_the_calendar(
    waves: list[int],
    first: list[list[int]],
    residents: list[int],
    province_of: list[str],
    fixed_first: list[int],
    own: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fewest additions, found here by trying them all, where a kecamatan's own device never
    serves in time, where a wave serves one day, and where a kecamatan no wave reaches needs no
    device at all; with one device of their own per kecamatan, and with two."""
    monkeypatch.setattr(sys.modules[__name__], "FIXED", own)
    mi = _tiny(waves, first, residents, regular=8, fixed_first=fixed_first)
    least = _least_extra(waves, first, residents, province_of, 8, fixed_first)
    found, status = _fewest_extra(mi, province_of, limit=30)
    assert (status, sum(found.values())) == ("OPTIMAL", least) and (least > 0 or own > 1)
    assert _finishes(waves, first, residents, province_of, found, 8, fixed_first)


@pytest.mark.parametrize("own", [0, 2])
@pytest.mark.parametrize("seed", range(12))
def test_completion_level_with_no_own_device_or_two(seed: int, own: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random tiny nations whose kecamatan have no device of their own, or two: level 1 is the
    least completion of every split counted here, or proven impossible; the master's completion
    date is that working day (the days here are consecutive from 1 August)."""
    monkeypatch.setattr(sys.modules[__name__], "FIXED", own)
    waves, first, residents, ff = _random_nation(seed)
    mi = _tiny(waves, first, residents, regular=8, fixed_first=ff)
    assert mi.fixed == own
    least = _least_completion(waves, first, residents, ff, mi.regular)
    level, split = solve_completion(mi, limit=30)
    if least is None:
        assert (level.status, split) == ("INFEASIBLE", None)
        return
    assert (level.value, level.bound, level.status) == (least, least, "OPTIMAL")
    assert split is not None and _counted(residents, first, split.tolist(), mi.regular, ff)[0] == least  # type: ignore[index]
    plan = solve_master(mi, limit=30)
    assert plan.completion_date(mi) == dt.date(2011, 8, 1) + dt.timedelta(least - 1)


@pytest.mark.parametrize("seed", range(40))
def test_a_day_out_of_time_once_is_settled_on_the_way_up(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The covering model out of time on the least day the first time it is asked (bisection
    then moves on upward), answered the second time: the walk up from the proof finds that day,
    and level 1 is proven after all."""
    import ektp_opt.national.master as master

    waves, first, residents, ff = _random_nation(seed)
    mi = _tiny(waves, first, residents, regular=8, fixed_first=ff)
    least = _least_completion(waves, first, residents, ff, mi.regular)
    if least is None or least == mi.regular:
        return
    real, asked = master._feasible, []

    def once(m: MasterInput, t: int, limit: float) -> tuple[str, object]:
        if t == least and not asked:
            asked.append(t)
            return "UNKNOWN", None
        return real(m, t, limit)

    monkeypatch.setattr(master, "_feasible", once)
    level, split = solve_completion(mi, limit=30)
    assert asked == [least] and (level.value, level.bound, level.status) == (least, least, "OPTIMAL")
    assert split is not None and _counted(residents, first, split.tolist(), least, ff) is not None


# --- what the deliveries can do for national-small (one province), in-process


@pytest.fixture(scope="module")
def small() -> tuple[Any, list[Any]]:
    from ektp_opt.national.cities import make_city
    from ektp_opt.national.scenario import load_national
    from tests.national.test_national import SMALL

    ln = load_national(SMALL)
    return ln, [make_city(ln, k.code) for k in ln.kabkota]


def _reloaded(tmp_path: Path, deadline: dt.date, waves: int | None = None) -> Any:
    """national-small with another deadline (and ``waves`` devices in each wave)."""
    from ektp_opt.national.scenario import load_national
    from tests.national.test_national import SMALL

    text = SMALL.read_text().replace("deadline = 2011-12-30", f"deadline = {deadline}")
    if waves is not None:
        text = text.replace("count = 40\n", f"count = {waves}\n").replace("count = 37\n", f"count = {waves}\n")
    path = tmp_path / f"s-{deadline}-{waves}.toml"
    path.write_text(text)
    return load_national(path)


def test_a_nation_that_meets_its_deadline_needs_nothing_more(small: tuple[Any, list[Any]], tmp_path: Path) -> None:
    """national-small as shipped meets its deadline: no extra device, no proof of impossibility.
    Its earliest completion does not depend on the deadline (the projection runs years past it):
    the same with a deadline just after the last wave. A deadline whose last regular day is that
    earliest day is met, just."""
    from ektp_opt.national.master import national_capacity, national_diagnosis

    ln, cities = small
    sc = ln.scenario
    cap = national_capacity(ln, cities, 60)
    mi = master_input(ln, cities)
    e = cap.earliest_days
    assert e is not None and e <= mi.regular and cap.earliest.status == "OPTIMAL"
    assert (cap.extra, cap.extra_status) == ({}, "OPTIMAL")
    cal = sc.calendar
    years = _working_days(sc.start, sc.start + dt.timedelta(4 * 365), cal.workdays, cal.holidays)
    assert cap.earliest_date == years[e - 1]
    d = national_diagnosis(ln, 60)
    assert (d.meets_deadline, d.extra_devices, d.extra_status, d.proof) == (True, [], "OPTIMAL", None)
    early = _reloaded(tmp_path, dt.date(2011, 10, 20))
    assert national_capacity(early, cities, 60).earliest_days == e
    just = _reloaded(tmp_path, years[e - 1 + sc.backlog.catch_up_days])
    d = national_diagnosis(just, 60)
    assert (d.regular_working_days, d.earliest_completion.working_days, d.meets_deadline) == (e, e, True)


def test_an_earliest_completion_found_but_not_proven_is_still_given(
    small: tuple[Any, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Level 1 past the deadline FEASIBLE (found, not proven least): its day and date are given;
    INFEASIBLE or UNKNOWN (nothing found even years on): no day and no date."""
    import ektp_opt.national.master as master
    from ektp_opt.solver.result import LevelResult

    ln, cities = small
    cal = ln.scenario.calendar
    years = _working_days(ln.scenario.start, ln.scenario.start + dt.timedelta(4 * 365), cal.workdays, cal.holidays)
    for status, days, date in (("FEASIBLE", 40, years[39]), ("INFEASIBLE", None, None), ("UNKNOWN", None, None)):
        level = LevelResult("completion", 40, 35, status, 0.0)  # type: ignore[arg-type]
        monkeypatch.setattr(master, "solve_completion", lambda m, limit, r=level: (r, None))
        cap = master.national_capacity(ln, cities, 60)
        assert (cap.earliest_days, cap.earliest_date, cap.earliest.status) == (days, date, status)


def test_an_earliest_completion_a_year_on_is_found(small: tuple[Any, list[Any]], tmp_path: Path) -> None:
    """One device in each wave: the kecamatan rest on their own device, and the earliest national
    completion comes in March 2012, months after a deadline at the end of October or of December.
    Both find it (the projection runs three years on), the same working day."""
    from ektp_opt.national.master import national_capacity

    _ln, cities = small
    found = []
    for deadline in (dt.date(2011, 10, 31), dt.date(2011, 12, 30)):
        ln = _reloaded(tmp_path, deadline, waves=1)
        cap = national_capacity(ln, cities, 60)
        assert cap.earliest_days is not None and cap.earliest_date is not None
        assert cap.earliest_date > dt.date(2012, 3, 1)
        found.append(cap.earliest_days)
    assert found[0] == found[1]


@pytest.mark.parametrize("seed", range(40))
def test_every_day_proven_impossible_counts_in_the_bound(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The covering model out of time on one day below the least completion, every such day in
    turn: whatever days level 1 then asks, its bound is one past the latest day the model proved
    impossible (or the capacity bound), its value the earliest day a split was found for, and it
    is OPTIMAL exactly when they meet. Every split it returns is integral and finishes."""
    import ektp_opt.national.master as master

    waves, first, residents, ff = _random_nation(seed)
    mi = _tiny(waves, first, residents, regular=8, fixed_first=ff)
    least = _least_completion(waves, first, residents, ff, mi.regular)
    if least is None:
        return
    real, lo = master._feasible, capacity_bound(mi)
    for stuck in range(lo, least):
        asked: list[tuple[int, str, bool]] = []

        def recorded(
            m: MasterInput, t: int, limit: float, stuck: int = stuck, asked: list[tuple[int, str, bool]] = asked
        ) -> tuple[str, object]:
            st, split = ("UNKNOWN", None) if t == stuck else real(m, t, limit)
            asked.append((t, st, split is not None))
            return st, split

        monkeypatch.setattr(master, "_feasible", recorded)
        level, split = solve_completion(mi, limit=30)
        bound = max([lo] + [t + 1 for t, st, _found in asked if st == "INFEASIBLE"])
        value = min(t for t, _st, found in asked if found)
        assert (level.bound, level.value) == (bound, value), (stuck, asked)
        assert level.status == ("OPTIMAL" if bound == value else "FEASIBLE")
        assert split is not None and split.dtype == np.int64
        assert _counted(residents, first, split.tolist(), value, ff) is not None


def test_the_projection_runs_three_years_past_the_deadline_without_catch_up_days(
    small: tuple[Any, list[Any]],
) -> None:
    """Where the earliest national completion is sought past the deadline: every working day up
    to three years (3 x 365 days) after it, all of them regular (no catch-up days at the end)."""
    from ektp_opt.national.master import extend_days

    ln, cities = small
    sc, cal = ln.scenario, ln.scenario.calendar
    longer = extend_days(ln, cities)
    days = _working_days(sc.start, sc.deadline + dt.timedelta(3 * 365), cal.workdays, cal.holidays)
    assert (longer.days, longer.regular) == (days, len(days))
