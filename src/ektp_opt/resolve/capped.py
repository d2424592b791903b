"""Seating KK under a delay cap, one kecamatan at a time (``resolve --max-delay``).

``cap.py`` says how many extra KK of each size must leave each day (its optimum is the proven
bound that is reported); here they are chosen and every mover is seated, earliest deadline first,
in the tightest seat on or before its deadline (``BestFit``). Families are not fluid: where one
finds no seat in time, the seating first makes a shift's scattered seats whole by moving families
between its devices (no date or shift changes), then swaps it for a smaller mover, and only then
makes one more KK leave its day (``KecamatanMovers._seat``).
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ektp_opt.resolve.cap import KecamatanCap, extra_moves
from ektp_opt.resolve.seats import BestFit
from ektp_opt.solver.cpsat import found, make_solver
from ektp_opt.solver.cpsat import run as cpsat_run

IntArray = npt.NDArray[np.int64]
EXACT_MAX_PAIRS = 40_000  # KK-seat pairs up to which a kecamatan is also solved exactly (CP-SAT)
# CP-SAT's deterministic time for that exact model (one worker): the same answer on any machine
# and under any load, as ``cap.MIP_NODES`` for SCIP; the wall-clock limit is only a safety net.
EXACT_DTIME = 5.0
# A mover without a seat by its deadline may swap with a smaller mover seated in the last this many
# working days before it (``KecamatanMovers._eject``). Medan slip, cap 5, extra moves above the
# model's bound: 17.2 % with no swap, 6.9 % with swaps within 2 days, 6.8 % within 5 (cap 10: 9.8 %
# within 5, 9.8 % within 10).
EJECT_DAYS = 5
# Before that, a family without a seat looks for a shift of the last this many working days whose
# seats together hold it, split over devices: one family there moves to another device of the
# shift (``_shuffle``), or the whole shift is seated again (``_repack``); no date or shift changes.
# Medan slip, plan's moves above the bound at caps 5 / 10 / 13 / 20: none 5.8 / 7.4 / 8.2 / 7.1 %;
# within 2 days 3.5 / 4.7 / 4.6 / 4.9 %, within 5 3.4 / 4.6 / 4.3 / 4.5 % (one family only, within
# 5 / 10 / 30 days: 4.5 / 5.0 / 5.5 %, 4.5 / 4.9 / 5.5 %, 4.4 / 4.9 / 5.4 % at caps 5 / 10 / 13).
SHUFFLE_DAYS = 5
# The KK that makes room is the one whose seat fits best (then the smallest) under caps below this,
# the fewest of one device-shift, largest first, from it on: with a short window the family that
# leaves must find a seat soon, and a small one does; with a long one it finds one anyway, and a
# large one leaves room for others. Medan slip, plan's moves above the bound, fit / largest: cap 5
# 5.8 / 6.8 %, cap 10 7.4 / 8.1 %, cap 20 7.1 / 7.3 %, cap 30 5.7 / 5.5 %; at caps 40 and 70 the
# largest 2.5 and 1.7 %, the fit 2.9 and 2.4 % (an earlier run, ties then broken in another order).
FIT_BELOW = 30
_KEY = 1 << 16  # above any family's members: (fit, members) ordered as fit * _KEY + members


@dataclass(frozen=True)
class CapOutcome:
    """One kecamatan under one cap."""

    ok: bool  # every mover seated within the cap
    placed: dict[int, tuple[int, int, int]]  # kk -> (day, shift, device) for every mover
    extra: list[int]  # KK that moved only to make room
    bound: int  # proven lower bound on len(extra) (the model's, before any re-solve)
    status: str  # of the first model
    largest_delay: int  # working days, over the movers seated
    moves: int = 0  # KK whose day or shift changed (a mover may land in its own shift again)
    # KK that keep their day and shift but sit at another device of it, to make a hole whole
    # (``KecamatanMovers._shuffle``): kk -> (day, shift, device)
    relocated: dict[int, tuple[int, int, int]] = field(default_factory=dict)


def usable_free(
    slots: Sequence[tuple[int, int, int, int]], staffed: set[tuple[int, int, int]], limit: int, n_days: int
) -> IntArray:
    """Seats per day that new KK can take: every room, or with an operator limit the rooms of
    device-shifts in use plus whole device-shifts up to the limit."""
    free = np.zeros(n_days, dtype=np.int64)
    spare: dict[int, list[int]] = defaultdict(list)
    used: dict[int, int] = defaultdict(int)
    for d, s, dv, room in slots:
        if limit < 0 or (d, s, dv) in staffed:
            free[d] += room
            used[d] += (d, s, dv) in staffed
        else:
            spare[d].append(room)
    if limit >= 0:
        for d, rooms in spare.items():
            free[d] += sum(sorted(rooms, reverse=True)[: max(0, limit - used[d])])
    return free


@dataclass
class _SeatRun:
    """What one ``KecamatanMovers._seat`` run changes as it goes, shared by its steps."""

    filler: BestFit
    by_bin: dict[int, dict[int, list[tuple[int, int]]]]  # day -> slot -> (members, kk) that keep it
    seated: dict[int, list[tuple[int, int, int, tuple[int, dt.date]]]]  # slot -> movers seated there
    placed: dict[int, tuple[int, int, int]]  # mover -> its seat
    relocated: dict[int, tuple[int, int, int]]  # KK that keep day and shift -> their new device
    failed: dict[int, tuple[int, int]]  # shift -> (its changes, members) when seating it again failed


class KecamatanMovers:
    """A kecamatan's re-plan state that no cap changes: its free seats, who must move, who could
    make room. ``plan(cap)`` answers for one cap without changing anything."""

    def __init__(
        self,
        slots: list[tuple[int, int, int, int]],
        staffed: set[tuple[int, int, int]],
        limit: int,
        n_days: int,
        w_end: int,
        must: list[tuple[int, int, int]],  # (kk, members, reach): reach = last day at delay 0
        keepers: list[tuple[int, int, int, int, int]],  # (kk, members, day, shift, device)
        order_key: dict[int, tuple[int, dt.date]],  # kk -> seating order among equal deadlines
        cell: dict[int, tuple[int, int]] | None = None,  # must-move kk -> old (day, shift); day -1: gone
    ) -> None:
        self.slots, self.staffed, self.limit, self.n_days, self.w_end = slots, staffed, limit, n_days, w_end
        self.must, self.order_key = must, order_key
        self.cell = dict(cell or {})  # every KK's old (day, shift): a move is a change of it
        for kk, _m, d, s, _dv in keepers:
            self.cell[kk] = (d, s)
        self.slot_of = {(d, s, dv): j for j, (d, s, dv, _r) in enumerate(slots)}
        self.slots_on: dict[int, list[int]] = defaultdict(list)  # day -> its slots
        shifts: dict[tuple[int, int], list[int]] = defaultdict(list)
        for j, (d, s, _dv, _r) in enumerate(slots):
            self.slots_on[d].append(j)
            shifts[(d, s)].append(j)
        # day -> (shift number, its slots) per shift; a shift number per slot, for BestFit's sums
        self.shifts_on: dict[int, list[tuple[int, list[int]]]] = defaultdict(list)
        self.shift_of = [0] * len(slots)
        for g, ((d, _s), js) in enumerate(sorted(shifts.items())):
            self.shifts_on[d].append((g, js))
            for j in js:
                self.shift_of[j] = g
        top = max([m for _k, m, *_ in keepers] + [m for _k, m, _r in must] + [1])
        rows = np.zeros((n_days, top + 1), dtype=np.int64)
        self.keepers: dict[tuple[int, int], list[tuple[int, int, int]]] = defaultdict(list)
        for kk, m, d, s, dv in sorted(keepers, key=lambda r: (r[2], r[3], r[4], r[0])):
            if d >= w_end:
                rows[d, m] += 1
                self.keepers[(d, m)].append((kk, s, dv))
        self._where = {kk: (d, m, s, dv) for (d, m), kept in self.keepers.items() for kk, s, dv in kept}
        self._movable: dict[int, dict[int, list[tuple[int, int]]]] = {}  # day -> slot -> (members, kk)
        for (d, m), kept in self.keepers.items():
            for kk, s, dv in kept:
                self._movable.setdefault(d, {}).setdefault(self.slot_of[(d, s, dv)], []).append((m, kk))
        for bins in self._movable.values():
            for movable in bins.values():
                movable.sort(key=lambda r: (-r[0], r[1]))  # largest first
        free = usable_free(slots, staffed, limit, n_days)
        free[:w_end] = 0
        self.model = KecamatanCap(
            w_end,
            free,
            rows,
            np.array([m for _k, m, _r in must], dtype=np.int64),
            np.array([r for _k, _m, r in must], dtype=np.int64),
        )

    def plan(self, cap: int, limit: float = 60.0) -> CapOutcome:
        """The model's extra KK (the proven bound comes from it), then every mover seated; where
        family sizes leave a mover without a seat in time, one more KK makes room (``_seat``).
        Its models stop on deterministic limits (``cap.MIP_NODES``, ``EXACT_DTIME``): the same
        answer wherever it runs. ``limit``: seconds, a safety net per model."""
        first = extra_moves(self.model, cap, limit)
        if first.status not in ("OPTIMAL", "FEASIBLE"):
            return CapOutcome(False, {}, [], first.bound, first.status, 0)
        chosen = [kk for (d, m), count in sorted(first.take.items()) for kk, _s, _dv in self.keepers[(d, m)][:count]]
        placed, extra, relocated = self._seat(chosen, cap)
        bound, status = first.bound, first.status
        if (placed is None or len(extra) > bound) and self.limit < 0:
            exact = self._exact(cap, extra if placed is not None else None, limit)
            if exact is not None:
                found, better, moved_within, low, proven = exact
                bound = max(bound, low)
                status = "OPTIMAL" if proven else "FEASIBLE"
                if found is not None and (placed is None or len(better) < len(extra)):
                    placed, extra, relocated = found, better, moved_within
        ok = placed is not None
        return CapOutcome(
            ok,
            placed or {},
            extra if ok else [],
            bound,
            status if ok else first.status,
            self._largest(placed) if placed else 0,
            sum((d, s) != self.cell.get(kk, (-1, -1)) for kk, (d, s, _dv) in (placed or {}).items()),
            relocated if ok else {},
        )

    def _exact(
        self, cap: int, hint: list[int] | None, limit: float
    ) -> tuple[dict[int, tuple[int, int, int]] | None, list[int], dict[int, tuple[int, int, int]], int, bool] | None:
        """Where the kecamatan is small (``EXACT_MAX_PAIRS`` KK-seat pairs at most, no operator
        limit), the exact family-level model by CP-SAT: each KK that keeps a day stays in its
        shift (at any of its devices, as the seating may put it) or moves within its window, each
        must-move KK goes within its window, no device-shift over its seats; fewest KK whose date
        or shift changes. Hinted with the seating found. Returns (placements or None, KK moved to
        make room, KK at another device of their shift, bound, proven) or None when too large."""
        from ortools.sat.python import cp_model

        last = self.n_days - 1
        if len(self.must) + sum(len(rows) for rows in self.keepers.values()) > EXACT_MAX_PAIRS // 10:
            return None  # cheap gate first: with ten or more seats in reach each, over the pair limit
        items = [(kk, m, min(r + cap, last), -1) for kk, m, r in self.must]
        for (d, m), rows in self.keepers.items():
            items += [(kk, m, min(d + cap, last), self.slot_of[(d, s, dv)]) for kk, s, dv in rows]
        day_of = [d for d, _s, _dv, _r in self.slots]
        ordered = sorted(day_of)
        pairs = sum(bisect.bisect_right(ordered, dl) for _kk, _m, dl, _j in items)
        if pairs > EXACT_MAX_PAIRS or any(dl < self.w_end for _kk, _m, dl, _j in items if _j < 0):
            return None
        model = cp_model.CpModel()
        seats = [r for *_x, r in self.slots]
        load: list[list[tuple[int, Any]]] = [[] for _ in self.slots]
        moved = []
        choice: dict[int, list[tuple[int, Any]]] = {}
        hinted = set(hint or [])
        shift_of = self.shift_of
        for kk, m, dl, own in items:
            opts = [(j, model.new_bool_var("")) for j, d in enumerate(day_of) if d <= dl]
            choice[kk] = opts
            model.add_exactly_one([v for _j, v in opts])
            if own >= 0:  # its own shift's day is in its window: any device of that shift keeps it
                seats[own] += m
                moved += [v for j, v in opts if shift_of[j] != shift_of[own]]
                model.add_hint(next(v for j, v in opts if j == own), kk not in hinted)
            for j, v in opts:
                load[j].append((m, v))
        for j, terms in enumerate(load):
            if terms:
                model.add(sum(m * v for m, v in terms) <= seats[j])
        model.minimize(sum(moved))
        solver = make_solver(limit)
        solver.parameters.max_deterministic_time = EXACT_DTIME
        status = cpsat_run(solver, model)
        if not found(status):
            return (None, [], {}, 0, False) if status == cp_model.INFEASIBLE else None
        placed: dict[int, tuple[int, int, int]] = {}
        extra: list[int] = []
        relocated: dict[int, tuple[int, int, int]] = {}
        for kk, _m, _dl, own in items:
            at = next(j for j, v in choice[kk] if solver.value(v))
            spot = self.slots[at][:3]
            if own < 0 or shift_of[at] != shift_of[own]:
                placed[kk] = spot
                if own >= 0:
                    extra.append(kk)
            elif at != own:
                relocated[kk] = spot
        return placed, extra, relocated, int(solver.best_objective_bound + 1e-6), status == cp_model.OPTIMAL

    def _largest(self, placed: dict[int, tuple[int, int, int]]) -> int:
        """The largest delay among the KK seated: from the last working day on or before the old
        date of a must-move KK, from the old day of a KK that kept one."""
        reach = {kk: r for kk, _m, r in self.must}
        return max(
            (d - (reach[kk] if kk in reach else self.cell[kk][0]) for kk, (d, _s, _dv) in placed.items()), default=0
        )

    def _seat(
        self, chosen: list[int], cap: int
    ) -> tuple[dict[int, tuple[int, int, int]] | None, list[int], dict[int, tuple[int, int, int]]]:
        """Earliest deadline first, each KK into the tightest seat on or before its deadline
        (``BestFit``). A KK that finds none first looks for a shift whose seats together hold it,
        split over its devices, and makes them whole by seating families of that shift at other
        devices of it (``_shuffle``, ``_repack``: no date or shift changes, so no one moves).
        Failing that it takes the place of a smaller mover already seated
        in the last ``EJECT_DAYS`` days before its deadline, where that mover's seat and the room
        beside it hold it (``_eject``: the tightest such fit); the smaller family goes back into
        the queue, to a seat of its own by its own deadline, and no one more moves. Only where no
        such swap exists does a KK that keeps a day make room (``_make_room``), and move too, with
        its own deadline. Returns the placements (None when a KK cannot be seated at all), every
        KK that moved to make room, and the KK that keep their day and shift at another device.

        Why the swap: the cap model counts members, and families are not fluid; the holes the
        movers leave seldom match the families that arrive. A family left without a seat by a
        few fragments cost a chain of extra moves to the end of the horizon (Medan slip, cap 5:
        20 % more extra moves than the model's bound); trading it for a smaller family, which
        finds a fragment, costs nothing."""
        rooms = [r for *_x, r in self.slots]
        where = self._where
        last = self.n_days - 1
        queue = [(min(r + cap, last), self.order_key[kk], kk, m) for kk, m, r in self.must]
        bumped = set(chosen)
        for kk in chosen:
            d, m, s, dv = where[kk]
            rooms[self.slot_of[(d, s, dv)]] += m
            queue.append((min(d + cap, last), self.order_key[kk], kk, m))
        heapq.heapify(queue)
        filler = BestFit(
            [(d, s, dv, room) for (d, s, dv, _r), room in zip(self.slots, rooms, strict=True)],
            self.limit,
            self.staffed,
            self.shift_of,
        )
        by_bin = {  # day -> slot -> (members, kk) that could still make room, largest first
            d: {j: [r for r in rows if r[1] not in bumped] for j, rows in bins.items()}
            for d, bins in self._movable.items()
        }
        placed: dict[int, tuple[int, int, int]] = {}
        # slot -> movers seated there, as the queue held them: (members, kk, deadline, order key)
        seated: dict[int, list[tuple[int, int, int, tuple[int, dt.date]]]] = defaultdict(list)
        extra = list(chosen)
        relocated: dict[int, tuple[int, int, int]] = {}
        run = _SeatRun(filler, by_bin, seated, placed, relocated, {})
        while queue:
            deadline, key, kk, m = heapq.heappop(queue)
            spot = filler.place_by(m, deadline)
            if spot is None:
                if self.limit < 0 and self._shuffle(run, m, deadline):
                    pass  # a family moved to another device of its shift: a hole for m, no one moves
                elif (out := self._eject(filler, seated, m, deadline)) is not None:
                    om, other, other_deadline, other_key = out
                    del placed[other]
                    heapq.heappush(queue, (other_deadline, other_key, other, om))
                else:
                    room_for = self._make_room(filler, by_bin, m, deadline, cap < FIT_BELOW)
                    if room_for is None:
                        return None, extra, relocated
                    day, freed = room_for
                    for om, other in freed:
                        extra.append(other)
                        relocated.pop(other, None)  # it moves after all: its new seat is a placement
                        heapq.heappush(queue, (min(day + cap, last), self.order_key[other], other, om))
                spot = filler.place_by(m, deadline)
                assert spot is not None
            placed[kk] = spot
            seated[self.slot_of[spot]].append((m, kk, deadline, key))
        return placed, extra, relocated

    def _shuffle(self, st: _SeatRun, m: int, deadline: int) -> bool:
        """Make a hole for ``m`` members by moving one family to another device of the same shift
        (its date and shift stay: no move), in the last SHUFFLE_DAYS days up to ``deadline``: a
        device whose room with that family holds ``m``, and a device of the shift with room for
        the family; the tightest hole, then the tightest place for the family. The cap model
        counts a shift's seats together; left alone, the seating would lose every room split
        over devices too small for the families that arrive. Failing that, ``_repack``."""
        filler, by_bin, seated = st.filler, st.by_bin, st.seated
        room_of = filler.room
        # (key, from slot, to slot, the family's row in by_bin or seated, a KK that keeps its day?)
        best: tuple[int, int, int, Any, bool] | None = None
        for d in range(min(deadline, self.n_days - 1), max(self.w_end, deadline - SHUFFLE_DAYS) - 1, -1):
            bins = by_bin.get(d, {})
            for g, js in self.shifts_on[d]:
                if filler.group_room[g] < m:
                    continue  # the shift's seats together are too few
                rooms = sorted((room_of[j2], j2) for j2 in js)  # the tightest device for q: bisect
                for j in js:
                    room = room_of[j]
                    if room >= m:
                        continue
                    for rows, keeper in ((bins.get(j, ()), True), (seated.get(j, ()), False)):
                        for row in rows:
                            q = row[0]
                            if room + q < m:
                                continue
                            x = bisect.bisect_left(rooms, (q, -1))
                            if x < len(rooms) and rooms[x][1] == j:
                                x += 1  # not back to its own device
                            if x == len(rooms):
                                continue
                            key = ((room + q - m) * _KEY + rooms[x][0] - q) * _KEY + q
                            if best is None or key < best[0]:
                                best = (key, j, rooms[x][1], row, keeper)
            if best is not None and best[0] < _KEY * _KEY:
                break
        if best is None:
            return self._repack(st, m, deadline)
        _key, j, j2, row, keeper = best
        d, s, dv, _r = self.slots[j2]
        if keeper:
            by_bin[d][j].remove(row)
            bisect.insort(by_bin[d].setdefault(j2, []), row, key=lambda r: (-r[0], r[1]))
            self._relocate(st.relocated, row[1], (d, s, dv))
        else:
            seated[j].remove(row)
            seated[j2].append(row)
            st.placed[row[1]] = (d, s, dv)
        filler.add_room(j, row[0])
        filler.take(j2, row[0])
        return True

    def _relocate(self, relocated: dict[int, tuple[int, int, int]], kk: int, spot: tuple[int, int, int]) -> None:
        """Record that keeper ``kk`` sits at ``spot``, a device of its own shift (or forget it,
        back at its own device)."""
        d, _m, s, dv = self._where[kk]
        if spot == (d, s, dv):
            relocated.pop(kk, None)
        else:
            relocated[kk] = spot

    def _repack(self, st: _SeatRun, m: int, deadline: int) -> bool:
        """Seat every family of one shift again over its devices, with ``m`` members more (largest
        first, each on the device with the least room that holds it): the shifts of the last
        SHUFFLE_DAYS days whose seats together hold them, latest day first, then the fewest
        seats. Dates and shifts stay, so no one moves; where ``_shuffle``'s single family is not
        enough, a shift's room split over its devices is made whole this way."""
        filler, by_bin, seated, failed = st.filler, st.by_bin, st.seated, st.failed
        room_of = filler.room
        for d in range(min(deadline, self.n_days - 1), max(self.w_end, deadline - SHUFFLE_DAYS) - 1, -1):
            shifts = self.shifts_on[d]
            order = sorted((filler.group_room[g], i) for i, (g, _js) in enumerate(shifts))
            bins = by_bin.setdefault(d, {})
            for pooled, i in order:
                g, js = shifts[i]
                seen = failed.get(g)
                if pooled < m or (seen is not None and seen[0] == filler.group_changes[g] and seen[1] <= m):
                    continue  # too few seats, or unchanged since it failed for as many members or fewer
                # (members, kk, its row in ``seated`` or None) of every family seated in the shift,
                # a KK that keeps its day or a mover; kk -1: the one to come
                fams: list[tuple[int, int, tuple[int, int, int, tuple[int, dt.date]] | None]] = [(m, -1, None)]
                left = {}
                for j in js:
                    kept, movers = bins.get(j, ()), seated.get(j, ())
                    left[j] = room_of[j] + sum(q for q, _kk in kept) + sum(r[0] for r in movers)
                    fams += [(q, kk, None) for q, kk in kept]
                    fams += [(r[0], r[1], r) for r in movers]
                fams.sort(key=lambda f: (-f[0], f[1]))
                at: list[int] = []
                rooms = sorted((left[j], j) for j in js)  # the tightest device that holds q: bisect
                for q, _kk, _keeper in fams:
                    x = bisect.bisect_left(rooms, (q, -1))
                    if x == len(rooms):
                        break
                    r, j = rooms.pop(x)
                    bisect.insort(rooms, (r - q, j))
                    at.append(j)
                if len(at) < len(fams):
                    failed[g] = (filler.group_changes[g], m)
                    continue
                left = {j: r for r, j in rooms}
                for j in js:
                    bins[j] = []
                    seated[j] = []
                for (q, kk, row), j in zip(fams, at, strict=True):
                    spot = self.slots[j][:3]
                    if kk < 0:
                        left[j] += q  # the seats kept free for the family to come
                    elif row is None:
                        bins[j].append((q, kk))
                        self._relocate(st.relocated, kk, spot)
                    else:
                        seated[j].append(row)
                        st.placed[kk] = spot
                for j in js:
                    filler.set_room(j, left[j])
                return True
        return False

    def _eject(
        self, filler: BestFit, seated: dict[int, list[tuple[int, int, int, tuple[int, dt.date]]]], m: int, deadline: int
    ) -> tuple[int, int, int, tuple[int, dt.date]] | None:
        """Take out a mover smaller than ``m`` seated in a device-shift of the last EJECT_DAYS
        days up to ``deadline`` whose room with it holds ``m`` members: the tightest fit, then the
        smallest family, then the latest day. Members seated grow at every swap (a larger family
        in place of a smaller one), so swaps cannot cycle. (Taking out two or three movers of one
        device-shift was tried: no fewer moves on the Medan slip.)"""
        # (fit, members) compared as one integer, fit * _KEY + members: this loop runs for every
        # family that finds no seat (tens of thousands per Medan cap).
        best: tuple[int, int, tuple[int, int, int, tuple[int, dt.date]]] | None = None
        room_of = filler.room
        for d in range(min(deadline, self.n_days - 1), max(self.w_end, deadline - EJECT_DAYS) - 1, -1):
            for j in self.slots_on[d]:
                room = room_of[j]
                if room <= 0:
                    continue  # a smaller family's seat alone never holds a larger one
                here = seated.get(j)
                if not here:
                    continue
                for other in here:
                    om = other[0]
                    if om < m <= room + om:
                        key = (room + om - m) * _KEY + om
                        if best is None or key < best[0]:
                            best = (key, j, other)
            if best is not None and best[0] < _KEY:
                break
        if best is None:
            return None
        _key, j, other = best
        seated[j].remove(other)
        filler.add_room(j, other[0])
        return other

    def _make_room(
        self,
        filler: BestFit,
        by_bin: dict[int, dict[int, list[tuple[int, int]]]],
        m: int,
        deadline: int,
        fit: bool = True,
    ) -> tuple[int, list[tuple[int, int]]] | None:
        """Free a seat for ``m`` members on the latest day in [w_end, deadline] where that is
        possible: with ``fit`` (caps below FIT_BELOW), one KK whose seat with the room beside it
        holds them (the tightest fit, then the smallest family, which finds a seat of its own the
        more easily); else, or failing that, the fewest KK (largest first) of one device-shift."""
        for d in range(min(deadline, self.n_days - 1), self.w_end - 1, -1):
            bins = by_bin.get(d, {})
            best: tuple[int, int, int] | None = None  # (fit * _KEY + members, slot, index in its list)
            for j, rows in bins.items() if fit else ():
                room = filler.room[j]
                for i, (om, _kk) in enumerate(rows):
                    if room + om >= m:
                        key = (room + om - m) * _KEY + om
                        if best is None or key < best[0]:
                            best = (key, j, i)
            if best is not None:
                _fit, j, i = best
                freed = [bins[j].pop(i)]
                filler.add_room(j, freed[0][0])
                return d, freed
            several: tuple[int, int] | None = None  # (KK to move, slot)
            for j, rows in bins.items():
                room, need = filler.room[j], 0
                for om, _kk in rows:
                    if room >= m:
                        break
                    room, need = room + om, need + 1
                if room >= m and need and (several is None or need < several[0]):
                    several = (need, j)
            if several is not None:
                need, j = several
                rows = bins[j]
                freed, rows[:] = rows[:need], rows[need:]
                filler.add_room(j, sum(om for om, _kk in freed))
                return d, freed
        return None


def reach_of(days: Sequence[dt.date], date: dt.date) -> int:
    """Index of the last working day on or before ``date``: a move to day j is ``j - reach``
    working days later (SPEC.md: the delay counts the working days after the old date up to the
    new one)."""
    return bisect.bisect_right(days, date) - 1


def working_days_after(days: Sequence[dt.date], old: dt.date, new: dt.date) -> int:
    """The working days after ``old`` up to and including ``new`` (negative when ``new`` is
    earlier): the delay of a move, whether or not ``old`` is still a working day."""
    return bisect.bisect_right(days, new) - bisect.bisect_right(days, old)
