"""Level R1: where the devices of the pools not yet delivered go (``place_pools``, the split model
of ``split.py``), the per-cell tables it is built from, and the proof of a "cannot" when even
its fluid relaxation has no placement (``proven_short``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections import defaultdict
from typing import Any

import numpy as np
import numpy.typing as npt

from ektp_opt.errors import InfeasibleError, InputError, NoSolutionError
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.problem import ProblemData
from ektp_opt.resolve.oldplan import OldPlan, Window
from ektp_opt.resolve.records import IntArray
from ektp_opt.resolve.split import SplitInput, SplitResult, shortfall, solve_split
from ektp_opt.results import Proof, ShortKecamatan
from ektp_opt.solver import SolveOptions
from ektp_opt.solver.apportion import largest_remainder
from ektp_opt.solver.assign import Device
from ektp_opt.solver.params import cpsat_parameters, load_preset


def cell_tables(
    data: ProblemData,
    old: OldPlan,
    members: IntArray,
    future: npt.NDArray[np.bool_],
    a: int,
    w_end: int,
    top: int,
    away: IntArray,
) -> tuple[IntArray, IntArray, IntArray, IntArray, IntArray]:
    """Per (kecamatan, day, n devices): least KK to move, members they free, free seats after the
    notice window; then the same two seat tables for the fluid relaxation, where a cell frees
    exactly its excess members (not whole largest families). Days before ``a`` are left zero.
    ``away[k, d]``: devices out on home visits that day, which serve no office seat."""
    n_kec, n_days = data.n_kec, data.regular_days
    moves = np.zeros((n_kec, n_days, top + 1), dtype=np.int64)
    freed = np.zeros_like(moves)
    free = np.zeros_like(moves)
    n = np.arange(top + 1, dtype=np.int64)
    serving = lambda k, d: np.maximum(n - int(away[k, d]), 0)  # noqa: E731
    for k in range(n_kec):
        seats, shifts = int(data.seats[k]), int(data.shifts[k])
        for d in range(max(a, w_end), n_days):
            free[k, d] = serving(k, d) * seats * shifts  # empty cells; booked ones are corrected below
    cells: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    idx = np.flatnonzero(future & (old.day >= 0))
    for i, k, d, s in zip(
        idx.tolist(), old.site[idx].tolist(), old.day[idx].tolist(), old.shift[idx].tolist(), strict=True
    ):
        cells[(k, d, s)].append(int(members[i]))
    # KK with no cell to keep (their date is no longer a working day, or their home visit was
    # dropped) move whatever the devices: a constant, put on the first re-planned day.
    for i in np.flatnonzero(future & (old.day < 0)).tolist():
        k = int(old.site[i])
        moves[k, a] += 1
        freed[k, a] += int(members[i])
    stay = np.zeros_like(moves)
    least, least_stay = freed.copy(), np.zeros_like(moves)
    for (k, d, _s), sizes in cells.items():
        seats = int(data.seats[k])
        room = serving(k, d) * seats
        prefix = np.concatenate(([0], np.cumsum(sorted(sizes, reverse=True))))
        excess = prefix[-1] - room
        count = np.searchsorted(prefix, excess, side="left")
        moves[k, d] += count
        freed[k, d] += prefix[np.minimum(count, len(sizes))]
        stay[k, d] += prefix[-1] - prefix[np.minimum(count, len(sizes))]
        least[k, d] += np.maximum(excess, 0)
        least_stay[k, d] += np.minimum(prefix[-1], room)
        if d >= w_end:
            free[k, d] += np.maximum(0, room - prefix[-1]) - room
    free_least = free.copy()
    # Operators (rule 7): a day holds at most limit device-shifts of seats, whatever the devices.
    for k in np.flatnonzero(data.slot_limit >= 0).tolist():
        cap = int(data.slot_limit[k]) * int(data.seats[k])
        free[k] = np.minimum(free[k], np.maximum(0, cap - stay[k]))
        free_least[k] = np.minimum(free_least[k], np.maximum(0, cap - least_stay[k]))
    return moves, freed, free, least, free_least


def devices_away(ls: LoadedScenario, data: ProblemData, old: OldPlan, full: ProblemData, added: bool) -> IntArray:
    """Devices out on home visits per (kecamatan, regular day), as the device placement should see
    them: the plan in force's mobile days (re-planned ones mostly stay), or the planner's when the
    scenario adds [home_visits]; none without the section. Without this the placement counted
    those devices as office seats and could leave a kecamatan short once the visits took them."""
    away = np.zeros((data.n_kec, data.regular_days), dtype=np.int64)
    if ls.scenario.home_visits is None:
        return away
    if added:
        if full.mobile is not None:
            n = min(data.regular_days, full.mobile.shape[1])
            away[:, :n] = full.mobile[:, :n]
        return away
    day_of = {d: i for i, d in enumerate(data.days[: data.regular_days])}
    for dev, date in set(old.visit_days):  # one line per home in home_visits.csv: one device-day each
        if dev in old.devices and date in day_of:
            away[old.devices[dev][0], day_of[date]] += 1
    return away


def place_pools(
    ls: LoadedScenario,
    data: ProblemData,
    old: OldPlan,
    members: IntArray,
    future: npt.NDArray[np.bool_],
    win: Window,
    as_of: dt.date,
    options: SolveOptions,
    away: IntArray,
) -> tuple[SplitResult, IntArray, IntArray]:
    """Pools delivered before as-of stay where the old plan put them; the others are placed by
    the CP-SAT split model (split.py): the fewest KK moved, then the fewest device-days changed.
    Returns the model's answer, the placement of every pool, and the part of it that places
    devices a delivered pool still held (numbered after the plan in force's devices).
    ``away``: devices expected out on home visits per (kecamatan, day), taken from the office."""
    n_days, n_kec = data.regular_days, data.n_kec
    a, w_end = win.a, win.w_end
    old_by_kec_date: dict[tuple[int, dt.date], int] = defaultdict(int)
    for k, delivered, _avail in old.devices.values():
        old_by_kec_date[(k, delivered)] += 1
    fixed_by_kec_date: dict[tuple[int, dt.date], int] = defaultdict(int)
    for b in data.batches:
        if b.kecamatan is not None:
            fixed_by_kec_date[(b.kecamatan, b.delivery)] += b.count
    pools = data.pools
    split_all = np.zeros((len(pools), n_kec), dtype=np.int64)
    # What the split model places: every pool not yet delivered, and the devices of a pool
    # delivered before as-of that the plan in force left in the pool (it needed fewer). Those
    # placed before as-of stay where they are.
    items: list[tuple[int, int]] = [(p, b.count) for p, b in enumerate(pools) if b.delivery >= as_of]
    for p, b in enumerate(pools):
        if b.delivery < as_of:
            split_all[p] = [old_by_kec_date[(k, b.delivery)] - fixed_by_kec_date[(k, b.delivery)] for k in range(n_kec)]
            if (split_all[p] < 0).any() or split_all[p].sum() > b.count:
                raise InputError(
                    ls.path,
                    "deliveries",
                    f"the pool of {b.delivery} was delivered before as-of, but the old plan placed "
                    f"{int(np.maximum(split_all[p], 0).sum())} of its devices where the scenario has {b.count}",
                )
            if split_all[p].sum() < b.count:
                items.append((p, b.count - int(split_all[p].sum())))

    bounds = sorted({a, w_end, n_days} | {b.first_day for b in data.batches if a < b.first_day < n_days})
    segments = [(s, e) for s, e in itertools.pairwise(bounds) if e > s]
    fixed = np.zeros((len(segments), n_kec), dtype=np.int64)
    olddev = np.zeros_like(fixed)
    for w, (s, _e) in enumerate(segments):
        for b in data.batches:
            if b.first_day <= s and b.kecamatan is not None:
                fixed[w, b.kecamatan] += b.count
        for p, b in enumerate(pools):
            if b.delivery < as_of and b.first_day <= s:
                fixed[w] += split_all[p]
        for k, _delivered, avail in old.devices.values():
            if avail <= data.days[s]:
                olddev[w, k] += 1
    pool_items = [
        (count, next((w for w, (s, _e) in enumerate(segments) if s >= pools[p].first_day), len(segments)))
        for p, count in items
    ]
    top = int(fixed[-1].max() + sum(c for c, _ in pool_items)) if segments else 0
    moves_t, freed_t, free_t, least_t, free_least_t = cell_tables(data, old, members, future, a, w_end, top, away)
    seg_sum = lambda t: np.stack([t[:, s:e].sum(axis=1) for s, e in segments])  # noqa: E731
    hint = old_split_hint(old, [c for _p, c in items], [pools[p].delivery >= as_of for p, _c in items],
                           fixed_by_kec_date, as_of, n_kec)  # fmt: skip
    inp = SplitInput(
        segments, fixed, pool_items, olddev, seg_sum(moves_t), seg_sum(freed_t), seg_sum(free_t), top, hint
    )
    cpsat = cpsat_parameters(load_preset(options.preset))
    split = solve_split(inp, options, cpsat, options.time_limit * 0.5)
    if split.status == "INFEASIBLE":
        # Whole largest families leaving a cell may free more seats than it lacks, and those may
        # not fit: that is the rule's choice, no proof. The fluid relaxation (a cell frees only
        # its excess) decides: a placement it finds is used; if it has none, that is the proof.
        relaxed = dataclasses.replace(inp, freed=seg_sum(least_t), free=seg_sum(free_least_t))
        split = dataclasses.replace(solve_split(relaxed, options, cpsat, options.time_limit * 0.5), relaxed=True)
        if split.status == "INFEASIBLE":
            raise proven_short(data, relaxed, options, cpsat, win)
    if split.status == "UNKNOWN":
        raise NoSolutionError("no device placement found within the time limit; raise --time-limit")
    if split.status not in ("OPTIMAL", "FEASIBLE"):
        raise RuntimeError(f"device placement model: {split.status}")
    late = np.zeros_like(split_all)
    for i, (p, _count) in enumerate(items):
        split_all[p] += split.pools[i]
        if pools[p].delivery < as_of:
            late[p] = split.pools[i]
    return split, split_all, late


FLUID_MODEL = "re-plan fluid model (CP-SAT over the pool placement)"


FLUID_SCOPE = (
    "appointments before as-of kept, those in the notice window kept unless their cell lost seats, every KK at "
    "its office, families counted as members (packing ignored): a relaxation of every re-plan the rules allow"
)


def proven_short(
    data: ProblemData, relaxed: SplitInput, options: SolveOptions, cpsat: dict[str, Any], win: Window
) -> InfeasibleError:
    """The proof of a re-plan's "cannot": the fluid relaxation has no placement, and its least
    shortfall per kecamatan says where seats are missing and how many device-shifts would seat
    them after the notice window."""
    short = shortfall(relaxed, options, cpsat, options.time_limit * 0.25)
    binding = [
        ShortKecamatan(
            kecamatan=data.kecamatan_codes[k],
            short_residents=v,
            extra_device_shifts=-(-v // int(data.seats[k])),
        )
        for k, v in enumerate(short.short)
        if v > 0
    ]
    after = data.days[win.w_end] if win.w_end < data.regular_days else None
    proof = Proof(
        model=FLUID_MODEL,
        scope=FLUID_SCOPE,
        statement=(
            f"no placement of the pools seats every KK by {data.last_regular_day}: at least "
            f"{max(short.bound, 1):,} residents are left without a seat ({short.status.lower()} shortfall "
            f"{sum(short.short):,})"
        ),
        binding=binding,
        fix=(
            f"{sum(b.extra_device_shifts for b in binding):,} more device-shifts from {after} on, where listed"
            if after is not None
            else "no working day is left after the notice window"
        ),
    )
    return InfeasibleError(
        "the changed deliveries cannot seat every KK by the last regular day while keeping the appointments "
        f"before as-of and in the notice window (proven by the {FLUID_MODEL}"
        + (f"; short at {', '.join(b.kecamatan for b in binding)}" if binding else "")
        + ")",
        proof=proof,
    )


def devices_in_service(data: ProblemData, devices: list[Device], old: OldPlan) -> list[list[list[int]]]:
    """(kecamatan, day) -> devices serving the office; a device out on home visits serves none."""
    n_days = data.regular_days
    dev_index = {d.device_id: i for i, d in enumerate(devices)}
    in_service: list[list[list[int]]] = [[[] for _ in range(n_days)] for _ in range(data.n_kec)]
    for i, dev in enumerate(devices):
        for d in range(dev.first_day, n_days):
            in_service[dev.kecamatan][d].append(i)
    day_index = {d: i for i, d in enumerate(data.days[:n_days])}
    for dev_id, date in old.visit_days:
        if dev_id in dev_index and date in day_index:
            dv = dev_index[dev_id]
            row = in_service[devices[dv].kecamatan][day_index[date]]
            if dv in row:
                row.remove(dv)
    return in_service


def old_split_hint(
    old: OldPlan,
    counts: list[int],
    future: list[bool],
    fixed_by_kec_date: dict[tuple[int, dt.date], int],
    as_of: dt.date,
    n_kec: int,
) -> IntArray:
    """Warm start: the devices the old plan placed from deliveries on or after as-of, dealt to the
    new pools in delivery order (largest remainder), so an unchanged scenario is hinted with
    exactly the old placement. Devices a delivered pool still holds (``future`` False) are hinted
    where the old plan had most devices: it placed none of them."""
    left = np.zeros(n_kec, dtype=np.int64)
    for k, delivered, _avail in old.devices.values():
        if delivered >= as_of:
            left[k] += 1
    for (k, delivered), count in fixed_by_kec_date.items():
        if delivered >= as_of:
            left[k] -= count
    left = np.maximum(left, 0)
    hint = np.zeros((len(counts), n_kec), dtype=np.int64)
    for p, count in enumerate(counts):
        total = int(left.sum())
        if total == 0 or not future[p]:
            hint[p, 0] = count
            continue
        take = largest_remainder(left, min(count, total))
        take[0] += count - int(take.sum())
        hint[p] = take
        left = np.maximum(left - take, 0)
    return hint
