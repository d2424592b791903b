"""resolve --max-delay and --tradeoff (issue #18): the cap model against brute force on tiny
kecamatan, the CLI's exit 4 with the smallest cap that is then met, the verifier's cap rule, and
a monotone front."""

from __future__ import annotations

import csv
import itertools
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ektp_opt.resolve.cap import smallest_feasible_cap
from ektp_opt.resolve.capped import KecamatanMovers
from tests.cli.test_cli import run
from tests.conftest import scenario_text
from tests.resolve.test_resolve import TINY_POOL, TINY_SLIP

SEATS = 5  # per device-shift in tiny_kecamatan


def tiny_kecamatan(seed: int, devices: int = 1) -> tuple[KecamatanMovers, list[tuple[int, int, int, int]], list, list]:
    """A kecamatan of 5 days (the window starts on day 1), 2 shifts, ``devices`` devices of 5
    seats, a few KK that keep a day and 2-3 (per device) that must move (their day's device went)."""
    rng = random.Random(seed)
    n_days, w_end = 5, 1
    slots, keepers, kk = [], [], 0
    for d in range(w_end, n_days):
        for s in (1, 2):
            for dv in range(devices):
                room = SEATS
                while room > 0 and rng.random() < (0.6 if devices == 1 else 0.85):
                    m = rng.randint(1, min(3, room))
                    keepers.append((kk, m, d, s, dv))
                    kk, room = kk + 1, room - m
                slots.append((d, s, dv, room))
    n_must = sum(rng.randint(2, 3) for _ in range(devices)) + (devices > 1) * rng.randint(2, 4)
    must = [(kk + j, rng.randint(1, 3 + (devices > 1)), rng.randint(0, 2)) for j in range(n_must)]
    staffed = {(d, s, dv) for _k, _m, d, s, dv in keepers}
    order = {i: (0, 0) for i in range(kk + len(must))}
    km = KecamatanMovers(slots, staffed, -1, n_days, w_end, must, keepers, order)  # type: ignore[arg-type]
    return km, slots, keepers, must


def fits_all(families: list[tuple[int, list[Any]]], rooms: dict[Any, int]) -> bool:
    """Can every (members, slots it may take) be put in one of its slots within their seats?
    (Exhaustive, largest first.)"""
    families = sorted(families, key=lambda f: -f[0])

    def go(i: int) -> bool:
        if i == len(families):
            return True
        m, allowed = families[i]
        for key in allowed:
            if rooms[key] >= m:
                rooms[key] -= m
                if go(i + 1):
                    return True
                rooms[key] += m
        return False

    return go(0)


def brute_force_extra(slots: list, keepers: list, must: list, cap: int, n_days: int) -> int | None:
    """The fewest KK that keep a day and must move too, by trying every set of them."""
    for k in range(len(keepers) + 1):
        for out in itertools.combinations(keepers, k):
            rooms = {(d, s): room for d, s, _dv, room in slots}
            for _kk, m, d, s, _dv in out:
                rooms[(d, s)] += m
            items = [(m, min(r + cap, n_days - 1)) for _kk, m, r in must]
            items += [(m, min(d + cap, n_days - 1)) for _kk, m, d, _s, _dv in out]
            if fits_all([(m, [key for key in rooms if key[0] <= dl]) for m, dl in items], rooms):
                return k
    return None


@pytest.mark.parametrize("seed", range(12))
def test_cap_model_against_brute_force(seed: int) -> None:
    """Per cap: the plan moves exactly the brute-force minimum (the kecamatan is small enough for
    the exact model to settle it), keeps the cap, and its bound is proven; the smallest cap the
    closed form proves is never above the true one."""
    km, slots, keepers, must = tiny_kecamatan(seed)
    smallest = None
    for cap in range(0, 5):
        want = brute_force_extra(slots, keepers, must, cap, km.n_days)
        out = km.plan(cap, 10.0)
        if want is None:
            assert not out.ok
            continue
        smallest = cap if smallest is None else smallest
        assert out.ok and len(out.extra) == want == out.bound and out.status == "OPTIMAL"
        assert out.largest_delay <= cap
    low = smallest_feasible_cap(km.model, 12)
    if smallest is not None:
        assert low is not None and low <= smallest


