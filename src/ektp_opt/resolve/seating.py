"""KK-level seating of a re-plan: who keeps a cell (``seat_kept``), where movers go
(``seat_movers``), and the exact re-seating of a kecamatan whose movers do not pack.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ektp_opt.errors import NoSolutionError
from ektp_opt.inputs.households import Households
from ektp_opt.problem import ProblemData
from ektp_opt.resolve.capped import usable_free
from ektp_opt.resolve.oldplan import OldPlan, Window
from ektp_opt.resolve.records import Change, IntArray, Mover
from ektp_opt.resolve.repack import repack
from ektp_opt.resolve.seats import SlotFiller, keep_in_cell
from ektp_opt.solver import SolveOptions
from ektp_opt.solver.assign import Device


def fluid_fill(free_by_day: list[int], need: int) -> tuple[int, int]:
    """Earliest last day and least waiting (1-based day indices) to seat ``need`` residents."""
    last, waiting = -1, 0
    for d, room in enumerate(free_by_day):
        if need <= 0:
            break
        take = min(room, need)
        if take:
            last, waiting, need = d, waiting + take * (d + 1), need - take
    return last, waiting


@dataclass
class Seating:
    """The new plan as it is built: every KK's day, shift and device, and what changed."""

    day: IntArray
    shift: IntArray
    device: IntArray
    changes: list[Change] = field(default_factory=list)
    movers: list[Mover] = field(default_factory=list)  # (kk, reason, forced)
    load: dict[tuple[int, int, int, int], int] = field(default_factory=lambda: defaultdict(int))
    reseated: set[int] = field(default_factory=set)  # KK seated again by the exact model (``repack``)

    def copy(self) -> Seating:
        load: dict[tuple[int, int, int, int], int] = defaultdict(int, self.load)
        return Seating(
            self.day.copy(),
            self.shift.copy(),
            self.device.copy(),
            list(self.changes),
            list(self.movers),
            load,
            set(self.reseated),
        )


def change_to(
    old: OldPlan, data: ProblemData, devices: list[Device], i: int, d: int, s: int, dv: int,
    reason: str, is_move: bool, forced: bool,
) -> Change:  # fmt: skip
    """KK ``i``'s appointment in the plan in force, and its new one at (day ``d``, shift ``s``,
    device ``dv``): the one way every stage writes a change."""
    return Change(
        i, (old.date[i], int(old.shift[i]), old.device[i]), (data.days[d], s, devices[dv].device_id), reason, is_move,
        forced,
    )  # fmt: skip


def staffed_of(load: dict[tuple[int, int, int, int], int], k: int) -> set[tuple[int, int, int]]:
    """The device-shifts of kecamatan ``k`` in use by KK that keep their seats."""
    return {(d, s, dv) for (kk, d, s, dv), v in load.items() if kk == k and v > 0}


def seat_kept(
    data: ProblemData,
    old: OldPlan,
    devices: list[Device],
    in_service: list[list[list[int]]],
    members: IntArray,
    future: npt.NDArray[np.bool_],
    win: Window,
    fewest_members: bool = False,
) -> Seating:
    """Past KK stay; every future KK keeps its cell (office, day, shift) where the cell's devices
    still seat it (keep_in_cell, the per-cell rule of SPEC.md); the rest become movers, and so do
    the KK of device-shifts past the operators' limit (rule 7). ``fewest_members``: a cell frees the
    fewest members rather than the fewest KK (the placement came from the fluid relaxation)."""
    past, w_end = win.past, win.w_end
    notice_end = win.notice_end
    dev_index = {d.device_id: i for i, d in enumerate(devices)}
    n = len(members)
    day = np.where(past, old.day, -1).astype(np.int64)
    shift = np.where(past, old.shift, 0).astype(np.int64)
    device = np.full(n, -1, dtype=np.int64)
    for i in np.flatnonzero(past).tolist():
        device[i] = dev_index.get(old.device[i], -1)
    changes: list[Change] = []
    movers: list[Mover] = []
    load: dict[tuple[int, int, int, int], int] = defaultdict(int)  # (k, d, s, device) -> members
    cells: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for i in np.flatnonzero(future).tolist():
        if old.day[i] < 0:
            movers.append(
                Mover(
                    i,
                    old.why.get(i, f"{old.date[i]} is no longer a regular working day"),
                    notice_end is not None and old.date[i] <= notice_end,  # inside the notice window
                )
            )
        else:
            cells[(int(old.site[i]), int(old.day[i]), int(old.shift[i]))].append(i)
    seats_of = data.seats
    decided: dict[tuple[int, int, int], dict[int, int]] = {}
    for (k, d, s), kk in sorted(cells.items()):
        here = in_service[k][d]
        olddev_i = [dev_index.get(old.device[i], -1) for i in kk]
        valid = set(here)
        per_dev: dict[int, int] = defaultdict(int)
        for i, dv in zip(kk, olddev_i, strict=True):
            per_dev[dv] += int(members[i])
        if all(dv in valid for dv in olddev_i) and all(v <= seats_of[k] for v in per_dev.values()):
            seat = dict(zip(kk, olddev_i, strict=True))
            leave: list[int] = []
        else:
            seat, leave = keep_in_cell(
                kk, [int(members[i]) for i in kk], olddev_i, here, int(seats_of[k]), fewest_members
            )
        forced = d < w_end
        lost = len({dv for dv in olddev_i if dv >= 0}) - len(valid & set(olddev_i))
        for i, dv in zip(kk, olddev_i, strict=True):
            if i not in leave:
                continue
            why = move_reason(dv in valid, lost, forced)
            movers.append(Mover(i, f"{old.date[i]} shift {old.shift[i]}: {why}", forced))
        decided[(k, d, s)] = seat
    for i, _k, d, why in over_operators(decided, members, data.slot_limit):
        movers.append(Mover(i, f"{old.date[i]} shift {old.shift[i]}: {why}", d < w_end))
    for (k, d, s), seat in decided.items():
        forced = d < w_end
        for i, dv in seat.items():
            day[i], shift[i], device[i] = d, s, dv
            load[(k, d, s, dv)] += int(members[i])
            if devices[dv].device_id != old.device[i]:
                changes.append(
                    change_to(old, data, devices, i, d, s, dv, "new device, same date and shift", False, forced)
                )

    return Seating(day, shift, device, changes, movers, load)


