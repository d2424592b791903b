"""The cell rule's choices, worked out by hand (resolve/seats.py, SPEC.md "Planning again"): when
a cell loses seats the largest families leave first, so that the fewest KK move; the rest keep
the device they had where it is still there."""

from __future__ import annotations

from ektp_opt.resolve.seats import keep_in_cell


def test_the_largest_family_leaves_first() -> None:
    """14 members for 10 seats: the family of 5 leaves alone (one KK moved), not 3 + 1 or 2 + 2."""
    kk, members = [10, 11, 12, 13, 14], [3, 5, 2, 3, 1]
    seat, movers = keep_in_cell(kk, members, [0] * 5, [0], 10)
    assert movers == [11]
    assert seat == {10: 0, 12: 0, 13: 0, 14: 0}


def test_ties_among_the_largest_go_by_kk() -> None:
    seat, movers = keep_in_cell([30, 20, 10], [4, 4, 4], [0, 0, 0], [0], 8)
    assert movers == [10] and seat == {20: 0, 30: 0}


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