@pytest.mark.parametrize("seed", range(20))
def test_exact_model_lets_a_family_change_device_within_its_shift(seed: int) -> None:
    """Two devices per shift: the exact model's fewest KK whose date or shift changes equals a
    brute force over every set of KK that leave their shift, where the others may sit at either
    device of theirs; its bound never exceeds it."""
    rng = random.Random(100 + seed)
    n_days, w_end, seats = 3, 1, 5
    slots, keepers, kk = [], [], 0
    for d in range(w_end, n_days):
        for dv in range(2):
            room = seats
            while room > rng.randint(1, 2):
                m = rng.randint(1, min(3, room))
                keepers.append((kk, m, d, 1, dv))
                kk, room = kk + 1, room - m
            slots.append((d, 1, dv, room))
    must = [(kk + j, rng.randint(3, 4), rng.randint(1, 2)) for j in range(rng.randint(1, 3))]
    order = {i: (0, 0) for i in range(kk + len(must))}
    staffed = {(d, 1, dv) for _k, _m, d, _s, dv in keepers}
    km = KecamatanMovers(slots, staffed, -1, n_days, w_end, must, keepers, order)  # type: ignore[arg-type]
    index = {(d, dv): j for j, (d, _s, dv, _r) in enumerate(slots)}
    for cap in (0, 1):
        want = None
        for k in range(len(keepers) + 1):
            for out in itertools.combinations(keepers, k):
                leaving = {row[0] for row in out}
                fams = [
                    (m, [j for j, sl in enumerate(slots) if sl[0] <= min(r + cap, n_days - 1)]) for _k, m, r in must
                ]
                for kid, m, d, _s, _dv in keepers:
                    days = range(w_end, min(d + cap, n_days - 1) + 1) if kid in leaving else (d,)
                    allowed = [index[(e, dv)] for e in days for dv in range(2) if not (kid in leaving and e == d)]
                    fams.append((m, allowed))
                if fits_all(fams, dict.fromkeys(range(len(slots)), seats)):
                    want = k
                    break
            if want is not None:
                break
        exact = km._exact(cap, None, 10.0)
        assert exact is not None
        placed, extra, relocated, bound, proven = exact
        if want is None:
            assert placed is None
            continue
        assert placed is not None and proven and len(extra) == want == bound
        kept = {k: (d, s) for k, _m, d, s, _dv in keepers}
        assert all(placed[k][:2] != kept[k] for k in extra)
        assert all(kept[k] == spot[:2] for k, spot in relocated.items())
        assert max(loads(slots, keepers, must, placed, extra, relocated).values()) <= seats