def seat_movers(
    data: ProblemData,
    households: Households,
    old: OldPlan,
    devices: list[Device],
    in_service: list[list[list[int]]],
    members: IntArray,
    win: Window,
    seating: Seating,
    options: SolveOptions,
) -> tuple[int, int]:
    """Movers take the earliest free seats after the notice window, kelurahan by kelurahan, in
    device-shifts the operators can staff. Where first fit leaves a mover without a seat, the
    kecamatan is seated again after the window by the exact model (``repack.py``), which moves
    the fewest KK that make room. Returns the fluid bound (last day, waiting) they allow."""
    w_end, n_days, seats_of = win.w_end, data.regular_days, data.seats
    day, shift, device, changes, movers, load = (
        seating.day,
        seating.shift,
        seating.device,
        seating.changes,
        seating.movers,
        seating.load,
    )
    # Movers: earliest free seats after the notice window, kelurahan by kelurahan.
    by_kec: dict[int, list[Mover]] = defaultdict(list)
    for m in movers:
        by_kec[int(old.site[m[0]])].append(m)
    bound_last, bound_wait = -1, 0
    for k, group in sorted(by_kec.items()):
        slots = [
            (d, s, dv, int(seats_of[k]) - load[(k, d, s, dv)])
            for d in range(w_end, n_days)
            for s in range(1, int(data.shifts[k]) + 1)
            for dv in in_service[k][d]
        ]
        staffed = staffed_of(load, k)
        filler = SlotFiller(slots, int(data.slot_limit[k]), staffed)
        fluid = fluid_fill(filler.free_by_day(n_days), sum(int(members[i]) for i, _r, _f in group))
        group.sort(key=lambda m: (households.kelurahan[m[0]], old.date[m[0]], m[0]))
        placed: list[tuple[int, tuple[int, int, int]]] = []
        for i, _reason, _forced in group:
            spot = filler.place(int(members[i]))
            if spot is None:
                break
            placed.append((i, spot))
        if len(placed) < len(group):
            last, wait = repack_kecamatan(data, old, devices, members, win, seating, k, group, slots, staffed, options)
            if last < 0:  # largest first into the holes did it: the movers' own fluid bound stands
                last, wait = fluid
            bound_last, bound_wait = max(bound_last, last), bound_wait + wait
            continue
        bound_last, bound_wait = max(bound_last, fluid[0]), bound_wait + fluid[1]
        for (i, reason, forced), (_i, (d, s, dv)) in zip(group, placed, strict=True):
            day[i], shift[i], device[i] = d, s, dv
            changes.append(change_to(old, data, devices, i, d, s, dv, reason, True, forced))

    return bound_last, bound_wait


