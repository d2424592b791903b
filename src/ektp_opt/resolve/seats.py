"""KK-level seating for a re-plan: who stays in a cell, on which device, and where movers go.

Every function here works on plain lists for one kecamatan at a time; the orchestration in
``seating.py`` and the other stages own the calendar and the device ids.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence

from ektp_opt.solver.assign import pack_slots
from ektp_opt.solver.cpsat import found, make_solver
from ektp_opt.solver.cpsat import run as cpsat_run


def keep_in_cell(
    kk: Sequence[int],
    members: Sequence[int],
    old_device: Sequence[int],
    devices: Sequence[int],
    seats: int,
    fewest_members: bool = False,
) -> tuple[dict[int, int], list[int]]:
    """Seat a cell's KK on the devices in service; return {kk: device} and the KK that must move.

    The largest families leave first (fewest KK to free the seats); then KK whose old device is
    still there keep it, and the rest are packed first-fit-decreasing. When that leaves someone
    out, the whole cell is packed again with the planner's exact-closing packer; a KK that still
    fits nowhere moves too, so the result always packs. With ``fewest_members`` (used only when the
    largest-first rule leaves no re-plan: the placement then came from the fluid relaxation) the
    families that leave free the fewest members that cover the excess instead."""
    room = dict.fromkeys(devices, seats)
    order = sorted(range(len(kk)), key=lambda i: (-members[i], kk[i]))
    if fewest_members:
        leave = _least_members_over(list(members), sum(members) - seats * len(devices))
        order = [i for i in order if i in leave] + [i for i in order if i not in leave]
    total = sum(members)
    cap = seats * len(devices)
    movers: list[int] = []
    staying: list[int] = []
    for i in order:
        if total > cap:
            movers.append(kk[i])
            total -= members[i]
        else:
            staying.append(i)
    seat: dict[int, int] = {}
    rest: list[int] = []
    for i in staying:
        d = old_device[i]
        if d in room and room[d] >= members[i]:
            room[d] -= members[i]
            seat[kk[i]] = d
        else:
            rest.append(i)
    for i in rest:  # already largest first
        d = next((d for d in devices if room[d] >= members[i]), -1)
        if d < 0:
            break
        room[d] -= members[i]
        seat[kk[i]] = d
    else:
        return seat, movers
    bins, left = pack_slots(staying, list(members), len(devices), seats)
    if left:
        exact = pack_exact(list(members), len(devices), seats, len(movers))
        if exact is not None and sum(1 for b in exact if b < 0) < len(movers) + len(left):
            seat = {kk[i]: devices[b] for i, b in enumerate(exact) if b >= 0}
            return seat, [kk[i] for i, b in enumerate(exact) if b < 0]
    seat = {kk[i]: devices[b] for b, items in enumerate(bins) for i in items}
    return seat, movers + [kk[i] for i in left]


def _least_members_over(members: list[int], excess: int) -> set[int]:
    """Indices of families whose members add up to the least total of at least ``excess``
    (subset sum over totals up to excess + the largest family; families are small)."""
    if excess <= 0:
        return set()
    top = excess + max(members)
    reach: dict[int, tuple[int, ...]] = {0: ()}
    for i, m in enumerate(members):
        for total, chosen in list(reach.items()):
            new = total + m
            if new <= top and new not in reach:
                reach[new] = (*chosen, i)
    best = min(t for t in reach if t >= excess)
    return set(reach[best])


def pack_exact(members: list[int], bins: int, seats: int, least: int, seconds: float = 2.0) -> list[int] | None:
    """Fewest KK left out so that the rest pack into ``bins`` device-shifts (CP-SAT, one cell).

    Used only where the fast packers leave someone out; ``least`` (the member-count bound) is
    given as a cut. Returns each KK's bin, -1 for those that move; None if nothing was found."""
    from ortools.sat.python import cp_model

    m = cp_model.CpModel()
    n = len(members)
    x = [[m.new_bool_var("") for _ in range(bins)] for _ in range(n)]
    out = [m.new_bool_var("") for _ in range(n)]
    for i in range(n):
        m.add_exactly_one([*x[i], out[i]])
    for b in range(bins):
        m.add(sum(members[i] * x[i][b] for i in range(n)) <= seats)
    for b in range(bins - 1):  # identical bins: order them by load
        m.add(sum(members[i] * x[i][b] for i in range(n)) >= sum(members[i] * x[i][b + 1] for i in range(n)))
    m.add(sum(out) >= least)
    m.minimize(sum(out))
    solver = make_solver(seconds)
    if not found(cpsat_run(solver, m)):
        return None
    return [next((b for b in range(bins) if solver.value(x[i][b])), -1) for i in range(n)]