def test_a_family_without_a_seat_swaps_with_a_smaller_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two days, one device-shift each: 3 free seats on day 0 (beside a family of 3 that keeps its
    day), 4 on day 1. Three KK must move by day 1, in this order: A (2 members), B (2), C (3).
    Tightest first, A takes day 0 (1 seat left), B day 1 (2 left), and C fits nowhere; C takes
    A's seat (with the seat beside it) and A the 2 on day 1: nobody else moves. Without the swap
    the family of 3 would have to make room, and then has no seat itself: no plan."""
    import ektp_opt.resolve.capped as capped_module

    slots = [(0, 1, 0, 3), (1, 1, 0, 4)]
    must = [(10, 2, 0), (11, 2, 0), (12, 3, 0)]  # (kk, members, last day at delay 0)
    keepers = [(20, 3, 0, 1, 0)]
    order = {10: (0, 0), 11: (1, 0), 12: (2, 0), 20: (3, 0)}
    km = KecamatanMovers(slots, {(0, 1, 0)}, -1, 2, 0, must, keepers, order)  # type: ignore[arg-type]
    placed, extra, relocated = km._seat([], 1)
    assert placed == {12: (0, 1, 0), 11: (1, 1, 0), 10: (1, 1, 0)} and extra == [] and relocated == {}
    monkeypatch.setattr(capped_module, "EJECT_DAYS", -1)  # no day to swap in
    placed, extra, _relocated = km._seat([], 1)
    assert placed is None


def loads(
    slots: list, keepers: list, must: list, placed: dict, extra: list, relocated: dict
) -> dict[tuple[int, int, int], int]:
    """Members at each device-shift once the seating is done, counted from its answer: KK that
    keep a day at their device (or the one they were relocated to), movers where they were put."""
    size = {k: m for k, m, *_rest in keepers} | {k: m for k, m, _r in must}
    load = {(d, s, dv): 0 for d, s, dv, _r in slots}
    for k, _m, d, s, dv in keepers:
        if k not in extra:
            load[relocated.get(k, (d, s, dv))] += size[k]
    for k, spot in placed.items():
        load[spot] += size[k]
    return load


def test_a_family_moves_to_another_device_of_its_shift_to_make_a_hole(monkeypatch: pytest.MonkeyPatch) -> None:
    """One day, one shift, two devices of 5 seats: a family of 3 on device 0 (2 seats free), a
    family of 2 and one of 1 on device 1 (2 free). A family of 4 must come that day: 4 seats are
    free in the shift, but on no device. The family of 2 goes to device 0, which frees 4 seats on
    device 1: nobody's date or shift changes. Without it that family is made to leave (one KK
    more to make room), even if it then lands in its own shift again."""
    slots = [(0, 1, 0, 2), (0, 1, 1, 2)]
    keepers = [(20, 3, 0, 1, 0), (21, 2, 0, 1, 1), (22, 1, 0, 1, 1)]
    must = [(10, 4, 0)]
    order = {k: (k, 0) for k in (10, 20, 21, 22)}
    km = KecamatanMovers(slots, {(0, 1, 0), (0, 1, 1)}, -1, 1, 0, must, keepers, order)  # type: ignore[arg-type]
    placed, extra, relocated = km._seat([], 0)
    assert placed == {10: (0, 1, 1)} and extra == [] and relocated == {21: (0, 1, 0)}
    assert max(loads(slots, keepers, must, placed, extra, relocated).values()) <= SEATS
    import ektp_opt.resolve.capped as capped_module

    monkeypatch.setattr(capped_module, "SHUFFLE_DAYS", -1)  # no day to relocate in
    placed, extra, relocated = km._seat([], 0)
    assert placed is not None and extra == [21] and relocated == {}


def test_a_shift_is_seated_again_where_one_family_is_not_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    """One shift, three devices of 6 seats: families 3+2 (1 free), 3+2 (1 free), 3+1 (2 free),
    and a family of 4 due. No single family can leave its device for a hole of 4 (the others
    have 1 or 2 seats, every family that frees enough has 3 members); seating the shift again
    does it (4+2, 3+3, 3+2+1). Without that, a family of 3 is made to leave (one KK more)."""
    slots = [(0, 1, 0, 1), (0, 1, 1, 1), (0, 1, 2, 2)]
    keepers = [
        (20, 3, 0, 1, 0),
        (21, 2, 0, 1, 0),
        (22, 3, 0, 1, 1),
        (23, 2, 0, 1, 1),
        (24, 3, 0, 1, 2),
        (25, 1, 0, 1, 2),
    ]
    must = [(10, 4, 0)]
    order = {k: (k, 0) for k in (10, 20, 21, 22, 23, 24, 25)}
    staffed = {(0, 1, dv) for dv in range(3)}
    km = KecamatanMovers(slots, staffed, -1, 1, 0, must, keepers, order)  # type: ignore[arg-type]
    placed, extra, relocated = km._seat([], 0)
    assert placed is not None and set(placed) == {10} and extra == [] and relocated
    load = loads(slots, keepers, must, placed, extra, relocated)
    assert max(load.values()) <= 6 and sum(load.values()) == 18
    assert all(spot[:2] == (0, 1) for spot in relocated.values())
    monkeypatch.setattr(KecamatanMovers, "_repack", lambda *_args: False)
    placed, extra, relocated = km._seat([], 0)
    assert placed is not None and extra == [20]


@pytest.mark.parametrize("seed", range(40))
def test_seating_keeps_every_deadline_and_seat(seed: int) -> None:
    """The seating alone (no exact model), on random tiny kecamatan of 1-3 devices and every cap,
    with and without KK chosen to make room first: each KK seated on or before its deadline, KK
    relocated only within their own day and shift, each device-shift holding no more than its
    seats, counted here from the answer."""
    devices = 1 + seed % 3
    km, slots, keepers, must = tiny_kecamatan(seed, devices)
    rng = random.Random(seed)
    relocations = 0
    for cap in range(0, 5):
        chosen = [k for k, *_rest in keepers if rng.random() < 0.2]
        placed, extra, relocated = km._seat(chosen, cap)
        if placed is None:
            continue
        assert set(chosen) <= set(extra)
        kept = {k: (d, s) for k, _m, d, s, _dv in keepers}
        deadline = {k: min(r + cap, km.n_days - 1) for k, _m, r in must}
        deadline |= {k: min(kept[k][0] + cap, km.n_days - 1) for k in extra}
        assert set(placed) == set(deadline)  # every mover, and only they, seated
        for k, (d, _s, _dv) in placed.items():
            assert km.w_end <= d <= deadline[k]
        assert not set(relocated) & set(extra) and all(kept[k] == spot[:2] for k, spot in relocated.items())
        assert max(loads(slots, keepers, must, placed, extra, relocated).values()) <= SEATS
        relocations += len(relocated)
    if devices == 1:
        assert relocations == 0


def fragmented_kecamatan(seed: int) -> tuple[KecamatanMovers, list, list, list]:
    """Three days after the window, 2 shifts of 3 devices of 6 seats, each device filled by KK
    that keep their day up to 0-2 free seats, and families of 2-4 that must move: the free seats
    are there in each shift, split over its devices."""
    rng = random.Random(seed)
    n_days, w_end = 4, 1
    slots, keepers, kk = [], [], 0
    for d in range(w_end, n_days):
        for s in (1, 2):
            for dv in range(3):
                room = 6
                while room > rng.randint(0, 2):
                    m = rng.randint(1, min(3, room))
                    keepers.append((kk, m, d, s, dv))
                    kk, room = kk + 1, room - m
                slots.append((d, s, dv, room))
    must = [(kk + j, rng.randint(2, 4), rng.randint(0, 1)) for j in range(rng.randint(3, 6))]
    staffed = {(d, s, dv) for _k, _m, d, s, dv in keepers}
    order = {i: (0, 0) for i in range(kk + len(must))}
    km = KecamatanMovers(slots, staffed, -1, n_days, w_end, must, keepers, order)  # type: ignore[arg-type]
    return km, slots, keepers, must


def test_relocations_keep_every_seat_and_deadline() -> None:
    """Where free seats are split over devices: on 60 random kecamatan and caps 0-2, every seat
    count and deadline holds, counted from the answer, and relocations (there must be some, or the
    test proves nothing) stay within their KK's own day and shift."""
    relocations = 0
    for seed in range(60):
        km, slots, keepers, must = fragmented_kecamatan(seed)
        for cap in range(3):
            placed, extra, relocated = km._seat([], cap)
            if placed is None:
                continue
            kept = {k: (d, s) for k, _m, d, s, _dv in keepers}
            deadline = {k: min(r + cap, km.n_days - 1) for k, _m, r in must}
            deadline |= {k: min(kept[k][0] + cap, km.n_days - 1) for k in extra}
            assert set(placed) == set(deadline)
            assert all(km.w_end <= d <= deadline[k] for k, (d, _s, _dv) in placed.items())
            assert not set(relocated) & set(extra)
            assert all(kept[k] == spot[:2] for k, spot in relocated.items())
            assert max(loads(slots, keepers, must, placed, extra, relocated).values()) <= 6
            relocations += len(relocated)
    assert relocations > 20