def repack_kecamatan(
    data: ProblemData,
    old: OldPlan,
    devices: list[Device],
    members: IntArray,
    win: Window,
    seating: Seating,
    k: int,
    group: list[Mover],
    slots: list[tuple[int, int, int, int]],
    staffed: set[tuple[int, int, int]],
    options: SolveOptions,
) -> tuple[int, int]:
    """Kecamatan ``k``'s movers do not fit by first fit (kelurahan by kelurahan): largest first
    into the holes, else every KK of it seated after the notice window is seated again by the
    exact model, keeping the most in their device-shift; those that then move say why. Returns
    the fluid bound over all of them when they were re-seated, (-1, 0) when only the movers were."""
    w_end = win.w_end
    site = old.site
    after = [int(i) for i in np.flatnonzero((seating.day >= w_end) & (site == k) & ~old.visited).tolist()]
    after_set = set(after)
    reason_of = {i: (why, forced) for i, why, forced in group}
    families: list[tuple[int, int, tuple[int, int, int] | None]] = [
        (i, int(members[i]), (int(seating.day[i]), int(seating.shift[i]), int(seating.device[i])))
        for i in after
        if i not in reason_of
    ] + [(i, int(members[i]), None) for i in reason_of]
    free_slots = [(d, s, dv) for d, s, dv, _room in slots]
    seats, limit = int(data.seats[k]), int(data.slot_limit[k])
    filler = SlotFiller(slots, limit, staffed)
    placed = [(i, filler.place(int(members[i]))) for i in sorted(reason_of, key=lambda i: (-int(members[i]), i))]
    if all(spot is not None for _i, spot in placed):  # largest first into the holes: nobody else moves
        for i, spot in placed:
            assert spot is not None
            d, s, dv = spot
            seating.day[i], seating.shift[i], seating.device[i] = d, s, dv
            why, forced = reason_of[i]
            seating.changes.append(change_to(old, data, devices, i, d, s, dv, why, True, forced))
        return -1, 0
    out = repack(free_slots, seats, limit, families, max(1.0, options.time_limit * 0.25))
    code = data.kecamatan_codes[k]
    if out.status == "INFEASIBLE":
        raise NoSolutionError(
            f"no seating of the KK that must move at {code} was found with this device placement, and no model "
            "proves a re-plan impossible; report this case"
        )
    if out.status == "UNKNOWN":
        raise NoSolutionError(
            f"the KK that must move at {code} were not seated within the time limit; raise --time-limit"
        )
    moved_now = {
        i for i, _m, _at in families if i not in reason_of and out.seat[i][:2] != (seating.day[i], seating.shift[i])
    }
    for i in moved_now:
        reason_of[i] = (
            f"{old.date[i]} shift {old.shift[i]}: makes room for the families that must move at {code}",
            False,
        )
        seating.movers.append(Mover(i, reason_of[i][0], False))
    seating.changes[:] = [c for c in seating.changes if c.kk not in reason_of and c.kk not in after_set]
    for i, _m, _at in families:
        d, s, dv = out.seat[i]
        seating.day[i], seating.shift[i], seating.device[i] = d, s, dv
        moved = i in reason_of
        if not moved and devices[dv].device_id == old.device[i]:
            continue
        why, forced = reason_of.get(i, ("new device, same date and shift", False))
        seating.changes.append(change_to(old, data, devices, i, d, s, dv, why, moved, forced and moved))
    seating.reseated.update(after)
    free = usable_free([(d, s, dv, seats) for d, s, dv in free_slots], set(), limit, data.regular_days)
    return fluid_fill(free.tolist(), sum(m for _i, m, _at in families))


def move_reason(own_device_kept: bool, devices_lost: int, in_notice_window: bool) -> str:
    """Why a KK of a cell (office, day, shift) that lost seats is moved. The rule is per cell
    (SPEC.md "Planning again"): the fewest KK that free the seats move, largest families first,
    whichever device of the cell they sat at; the reason says which case the KK is."""
    when = "inside the notice window: " if in_notice_window else ""
    if not own_device_kept:
        return when + "its device is not in service that day"
    if devices_lost > 0:
        return when + "its shift lost a device; the fewest KK that free the seats move, largest first"
    return when + "fewer seats in its shift after the change; the fewest KK that free them move, largest first"


def over_operators(
    decided: dict[tuple[int, int, int], dict[int, int]], members: IntArray, slot_limit: IntArray
) -> list[tuple[int, int, int, str]]:
    """Rule 7 for the KK that keep their slot: where a kecamatan's kept KK would fill more
    device-shifts on a day than its operators can staff, the least-filled device-shifts are
    emptied (their KK move, with the reason). Removes those KK from ``decided``."""
    by_day: dict[tuple[int, int], dict[tuple[int, int], list[int]]] = defaultdict(lambda: defaultdict(list))
    for (k, d, s), seat in decided.items():
        for i, dv in seat.items():
            by_day[(k, d)][(s, dv)].append(i)
    out: list[tuple[int, int, int, str]] = []
    for (k, d), used in sorted(by_day.items()):
        limit = int(slot_limit[k])
        if limit < 0 or len(used) <= limit:
            continue
        ranked = sorted(used.items(), key=lambda kv: (sum(int(members[i]) for i in kv[1]), kv[0]))
        for (s, _dv), kks in ranked[: len(used) - limit]:
            for i in kks:
                del decided[(k, d, s)][i]
                out.append((i, k, d, f"operators can staff only {limit} device-shifts that day"))
    return out
