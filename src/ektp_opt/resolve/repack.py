"""The exact seating of one kecamatan after the notice window, when first fit leaves a mover out.

Families are not fluid: the fewest-moves choice frees the largest families, and the seats left
free after the notice window may be enough in members yet not in whole families. Then every KK of
the kecamatan seated after the window (those that kept a seat there and the movers) is seated
again by an exact model, keeping as many of them in their own device-shift as it can:

- one slot per (day, shift, device) after the window, with the device-shift's seats;
- ``y[slot, size]``: families of that size seated in the slot (families of one size are alike for
  the seats, so counts are exact): the members in a slot fit its seats; every family is seated;
- with an operator limit, a slot is open or not, and at most ``limit`` are open a day;
- ``keep[slot, size] <= y[slot, size]`` and at most the KK of that size already there: kept KK.
  Maximise the kept KK (fewest moved).

INFEASIBLE here means no seating exists for this device placement (not that no re-plan exists);
the caller decides what that means.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from ektp_opt.resolve.seats import SlotFiller
from ektp_opt.solver import mip
from ektp_opt.solver.mip import make_mip


@dataclass(frozen=True)
class Repacked:
    status: str  # OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN
    seat: dict[int, tuple[int, int, int]]  # kk -> (day, shift, device), every KK given
    kept: int  # KK left in their own device-shift


def repack(
    slots: list[tuple[int, int, int]],
    seats: int,
    limit: int,
    families: list[tuple[int, int, tuple[int, int, int] | None]],
    seconds: float,
) -> Repacked:
    """Seat ``families`` (kk, members, current slot or None) into ``slots`` (day, shift, device),
    each with ``seats`` seats; ``limit`` device-shifts a day at most (-1: no limit). Families take
    the earliest places the model leaves them, largest first, so the plan's waiting stays low."""
    sizes = sorted({m for _kk, m, _at in families})
    count: dict[int, int] = defaultdict(int)
    here: dict[tuple[int, int], int] = defaultdict(int)  # (slot index, size) -> KK there now
    index = {s: j for j, s in enumerate(slots)}
    for _kk, m, at in families:
        count[m] += 1
        if at is not None and at in index:
            here[(index[at], m)] += 1
    solver = make_mip(seconds)
    inf = solver.infinity()
    y = {(j, q): solver.IntVar(0, min(count[q], seats // q), "") for j in range(len(slots)) for q in sizes}
    opened: dict[int, list[Any]] = defaultdict(list)
    for j, (day, _s, _dv) in enumerate(slots):
        load = solver.Sum([q * y[(j, q)] for q in sizes])
        if limit >= 0:
            open_ = solver.BoolVar("")
            solver.Add(load <= seats * open_)
            opened[day].append(open_)
        else:
            solver.Add(load <= seats)
    for day_slots in opened.values():
        if len(day_slots) > limit:
            solver.Add(solver.Sum(day_slots) <= limit)
    for q in sizes:
        solver.Add(solver.Sum([y[(j, q)] for j in range(len(slots))]) == count[q])
    keep = []
    for (j, q), n in here.items():
        k = solver.IntVar(0, n, "")
        solver.Add(k <= y[(j, q)])
        keep.append(k)
    solver.Maximize(solver.Sum(keep) if keep else 0 * inf)
    start = _first_fit_decreasing(slots, seats, limit, [m for _kk, m, _at in families])
    if start is not None:  # a complete seating to start from: the search then only improves it
        hinted = list(y.items())
        solver.SetHint([v for _key, v in hinted], [float(start.get(key, 0)) for key, _v in hinted])
    status = mip.solve(solver)
    if status not in ("OPTIMAL", "FEASIBLE"):
        return Repacked(status, {}, 0)
    room = {(j, q): round(v.solution_value()) for (j, q), v in y.items()}
    seat: dict[int, tuple[int, int, int]] = {}
    kept = 0
    for kk, m, at in sorted(families, key=lambda f: (-f[1], f[0])):  # those who stay first
        j = index.get(at, -1) if at is not None else -1
        if j >= 0 and room[(j, m)] > 0 and here[(j, m)] > 0:
            room[(j, m)] -= 1
            here[(j, m)] -= 1
            seat[kk] = slots[j]
            kept += 1
    ptr = dict.fromkeys(sizes, 0)  # per size, the first slot that may still have room (time order)
    for kk, m, _at in sorted(families, key=lambda f: (-f[1], f[0])):
        if kk in seat:
            continue
        while room[(ptr[m], m)] == 0:
            ptr[m] += 1
        room[(ptr[m], m)] -= 1
        seat[kk] = slots[ptr[m]]
    return Repacked(status, seat, kept)


def _first_fit_decreasing(
    slots: list[tuple[int, int, int]], seats: int, limit: int, sizes: list[int]
) -> dict[tuple[int, int], int] | None:
    """Every family from scratch, largest first, into the first device-shift with room (operators
    respected): (slot index, size) -> families, or None if one is left out."""
    filler = SlotFiller([(d, s, dv, seats) for d, s, dv in slots], limit)
    index = {slot: j for j, slot in enumerate(slots)}
    out: dict[tuple[int, int], int] = defaultdict(int)
    for m in sorted(sizes, reverse=True):
        spot = filler.place(m)
        if spot is None:
            return None
        out[(index[spot], m)] += 1
    return out