class SlotFiller:
    """First fit over device-shifts in time order, for one kecamatan.

    ``slots`` are (day, shift, device, room) in the order they should be filled. Since family
    sizes are small integers, one pointer per size skips the slots already too full for it, so
    filling is linear in slots plus KK."""

    def __init__(
        self,
        slots: list[tuple[int, int, int, int]],
        limit: int = -1,
        staffed: set[tuple[int, int, int]] | None = None,
    ) -> None:
        """``limit``: device-shifts the kecamatan's operators can staff a day (-1: no limit);
        ``staffed``: the (day, shift, device) already in use by KK that stay."""
        self.slots = slots
        self.room = [s[3] for s in slots]
        self.ptr: dict[int, int] = {}
        self.limit = limit
        self.staffed = set(staffed or ())
        self.per_day: dict[int, int] = defaultdict(int)
        for day, _s, _dv in self.staffed:
            self.per_day[day] += 1

    def _usable(self, i: int) -> bool:
        """A slot can take a KK if its device-shift is staffed already or one more can be.
        (Once a day is at its limit, an unstaffed slot never becomes usable: the pointers stay
        valid.)"""
        if self.limit < 0:
            return True
        day, shift, device, _ = self.slots[i]
        return (day, shift, device) in self.staffed or self.per_day[day] < self.limit

    def place(self, members: int) -> tuple[int, int, int] | None:
        i = self.ptr.get(members, 0)
        while i < len(self.room) and (self.room[i] < members or not self._usable(i)):
            i += 1
        self.ptr[members] = i
        if i == len(self.room):
            return None
        self.room[i] -= members
        day, shift, device, _ = self.slots[i]
        if (day, shift, device) not in self.staffed:
            self.staffed.add((day, shift, device))
            self.per_day[day] += 1
        return day, shift, device

    def free_by_day(self, n_days: int) -> list[int]:
        out = [0] * n_days
        for (day, _s, _d, _r), left in zip(self.slots, self.room, strict=True):
            out[day] += left
        return out


class BestFit(SlotFiller):
    """Seats a KK in the device-shift with the least room that holds it and lies on or before a
    deadline (earliest among equals). Used under a delay cap, where every mover's window starts on
    the same day: which fitting seat a KK takes never matters for the dates of those after it
    (their windows include it), only for the sizes that still fit, so the tightest hole is best.
    One heap of slot indices (time order) per room value; stale entries are dropped lazily."""

    def __init__(
        self,
        slots: list[tuple[int, int, int, int]],
        limit: int = -1,
        staffed: set[tuple[int, int, int]] | None = None,
        groups: list[int] | None = None,
    ) -> None:
        """``groups``: a group (a shift) per slot, whose room is kept summed in ``group_room``."""
        super().__init__(slots, limit, staffed)
        self.group = groups if groups is not None else [0] * len(slots)
        self.group_room = [0] * (max(self.group, default=-1) + 1)
        self.group_changes = [0] * len(self.group_room)  # counts every change of a group's rooms
        for g, r in zip(self.group, self.room, strict=True):
            self.group_room[g] += r
        by_room: dict[int, list[int]] = defaultdict(list)
        for j, r in enumerate(self.room):
            if r > 0:
                by_room[r].append(j)  # ascending: already a heap
        self.heaps = dict(by_room)
        self.top = max(self.heaps, default=0)

    def place_by(self, members: int, deadline: int) -> tuple[int, int, int] | None:
        # The inner loop of every capped re-plan (a Medan trade-off calls it ~2 M times): locals.
        room, slots, heaps, limited = self.room, self.slots, self.heaps, self.limit >= 0
        for r in range(members, self.top + 1):
            heap = heaps.get(r)
            if not heap:
                continue
            while heap and (room[heap[0]] != r or (limited and not self._usable(heap[0]))):
                heapq.heappop(heap)  # stale (room changed) or dead (its day's operators are all busy)
            if heap and slots[heap[0]][0] <= deadline:
                j = heapq.heappop(heap)
                room[j] -= members
                g = self.group[j]
                self.group_room[g] -= members
                self.group_changes[g] += 1
                if room[j] > 0:
                    heapq.heappush(heaps.setdefault(room[j], []), j)
                day, shift, device, _ = self.slots[j]
                if (day, shift, device) not in self.staffed:
                    self.staffed.add((day, shift, device))
                    self.per_day[day] += 1
                return day, shift, device
        return None

    def set_room(self, j: int, room: int) -> None:
        """Slot ``j`` has ``room`` seats left (its shift was seated again)."""
        if room != self.room[j]:
            self.group_room[self.group[j]] += room - self.room[j]
            self.group_changes[self.group[j]] += 1
            self.room[j] = room
            if room > 0:
                heapq.heappush(self.heaps.setdefault(room, []), j)
                self.top = max(self.top, room)

    def take(self, j: int, members: int) -> None:
        """Slot ``j`` seats ``members`` more (a family moved there from another device)."""
        self.room[j] -= members
        self.group_room[self.group[j]] -= members
        self.group_changes[self.group[j]] += 1
        assert self.room[j] >= 0
        if self.room[j] > 0:
            heapq.heappush(self.heaps.setdefault(self.room[j], []), j)

    def add_room(self, j: int, members: int) -> None:
        """Slot ``j`` gets ``members`` seats back (a KK sitting there moves away)."""
        self.room[j] += members
        self.group_room[self.group[j]] += members
        self.group_changes[self.group[j]] += 1
        heapq.heappush(self.heaps.setdefault(self.room[j], []), j)
        self.top = max(self.top, self.room[j])