# A tiny city busy to its deadline; half the pool slips three weeks, so the movers find free seats
# only near the end and a cap costs extra moves: a front of a dozen points.
SLIP_HEAD = scenario_text().split("[calendar]")[0].replace("deadline = 2011-09-10", "deadline = 2011-10-15")
SLIP_HH = "[households]\nseed = 4\nresidents = 5500\nhouseholds = 1833\n"
SLIP_LATE = TINY_SLIP.replace("2011-09-01", "2011-09-12")


@pytest.fixture
def slip(tiny_city: Callable[..., Path], tmp_path: Path) -> tuple[Path, Path]:
    before = tiny_city("before.toml", head=SLIP_HEAD, deliveries=TINY_POOL, households=SLIP_HH)
    after = tiny_city("after.toml", head=SLIP_HEAD, deliveries=SLIP_LATE, households=SLIP_HH)
    old = tmp_path / "old"
    assert run("solve", str(before), "--out", str(old), "--workers", "1", "--quiet")[0] == 0
    return old, after


def capped(old: Path, after: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    args = ["resolve", "--plan", str(old), "--scenario", str(after), "--as-of", "2011-08-22", "--notice-days", "3"]
    return run(*args, *extra, "--out", str(out), "--workers", "1", "--quiet")


def delays(old: Path, new: Path, scenario: Path) -> dict[str, int]:
    import numpy as np

    from ektp_opt.inputs.scenario import load_scenario

    sc = load_scenario(scenario).scenario
    mask = [d in sc.calendar.workdays for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
    hol = np.array(sc.calendar.holidays, dtype="datetime64[D]")
    with (old / "appointments.csv").open() as fh:
        before = {r["kk_id"]: r["date"] for r in csv.DictReader(fh)}
    out = {}
    with (new / "appointments.csv").open() as fh:
        for r in csv.DictReader(fh):
            if r["date"] != before[r["kk_id"]]:
                a = np.datetime64(before[r["kk_id"]]) + 1
                b = np.datetime64(r["date"]) + 1
                out[r["kk_id"]] = int(np.busday_count(a, b, weekmask=mask, holidays=hol))
    return out


def test_a_cap_that_cannot_be_met_names_the_smallest_one_which_is_then_met(
    slip: tuple[Path, Path], tmp_path: Path
) -> None:
    old, after = slip
    code, stdout, err = capped(old, after, tmp_path / "zero", "--max-delay", "0")
    assert code == 4, err
    diagnosis = json.loads((tmp_path / "zero" / "diagnosis.json").read_text())
    assert diagnosis["meets_cap"] is False and diagnosis["max_delay"] == 0
    smallest = diagnosis["smallest_cap"]
    assert 0 < diagnosis["smallest_cap_bound"] <= smallest
    assert "Smallest cap a plan meets" in stdout
    if smallest > diagnosis["smallest_cap_bound"]:  # between the proof and the plan: no promise either way
        pass
    elif smallest > 1:
        assert capped(old, after, tmp_path / "below", "--max-delay", str(smallest - 1))[0] == 4
    out = tmp_path / "met"
    code, stdout, err = capped(old, after, out, "--max-delay", str(smallest))
    assert code == 0, err
    assert run("verify", str(out))[0] == 0
    late = delays(old, out, after)
    assert late and max(late.values()) <= smallest
    info = json.loads((out / "summary.json").read_text())["resolve"]
    assert info["max_delay"] == smallest and info["largest_delay_working_days"] == max(late.values())
    assert info["moved_kk"] == diagnosis["moves_at_smallest_cap"]
    assert info["moved_kk_proven_minimum"] <= info["moved_kk"]


def test_verify_rejects_a_plan_whose_moves_exceed_its_cap(slip: tuple[Path, Path], tmp_path: Path) -> None:
    old, after = slip
    out = tmp_path / "free"
    assert capped(old, after, out, "--max-delay", "60")[0] == 0
    assert run("verify", str(out))[0] == 0
    worst = max(delays(old, out, after).values())
    summary = out / "summary.json"
    info = json.loads(summary.read_text())
    info["resolve"]["max_delay"] = worst - 1
    summary.write_text(json.dumps(info, indent=2) + "\n")
    assert run("verify", str(out))[0] == 5
    from ektp_opt.inputs.population import load_population
    from ektp_opt.inputs.scenario import load_scenario
    from ektp_opt.verify import verify_plan

    ls = load_scenario(after)
    report = verify_plan(out, ls, load_population(ls))
    assert [v.rule for v in report.violations] == [
        f"moved KK appointed more than max_delay ({worst - 1}) working days later"
    ]
    # a changes.csv line without an old office date (a home visit before) has no delay to cap; one
    # whose date is not a date is reported, never a crash
    info["resolve"]["max_delay"] = worst
    summary.write_text(json.dumps(info, indent=2) + "\n")
    kk = next(iter(delays(old, out, after)))
    with (out / "changes.csv").open("a") as fh:
        fh.write(f"{kk},,,,2011-09-01,1,x,home visit\n")
    assert verify_plan(out, ls, load_population(ls)).ok
    with (out / "changes.csv").open("a") as fh:
        fh.write(f"{kk},2011-13-01,1,x,2011-09-01,1,x,edited\n")
    report = verify_plan(out, ls, load_population(ls))
    assert [v.rule for v in report.violations] == ["changes.csv date not YYYY-MM-DD"]
    info["resolve"]["max_delay"] = worst - 1
    summary.write_text(json.dumps(info, indent=2) + "\n")
    # the plan in force gone: the cap is still checked, on changes.csv
    (old / "appointments.csv").rename(old / "gone.csv")
    report = verify_plan(out, ls, load_population(ls))
    assert len(report.violations) == 2 and any("changes.csv only" in w for w in report.warnings)


def test_relocated_keepers_are_written_at_their_new_devices(
    slip: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the seating relocates within a shift reaches the plan: those KK keep their date
    and shift, sit at the new device, changes.csv says so, and the plan verifies. (The tiny city
    seldom needs a relocation, so two families of one size in one shift trade devices in the
    seating's answer: every seat count stays as it was.)"""
    import dataclasses

    swapped: dict[int, tuple[int, int, int]] = {}
    plan = KecamatanMovers.plan

    def relocating(self: KecamatanMovers, cap: int, limit: float = 60.0) -> Any:
        out = plan(self, cap, limit)
        if not out.ok or swapped:
            return out
        first: dict[tuple[int, int, int], tuple[int, int]] = {}  # (day, shift, members) -> (kk, device)
        for kk, (d, m, s, dv) in sorted(self._where.items()):
            if kk in out.extra:
                continue
            other = first.setdefault((d, s, m), (kk, dv))
            if other[1] != dv:
                swapped.update({kk: (d, s, other[1]), other[0]: (d, s, dv)})
                return dataclasses.replace(out, relocated=dict(swapped))
        return out

    monkeypatch.setattr(KecamatanMovers, "plan", relocating)
    old, after = slip
    out = tmp_path / "moved"
    code, _o, err = capped(old, after, out, "--max-delay", "10")
    assert code == 0, err
    assert len(swapped) == 2
    assert run("verify", str(out))[0] == 0
    from ektp_opt.inputs.population import load_population
    from ektp_opt.inputs.scenario import load_scenario

    ids = load_population(load_scenario(after)).kk_id
    a, b = (str(ids[kk]) for kk in swapped)
    with (old / "appointments.csv").open() as fh:
        before = {r["kk_id"]: r for r in csv.DictReader(fh) if r["kk_id"] in (a, b)}
    with (out / "appointments.csv").open() as fh:
        now = {r["kk_id"]: r for r in csv.DictReader(fh) if r["kk_id"] in (a, b)}
    why = {r["kk_id"]: r["reason"] for r in csv.DictReader((out / "changes.csv").open())}
    assert [now[k]["date"] for k in (a, b)] == [before[k]["date"] for k in (a, b)]
    assert [now[k]["shift"] for k in (a, b)] == [before[k]["shift"] for k in (a, b)]
    assert (now[a]["device_id"], now[b]["device_id"]) == (before[b]["device_id"], before[a]["device_id"])
    assert why[a] == why[b] == "new device, same date and shift"


def test_tradeoff_front_is_monotone_and_bounded(slip: tuple[Path, Path], tmp_path: Path) -> None:
    old, after = slip
    front_json, chart = tmp_path / "front.json", tmp_path / "front.png"
    args = ["resolve", "--plan", str(old), "--scenario", str(after), "--as-of", "2011-08-22", "--notice-days", "3"]
    code, stdout, err = run(*args, "--tradeoff", "--json", str(front_json), "--chart", str(chart))
    assert code == 0, err
    assert chart.read_bytes().startswith(b"\x89PNG") and "Pareto" in stdout
    front = json.loads(front_json.read_text())
    points = front["points"]
    assert [p["cap"] for p in points] == sorted(p["cap"] for p in points)
    assert points[0]["cap"] == front["smallest_cap_bound"] and len(points) >= 5
    bounds = [p["bound"] for p in points]
    assert all(a >= b for a, b in itertools.pairwise(bounds))
    planned = [p for p in points if p["moves"] is not None]
    assert planned and all(p["moves"] >= p["bound"] and p["largest_delay"] <= p["cap"] for p in planned)
    pareto = [p for p in [*points, front["no_cap"]] if p["cap"] in front["pareto_caps"]]
    assert all(a["moves"] > b["moves"] for a, b in itertools.pairwise(pareto))
    assert front["no_cap"]["moves"] <= min(p["moves"] for p in planned)
    assert front["no_cap"]["largest_delay"] > points[-1]["cap"]
    # a point of the front is one more command away, and gives the same count
    pick = planned[len(planned) // 2]
    out = tmp_path / "pick"
    assert capped(old, after, out, "--max-delay", str(pick["cap"]))[0] == 0
    assert json.loads((out / "summary.json").read_text())["resolve"]["moved_kk"] == pick["moves"]


def test_tradeoff_front_is_the_same_with_one_process_or_several(slip: tuple[Path, Path], tmp_path: Path) -> None:
    """The kecamatan models planned by one process and by three (forked) give the same front, to
    the byte once the timings are set aside; the same with ``--jobs 1`` run twice is the baseline."""
    old, after = slip
    args = ["resolve", "--plan", str(old), "--scenario", str(after), "--as-of", "2011-08-22", "--notice-days", "3"]
    fronts = []
    for jobs in ("1", "3"):
        out = tmp_path / f"front-{jobs}.json"
        code, _o, err = run(*args, "--tradeoff", "--jobs", jobs, "--workers", "1", "--json", str(out), "--quiet")
        assert code == 0, err
        front = json.loads(out.read_text())
        for p in [*front["points"], front["no_cap"], front]:
            p.pop("seconds")
        fronts.append(json.dumps(front, sort_keys=True))
    assert fronts[0] == fronts[1]
    assert len(json.loads(fronts[0])["points"]) >= 5


def test_a_cap_keeps_backlog_rebooking_and_the_notice_window(slip: tuple[Path, Path], tmp_path: Path) -> None:
    """--attendance and --max-delay together: missed KK get backlog seats (not moves, not capped),
    announced appointments stay unless forced, and the plan verifies."""
    old, after = slip
    with (old / "appointments.csv").open() as fh:
        past = sorted(r["kk_id"] for r in csv.DictReader(fh) if r["date"] < "2011-08-22")
    sheet = tmp_path / "attendance.csv"
    sheet.write_text("kk_id,attended\n" + "".join(f"{kk},{0 if n % 5 == 0 else 1}\n" for n, kk in enumerate(past)))
    out = tmp_path / "both"
    code, _o, err = capped(old, after, out, "--max-delay", "15", "--attendance", str(sheet))
    assert code == 0, err
    assert run("verify", str(out))[0] == 0
    info = json.loads((out / "summary.json").read_text())["resolve"]
    assert info["missed_rebooked"] + info["missed_not_rebooked"] == len(past[::5]) > 0
    assert info["largest_delay_working_days"] <= 15 and info["max_delay"] == 15
    notice_end = info["notice_end"]
    with (old / "appointments.csv").open() as fh:
        before = {r["kk_id"]: (r["date"], r["shift"]) for r in csv.DictReader(fh)}
    why = {r["kk_id"]: r for r in csv.DictReader((out / "changes.csv").open())}
    with (out / "appointments.csv").open() as fh:
        for r in csv.DictReader(fh):
            was = before[r["kk_id"]]
            if "2011-08-22" <= was[0] <= notice_end and (r["date"], r["shift"]) != was:
                assert "inside the notice window" in why[r["kk_id"]]["reason"]  # only forced moves there


def test_tradeoff_usage_and_targets(slip: tuple[Path, Path], tmp_path: Path) -> None:
    """Bad --caps, --tradeoff with --out, --jobs without --tradeoff, a plan without --out: usage
    errors (2); a chart path that
    ektp-opt did not write: exit 3 and the file untouched, before any work."""
    old, after = slip
    base = ["resolve", "--plan", str(old), "--scenario", str(after), "--as-of", "2011-08-22", "--quiet"]
    assert run(*base, "--tradeoff", "--caps", "3,x")[0] == 2
    assert run(*base, "--tradeoff", "--out", str(tmp_path / "p"))[0] == 2
    assert run(*base)[0] == 2
    assert run(*base, "--jobs", "2", "--out", str(tmp_path / "p"))[0] == 2  # --jobs is --tradeoff's
    assert not (tmp_path / "p").exists()
    mine = tmp_path / "mine.png"
    mine.write_text("mine")
    code, _o, err = run(*base, "--tradeoff", "--chart", str(mine))
    assert code == 3 and str(mine) in err and mine.read_text() == "mine"
