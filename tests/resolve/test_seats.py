"""The cell rule's choices, worked out by hand (resolve/seats.py, SPEC.md "Planning again"): when
a cell loses seats the largest families leave first, so that the fewest KK move; the rest keep
the device they had where it is still there."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ektp_opt.resolve.seats import BestFit, SlotFiller, keep_in_cell, pack_exact


def test_the_largest_family_leaves_first() -> None:
    """14 members for 10 seats: the family of 5 leaves alone (one KK moved), not 3 + 1 or 2 + 2."""
    kk, members = [10, 11, 12, 13, 14], [3, 5, 2, 3, 1]
    seat, movers = keep_in_cell(kk, members, [0] * 5, [0], 10)
    assert movers == [11]
    assert seat == {10: 0, 12: 0, 13: 0, 14: 0}


def test_ties_among_the_largest_go_by_kk() -> None:
    seat, movers = keep_in_cell([30, 20, 10], [4, 4, 4], [0, 0, 0], [0], 8)
    assert movers == [10] and seat == {20: 0, 30: 0}


def test_fewest_members_at_an_excess_of_one_frees_one_member() -> None:
    seat, movers = keep_in_cell([1, 2, 3], [3, 1, 3], [0, 0, 0], [0], 6, fewest_members=True)
    assert movers == [2] and seat == {1: 0, 3: 0}


def test_fewest_members_frees_the_least_that_covers_the_excess() -> None:
    """Excess 4: the families of 3 and 1 leave (4 members), where largest first would free 5."""
    kk, members = [10, 11, 12, 13, 14], [5, 3, 3, 2, 1]
    seat, movers = keep_in_cell(kk, members, [0] * 5, [0], 10, fewest_members=True)
    assert sorted(movers) == [11, 14]
    assert sum(members[kk.index(k)] for k in movers) == 4 and sorted(seat) == [10, 12, 13]


def test_families_keep_the_device_they_had_when_it_is_still_there() -> None:
    """Two devices of 6 seats; every family's old device is in service and has room: nobody is
    moved between devices, though first fit would have put the first two on device 0."""
    seat, movers = keep_in_cell([1, 2, 3], [3, 3, 2], [1, 0, 1], [0, 1], 6)
    assert movers == [] and seat == {1: 1, 2: 0, 3: 1}


def test_a_family_whose_device_is_gone_takes_the_first_with_room() -> None:
    seat, movers = keep_in_cell([1, 2, 3], [4, 3, 2], [7, 0, 7], [0, 1], 6)
    assert movers == [] and seat == {2: 0, 1: 1, 3: 0}


def test_a_cell_that_first_fit_cannot_close_is_packed_exactly() -> None:
    """Seats 6 + 6 for 3, 3, 2, 2, 2 (12 members): keeping the old devices fills them 3 + 2 and
    3 + 2, and the last family of 2 finds one seat on each. It fits only as 3 + 3 and 2 + 2 + 2,
    which the exact packing finds: nobody moves."""
    seat, movers = keep_in_cell([1, 2, 3, 4, 5], [3, 2, 3, 2, 2], [0, 0, 1, 1, 1], [0, 1], 6)
    assert movers == []
    load = {0: 0, 1: 0}
    for k, d in seat.items():
        load[d] += [3, 2, 3, 2, 2][k - 1]
    assert load == {0: 6, 1: 6}


# --- the fillers, against a plain scan of every slot ------------------------------------------

Slot = tuple[int, int, int, int]  # day, shift, device, room


class Plain:
    """What SlotFiller and BestFit promise, by looking at every slot each time: a slot is usable
    when its device-shift is staffed already or its day has an operator to spare."""

    def __init__(self, slots: list[Slot], limit: int, staffed: set[tuple[int, int, int]]) -> None:
        self.slots, self.room, self.limit = slots, [s[3] for s in slots], limit
        self.staffed = set(staffed)

    def usable(self, j: int) -> bool:
        day, shift, device, _ = self.slots[j]
        busy = sum(1 for d, _s, _v in self.staffed if d == day)
        return self.limit < 0 or (day, shift, device) in self.staffed or busy < self.limit

    def take(self, j: int, members: int) -> tuple[int, int, int]:
        self.room[j] -= members
        day, shift, device, _ = self.slots[j]
        self.staffed.add((day, shift, device))
        return day, shift, device

    def first_fit(self, members: int) -> tuple[int, int, int] | None:
        j = next((j for j in range(len(self.slots)) if self.room[j] >= members and self.usable(j)), None)
        return None if j is None else self.take(j, members)

    def tightest(self, members: int, deadline: int) -> tuple[int, int, int] | None:
        fits = [
            (self.room[j], j)
            for j in range(len(self.slots))
            if self.room[j] >= members and self.usable(j) and self.slots[j][0] <= deadline
        ]
        return None if not fits else self.take(min(fits)[1], members)


def _slots(rooms: list[int]) -> list[Slot]:
    """Two devices, two shifts a day, in time order."""
    keys = [(d, s, v) for d in range(4) for s in (1, 2) for v in (0, 1)]
    return [(*k, r) for k, r in zip(keys, rooms, strict=False)]


rooms = st.lists(st.integers(0, 9), min_size=1, max_size=16)
limits = st.sampled_from([-1, 0, 1, 2, 3])


@settings(max_examples=200, deadline=None)
@given(rooms, limits, st.lists(st.integers(1, 6), max_size=20), st.data())
def test_slot_filler_is_first_fit_in_time_order(
    room: list[int], limit: int, sizes: list[int], data: st.DataObject
) -> None:
    slots = _slots(room)
    staffed = set(data.draw(st.sets(st.sampled_from([s[:3] for s in slots]), max_size=3)))
    fast, plain = SlotFiller(slots, limit, staffed), Plain(slots, limit, staffed)
    assert [fast.place(m) for m in sizes] == [plain.first_fit(m) for m in sizes]
    assert fast.room == plain.room
    n_days = 1 + max(s[0] for s in slots)
    assert fast.free_by_day(n_days) == [
        sum(r for s, r in zip(slots, plain.room, strict=True) if s[0] == d) for d in range(n_days)
    ]


@settings(max_examples=200, deadline=None)
@given(rooms, limits, st.data())
def test_best_fit_takes_the_tightest_seat_by_the_deadline(room: list[int], limit: int, data: st.DataObject) -> None:
    """Seats taken and given back in any order: the seat is always the one with the least room
    that holds the KK on or before its deadline, the earliest among equals."""
    slots = _slots(room)
    staffed = set(data.draw(st.sets(st.sampled_from([s[:3] for s in slots]), max_size=3)))
    fast, plain = BestFit(slots, limit, staffed), Plain(slots, limit, staffed)
    steps = data.draw(
        st.lists(
            st.tuples(st.integers(1, 6), st.integers(0, 3))
            | st.tuples(st.just(0), st.integers(0, len(slots) - 1), st.integers(1, 4)),
            max_size=25,
        )
    )
    for step in steps:
        if step[0] == 0:  # a seated KK moves away: its seats come back
            _, j, m = step
            fast.add_room(j, m)
            plain.room[j] += m
        else:
            members, deadline = step
            assert fast.place_by(members, deadline) == plain.tightest(members, deadline), step
        assert fast.room == plain.room


def test_pack_exact_leaves_out_the_fewest() -> None:
    """Two device-shifts of 6 for 3, 3, 2, 2, 2: everyone fits, both full (equal loads are
    allowed); for 4, 4, 4 one family of 4 must wait (-1), and the cut ``least`` is reached, not
    passed."""
    bins = pack_exact([3, 3, 2, 2, 2], 2, 6, 0)
    assert bins is not None and -1 not in bins
    assert sorted(sum(m for m, b in zip([3, 3, 2, 2, 2], bins, strict=True) if b == k) for k in (0, 1)) == [6, 6]
    three = pack_exact([4, 4, 4], 2, 6, 1)
    assert three is not None and sorted(three) == [-1, 0, 1]
    assert pack_exact([5], 1, 4, 1) == [-1]


def test_fewest_members_counts_every_device_of_the_cell() -> None:
    """Two devices of 5 for 3, 3, 2, 2, 2 (excess 2): one family of 2 leaves, the rest pack 3 + 2."""
    seat, movers = keep_in_cell([1, 2, 3, 4, 5], [3, 3, 2, 2, 2], [0, 1, 0, 1, 0], [0, 1], 5, fewest_members=True)
    assert movers == [3] and seat == {1: 0, 2: 1, 4: 1, 5: 0}


def test_a_family_exactly_filling_its_old_device_keeps_it() -> None:
    """Devices listed 1 then 0: two families of 3 that sat on device 0 (6 seats) both stay there."""
    seat, movers = keep_in_cell([1, 2], [3, 3], [0, 0], [1, 0], 6)
    assert movers == [] and seat == {1: 0, 2: 0}


def test_a_family_exactly_filling_the_room_left_takes_it() -> None:
    """The family of 3 keeps device 0; the family of 6, whose device is gone, fills device 1 exactly
    (rather than the whole cell being packed again from the start)."""
    seat, movers = keep_in_cell([1, 2], [6, 3], [7, 0], [0, 1], 6)
    assert movers == [] and seat == {1: 1, 2: 0}


def test_the_exact_packing_frees_fewer_than_the_fast_one() -> None:
    """Three devices of 10 for 4, 8, 7, 8, 7, 5, 7, 7 (53 members): first fit and the planner's
    packer leave five families out; four is the fewest (brute force), and the exact packing finds it."""
    from tests.solver.test_core import least_out

    members = [4, 8, 7, 8, 7, 5, 7, 7]
    seat, movers = keep_in_cell(list(range(8)), members, [7, 7, 0, 0, 0, 0, 0, 7], [0, 1, 2], 10)
    assert len(movers) == least_out(members, 3, 10) == 4
    load = {d: sum(members[k] for k, dv in seat.items() if dv == d) for d in (0, 1, 2)}
    assert sorted([*seat, *movers]) == list(range(8)) and max(load.values()) <= 10


def test_when_the_exact_packing_finds_nothing_the_fast_one_stands(monkeypatch: pytest.MonkeyPatch) -> None:
    """The exact packer out of time with no answer (None): the cell keeps what the planner's
    packer made of it, everyone seated or moving, no device over its seats."""
    import ektp_opt.resolve.seats as seats

    monkeypatch.setattr(seats, "pack_exact", lambda *_a, **_k: None)
    members = [4, 8, 7, 8, 7, 5, 7, 7]
    seat, movers = keep_in_cell(list(range(8)), members, [7, 7, 0, 0, 0, 0, 0, 7], [0, 1, 2], 10)
    load = {d: sum(members[k] for k, dv in seat.items() if dv == d) for d in (0, 1, 2)}
    assert sorted([*seat, *movers]) == list(range(8)) and max(load.values()) <= 10 and len(movers) == 5
