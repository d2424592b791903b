"""Unit tests of the core algorithms, each against a brute force or its defining property (the
end-to-end properties live in test_solver, test_resolve, test_differential)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from ektp_opt.inputs.csvread import factorize
from ektp_opt.resolve import move_reason, over_operators
from ektp_opt.resolve.seats import SlotFiller, keep_in_cell
from ektp_opt.solver.assign import _size_picks, exact_bins, pack_slots, trade_to_pack
from ektp_opt.solver.compact import component_bound, sequential_fill, split_fill

SETTINGS = settings(max_examples=40, deadline=None)


@st.composite
def exact_fill(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    """Kelurahan amounts and day capacities with the same total (a full service profile)."""
    caps = draw(st.lists(st.integers(1, 9), min_size=1, max_size=3))
    total = sum(caps)
    n = draw(st.integers(1, min(3, total)))
    cuts = (
        sorted(draw(st.lists(st.integers(1, total - 1), min_size=n - 1, max_size=n - 1, unique=True))) if n > 1 else []
    )
    pops = [b - a for a, b in itertools.pairwise([0, *cuts, total])]
    return pops, caps


def fewest_pairs(pops: list[int], caps: list[int]) -> int:
    """The exact least number of (kelurahan, day) pairs, by CP-SAT on the tiny instance."""
    m = cp_model.CpModel()
    q = {(i, d): m.new_int_var(0, min(p, c), "") for i, p in enumerate(pops) for d, c in enumerate(caps)}
    y = {key: m.new_bool_var("") for key in q}
    for (i, d), v in q.items():
        m.add(v <= min(pops[i], caps[d]) * y[(i, d)])
    for i, p in enumerate(pops):
        m.add(sum(q[(i, d)] for d in range(len(caps))) == p)
    for d, c in enumerate(caps):
        m.add(sum(q[(i, d)] for i in range(len(pops))) == c)
    m.minimize(sum(y.values()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(m) == cp_model.OPTIMAL
    return int(solver.objective_value)


@SETTINGS
@given(exact_fill())
def test_sequential_fill_fills_exactly_within_n_plus_d_minus_1(case: tuple[list[int], list[int]]) -> None:
    pops, caps = case
    days = list(range(len(caps)))
    out = sequential_fill(list(enumerate(pops)), days, caps)
    assert [sum(q for _k, q in out[d]) for d in days] == caps
    for kel, p in enumerate(pops):
        assert sum(q for d in days for k, q in out[d] if k == kel) == p
    pairs = sum(len(v) for v in out.values())
    assert fewest_pairs(pops, caps) <= pairs <= len(pops) + len(caps) - 1


@SETTINGS
@given(exact_fill())
def test_component_bound_gives_a_valid_pair_bound(case: tuple[list[int], list[int]]) -> None:
    """pairs >= n + D - c for any plan, with c the components: the bound never exceeds the optimum."""
    pops, caps = case
    assert len(pops) + len(caps) - component_bound(pops, caps) <= fewest_pairs(pops, caps)


@SETTINGS
@given(st.lists(st.integers(1, 8), min_size=0, max_size=14), st.integers(1, 4), st.integers(8, 24))
def test_pack_slots_respects_seats_and_loses_nobody(sizes: list[int], slots: int, seats: int) -> None:
    members = sizes
    bins, left = pack_slots(list(range(len(sizes))), members, slots, seats)
    assert len(bins) <= slots
    assert all(sum(members[i] for i in b) <= seats for b in bins)
    placed = [i for b in bins for i in b]
    assert sorted(placed + left) == list(range(len(sizes)))


@SETTINGS
@given(exact_fill())
def test_split_fill_fills_exactly_never_worse_than_sequential_nor_below_the_optimum(
    case: tuple[list[int], list[int]],
) -> None:
    pops, caps = case
    days = list(range(len(caps)))
    out = split_fill(list(range(len(pops))), pops, days, caps)
    assert [sum(q for _k, q in out[d]) for d in days] == caps
    for kel, p in enumerate(pops):
        assert sum(q for d in days for k, q in out[d] if k == kel) == p
    pairs = sum(len(v) for v in out.values())
    sequential = sum(len(v) for v in sequential_fill(list(enumerate(pops)), days, caps).values())
    assert fewest_pairs(pops, caps) <= pairs <= sequential


def test_split_fill_separates_groups_that_fill_their_own_days() -> None:
    """Two kelurahan of 10 and one of 5 over days 10, 10, 5: three components, three pairs (the
    sequential order uses four), which meets the bound."""
    pops, caps = [5, 10, 10], [10, 10, 5]
    out = split_fill([0, 1, 2], pops, [0, 1, 2], caps)
    assert sum(len(v) for v in out.values()) == 3 == len(pops) + len(caps) - component_bound(pops, caps)


@SETTINGS
@given(st.lists(st.integers(1, 6), min_size=0, max_size=9), st.integers(1, 3), st.integers(6, 12))
def test_exact_bins_finds_a_packing_exactly_when_one_exists(sizes: list[int], slots: int, seats: int) -> None:
    counts = [0] * 7
    for s in sizes:
        counts[s] += 1
    found = exact_bins(list(counts), slots, seats)
    assert (found is not None) == _packs(sorted(sizes, reverse=True), [seats] * slots)
    if found is not None:
        assert len(found) <= slots and all(sum(b) <= seats for b in found)
        assert sorted(s for b in found for s in b) == sorted(sizes)


def test_pack_slots_closes_a_full_day_the_greedy_alone_strands() -> None:
    """A full day of Medan's (220 residents, 10 slots of 22) on which largest-first closing left
    a 2-member KK over: the exact packing seats everyone."""
    sizes = [7] * 2 + [6] * 5 + [5] * 8 + [4] * 15 + [3] * 20 + [2] * 7 + [1] * 2
    bins, left = pack_slots(list(range(len(sizes))), sizes, 10, 22)
    assert left == []
    assert [sum(sizes[i] for i in b) for b in bins] == [22] * 10


def test_trade_to_pack_swaps_sizes_for_sizes_and_keeps_both_days_totals() -> None:
    """Three 6-member KK and a 2 cannot fill two slots of 10; a 6 traded for the next day's 4
    and 2 makes the day pack (6+4, 6+2+2), and both days keep their resident totals."""
    members = [6, 6, 6, 2, 4, 2]
    todo, later = [0, 1, 2, 3], [4, 5]
    assert pack_slots(todo, members, 2, 10)[1]  # does not pack as it is
    traded = trade_to_pack(todo, later, members, 2, 10)
    assert traded is not None
    slots, rest = traded
    assert [sum(members[i] for i in b) for b in slots] == [10, 10]
    assert sum(members[i] for i in rest) == sum(members[i] for i in later)
    assert sorted([i for b in slots for i in b] + rest) == sorted(todo + later)
    assert trade_to_pack([0, 1, 2], [3], [6, 6, 6, 2], 2, 10) is None  # nothing to trade that packs


@SETTINGS
@given(st.lists(st.integers(1, 9), min_size=2, max_size=40), st.data())
def test_size_picks_seat_every_family_once_and_meet_the_quotas_they_can(sizes: list[int], data: st.DataObject) -> None:
    total = sum(sizes)
    cuts = sorted(data.draw(st.lists(st.integers(1, total - 1), max_size=3, unique=True)))
    quotas = [b - a for a, b in itertools.pairwise([0, *cuts, total])]
    qs = [(d, 0, q) for d, q in enumerate(quotas)]
    taken = bytearray(len(sizes))
    picks = _size_picks(list(range(len(sizes))), sizes, taken, qs)
    seated = [i for _key, kk in picks for i in kk]
    assert sorted(seated) == list(range(len(sizes))) and all(taken)
    got = {key: sum(sizes[i] for i in kk) for key, kk in picks}
    largest = sorted(qs, key=lambda q: q[2])[-1]  # the one that takes what is left
    for d, k, q in qs:
        if (d, k, q) != largest:
            assert got[(k, d)] <= q


@SETTINGS
@given(st.lists(st.sampled_from(["a", "b", "12.71.01", ""]), max_size=30))
def test_factorize_round_trips(values: list[str]) -> None:
    labels, codes = factorize(values)
    assert labels[codes].tolist() == values if values else len(codes) == 0
    assert len(set(labels.tolist())) == len(labels)


def least_out(members: list[int], bins: int, seats: int) -> int:
    """Brute force: the fewest KK to take out so that the rest pack into the bins."""
    n = len(members)
    for k in range(n + 1):
        for out in itertools.combinations(range(n), k):
            rest = [members[i] for i in range(n) if i not in out]
            if _packs(sorted(rest, reverse=True), [seats] * bins):
                return k
    return n


def _packs(items: list[int], room: list[int]) -> bool:
    if not items:
        return True
    first, rest = items[0], items[1:]
    tried = set()
    for b in range(len(room)):
        if room[b] >= first and room[b] not in tried:
            tried.add(room[b])
            room[b] -= first
            if _packs(rest, room):
                room[b] += first
                return True
            room[b] += first
    return False


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=1, max_size=7), st.integers(1, 3), st.integers(6, 14))
@example(sizes=[7], devices=2, seats=6)  # a KK larger than a device-shift: exact_bins once seated it
def test_keep_in_cell_moves_the_fewest_and_always_packs(sizes: list[int], devices: int, seats: int) -> None:
    kk = list(range(len(sizes)))
    old = [i % (devices + 1) for i in kk]  # some sat at a device that is gone (index = devices)
    here = list(range(devices))
    seat, leave = keep_in_cell(kk, sizes, old, here, seats)
    assert sorted([*seat, *leave]) == kk
    load: dict[int, int] = {}
    for i, dv in seat.items():
        assert dv in here
        load[dv] = load.get(dv, 0) + sizes[i]
    assert all(v <= seats for v in load.values())
    assert len(leave) == least_out(sizes, devices, seats)


def test_slot_filler_opens_no_device_shift_past_the_operator_limit() -> None:
    slots = [(d, s, dv, 10) for d in range(2) for s in (1, 2) for dv in (0, 1)]  # 4 device-shifts a day
    filler = SlotFiller(slots, limit=2, staffed={(0, 1, 0)})
    spots = [filler.place(6) for _ in range(6)]
    per_day: dict[int, set[tuple[int, int]]] = {}
    for spot in spots:
        if spot is not None:
            per_day.setdefault(spot[0], set()).add((spot[1], spot[2]))
    assert all(len(v | ({(1, 0)} if d == 0 else set())) <= 2 for d, v in per_day.items())
    assert spots.count(None) == 2  # 2 days x 2 device-shifts x one 6 a slot = 4 placed


def test_over_operators_empties_the_least_filled_device_shifts() -> None:
    members = np.array([5, 1, 4, 2, 3])
    decided = {(0, 0, 1): {0: 0, 1: 1}, (0, 0, 2): {2: 0, 3: 1}, (0, 0, 3): {4: 0}}  # 5 device-shifts in use
    moved = over_operators(decided, members, np.array([3]))
    assert sorted(i for i, *_ in moved) == [1, 3]  # the two lightest device-shifts: 1 and 2 members
    assert sum(len(s) for s in decided.values()) == 3
    assert over_operators(decided, members, np.array([-1])) == []


@pytest.mark.parametrize(
    ("kept", "lost", "window", "words"),
    [(False, 1, True, "inside the notice window: its device is not in service"),
     (True, 1, False, "its shift lost a device"),
     (True, 0, False, "fewer seats in its shift")],
)  # fmt: skip
def test_move_reason_says_which_case(kept: bool, lost: int, window: bool, words: str) -> None:
    assert words in move_reason(kept, lost, window)


@pytest.mark.parametrize("search", [True, False])
def test_level_3_without_search_keeps_the_fill_and_reports_its_bound(search: bool) -> None:
    """Kelurahan of 7, 4 and 2 on days of 1, 6, 1 and 5 seats: both fills use 5 kelurahan-day pairs
    and the component bound says 4 (no split reaches it: 7 = 6 + 1 leaves 4 + 2 against 1 + 5). The
    search proves 5 optimal; the ``national`` preset skips it and reports the fill beside the bound,
    never claiming an optimum it did not prove."""
    from types import SimpleNamespace

    from ektp_opt.progress import Reporter
    from ektp_opt.solver.compact import compact_home_only
    from ektp_opt.solver.params import SolveOptions, cpsat_parameters, load_preset

    pops, caps = [7, 4, 2], [1, 6, 1, 5]
    assert fewest_pairs(pops, caps) == 5 and len(pops) + len(caps) - component_bound(pops, caps) == 4
    data = SimpleNamespace(n_kec=1, kelurahan_kecamatan=np.zeros(3, dtype=np.int64), kelurahan_residents=np.array(pops))
    served = np.array([caps], dtype=np.int64)
    preset = load_preset("default" if search else "national")
    assert preset.compaction.search is search
    out = compact_home_only(
        data,  # type: ignore[arg-type]
        served,
        SolveOptions(workers=1),
        cpsat_parameters(preset),
        10.0,
        Reporter(),
        "test",
        search=preset.compaction.search,
    )
    level = out.compactness
    assert level.value == 5
    assert sum(q for items in out.quotas.values() for _kel, q in items) == sum(pops)
    assert (level.bound, level.status) == ((5, "OPTIMAL") if search else (4, "FEASIBLE"))
    assert ("kept their fill" in (level.note or "")) is not search


def test_national_city_tasks_plan_with_a_preset_without_level_3_search() -> None:
    from ektp_opt.national.run import CITY_PRESET
    from ektp_opt.solver.params import load_preset

    assert load_preset(CITY_PRESET).compaction.search is False
    assert load_preset("default").compaction.search is True


def test_a_preset_extends_another_table_by_table(tmp_path: Path) -> None:
    """``extends`` takes the other preset's tables and changes only the keys given; a base that
    is missing or a loop is an error naming the key."""
    from ektp_opt.errors import InputError
    from ektp_opt.solver.params import load_presets

    budget = "completion = 0.2\nwaiting = 0.35\nuniqueness = 0.1\ncompactness = 0.25\noverflow = 0.1\n"
    path = tmp_path / "presets.toml"
    path.write_text(
        "[a.cpsat]\nlinearization_level = 2\nsymmetry_level = 2\n\n[a.budget]\n"
        + budget
        + '\n[b]\nextends = "a"\n\n[b.cpsat]\nsymmetry_level = 0\n\n[b.compaction]\nsearch = false\n'
    )
    got = load_presets(path)
    assert got["b"].cpsat == {"linearization_level": 2, "symmetry_level": 0}
    assert got["b"].budget == got["a"].budget and got["a"].compaction.search and not got["b"].compaction.search
    for bad in ('[b]\nextends = "z"\n', '[b]\nextends = "b"\n'):
        path.write_text("[a.budget]\n" + budget + "\n" + bad)
        with pytest.raises(InputError, match=r"b\.extends"):
            load_presets(path)
