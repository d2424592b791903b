"""KK-level assignment: turn resident quotas into KK in device-shifts (FORMULATION.md §6).

The aggregate says "kelurahan l sends q residents to site k on day d". Two steps make that real:

1. Per kelurahan, pick for each quota a set of whole KK whose members sum to exactly q. The
   quota of its *last* day is picked first, from the end of the walking order (lingkungan, then
   card order), so that the kelurahan's leftovers cannot strand a family across a day boundary;
   the others take KK in walking order, skipping a KK that would overshoot and pulling a smaller
   one forward instead.
2. Per site-day, fill device-shifts one at a time (shift-major, so a part-full day leaves its
   last shifts empty): largest KK first, each slot closed exactly by one KK or a pair.

With ~11% single-member KK both steps are exact in practice. Whatever is not (a KK that fits no
slot) is carried to the site's next day, counted in ``Assignment.carried``, and shows up honestly
in the measured objective values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ektp_opt.errors import EktpError
from ektp_opt.inputs.households import Households
from ektp_opt.problem import ProblemData
from ektp_opt.solver.compact import Quota


class PlanningError(EktpError):
    """The assignment could not place every KK: a bug, never a user error."""


@dataclass(frozen=True)
class Device:
    device_id: str
    kecamatan: int
    delivery: dt.date
    available_from: dt.date
    first_day: int


@dataclass
class Assignment:
    site: npt.NDArray[np.int32]
    day: npt.NDArray[np.int32]
    shift: npt.NDArray[np.int8]  # 1-based
    device: npt.NDArray[np.int32]  # index into devices
    devices: list[Device]
    carried: int  # resident-days the packing ran behind the aggregate's quotas (0 = exact)


def place_devices(
    data: ProblemData, split: npt.NDArray[np.int64], late: npt.NDArray[np.int64] | None = None
) -> list[Device]:
    """One row per physical device; ids are unique in the city and stable for a given split.
    ``late`` (pool, kecamatan), a part of ``split``: devices a re-plan sends from a pool that was
    delivered earlier; they are numbered after every other device of their kecamatan, so the ids
    of the plan in force stay what they were."""
    rows: list[tuple[int, int, int, dt.date, dt.date, int]] = []
    pools = data.pools
    for b in data.batches:
        if b.kecamatan is not None:
            rows += [(b.kecamatan, 0, b.first_day, b.delivery, b.available_from, b.delivery_index)] * b.count
    for p, b in enumerate(pools):
        for k in range(data.n_kec):
            n_late = int(late[p, k]) if late is not None else 0
            rows += [(k, 0, b.first_day, b.delivery, b.available_from, b.delivery_index)] * (int(split[p, k]) - n_late)
            rows += [(k, 1, b.first_day, b.delivery, b.available_from, b.delivery_index)] * n_late
    rows.sort(key=lambda r: (r[0], r[1], r[2], r[5]))
    devices: list[Device] = []
    count = [0] * data.n_kec
    for k, _late, first, delivery, avail, _ in rows:
        count[k] += 1
        devices.append(Device(f"{data.kecamatan_codes[k]}-D{count[k]:03d}", k, delivery, avail, first))
    return devices


def office_slots(
    data: ProblemData, devices: list[Device], k: int, d: int, at_site: list[int] | None = None
) -> list[tuple[int, int]]:
    """(shift, device index) of every device-shift kecamatan ``k`` can staff on day ``d``, in
    the order they are filled: shift-major, devices in service, those out on home visits and
    those no operator can staff left out."""
    if at_site is None:
        at_site = [i for i, dev in enumerate(devices) if dev.kecamatan == k]
    away = int(data.mobile[k, d]) if data.mobile is not None and d < data.mobile.shape[1] else 0
    # a kecamatan's first devices are its portable ones: out on home visits, not in the office
    present = [i for i in at_site if devices[i].first_day <= d][away:]
    slots = [(s, i) for s in range(1, int(data.shifts[k]) + 1) for i in present]
    if data.slot_limit[k] >= 0:
        slots = slots[: int(data.slot_limit[k])]
    return slots


def _pick_exact(
    seq: list[int], members: list[int], taken: bytearray, target: int, backward: bool
) -> tuple[list[int], int]:
    """Whole KK from ``seq`` summing to ``target`` (or as close below as the KK allow)."""
    chosen: list[int] = []
    rest = target
    order = reversed(seq) if backward else iter(seq)
    for i in order:
        if rest == 0:
            break
        if not taken[i] and members[i] <= rest:
            taken[i] = 1
            chosen.append(i)
            rest -= members[i]
    return chosen, rest


class _OutOfSteps(Exception):
    pass


EXACT_PACK_STEPS = 50_000  # search nodes for one day's exact packing; a day is tens of KK


def exact_bins(counts: list[int], n_slots: int, seats: int) -> list[list[int]] | None:
    """KK sizes per slot such that every KK fits (``counts[s]`` KK of s members), found by a
    depth-first search, or None if there is none (or none within EXACT_PACK_STEPS steps).

    Each slot in turn takes the largest KK left (some slot must; slots are interchangeable), then
    a set of smaller ones; the seats left empty over all slots may not exceed the day's slack,
    which on a full day makes every slot close exactly. Failed states are remembered."""
    total = sum(s * c for s, c in enumerate(counts))
    slack = n_slots * seats - total
    if slack < 0 or any(counts[seats + 1 :]):  # a KK larger than a slot fits in none
        return None
    failed: set[tuple[tuple[int, ...], int, int]] = set()
    steps = [0]

    def fill(cap: int, least: int, largest: int) -> Iterator[list[int]]:
        """Multisets of sizes <= largest from counts, summing to [least, cap], fuller first."""
        if cap >= least and least <= 0:
            yield []
        for s in range(min(cap, largest), 0, -1):
            if counts[s]:
                counts[s] -= 1
                for rest in fill(cap - s, least - s, s):
                    yield [s, *rest]
                counts[s] += 1

    def search(bins_left: int, slack: int) -> list[list[int]] | None:
        largest = next((s for s in range(len(counts) - 1, 0, -1) if counts[s]), 0)
        if not largest:
            return []
        if bins_left == 0:
            return None
        key = (tuple(counts), bins_left, slack)
        if key in failed:
            return None
        steps[0] += 1
        if steps[0] > EXACT_PACK_STEPS:
            raise _OutOfSteps
        counts[largest] -= 1
        for rest in fill(seats - largest, seats - largest - slack, largest):
            used = largest + sum(rest)
            # ``fill`` took ``rest`` out of counts while it yields it
            found = search(bins_left - 1, slack - (seats - used))
            if found is not None:
                counts[largest] += 1
                return [[largest, *rest], *found]
        counts[largest] += 1
        failed.add(key)
        return None

    try:
        return search(n_slots, slack)
    except _OutOfSteps:
        return None


def pack_slots(items: list[int], members: list[int], n_slots: int, seats: int) -> tuple[list[list[int]], list[int]]:
    """Fill slots one at a time: the largest KK that fits while the slot has room for more than
    any one KK, then close it exactly with one KK or a pair when such exist. Closing with a
    matching pair, not "largest then whatever", is what keeps single-member KK for the slots that
    truly need them, so every slot of a full day closes exactly. Returns the filled slots and the
    KK that fit nowhere."""
    top = max((members[i] for i in items), default=0)
    by_size: list[list[int]] = [[] for _ in range(top + 1)]  # by_size[s]: KK of s members
    for i in sorted(items, reverse=True):  # pop() then yields walking order
        by_size[members[i]].append(i)

    bins: list[list[int]] = []
    big = top  # no KK left is larger
    for _ in range(n_slots):
        rem, kks = seats, []
        while rem > 0:
            if rem <= top and by_size[rem]:  # one KK closes the slot
                kks.append(by_size[rem].pop())
                break
            # The pair with the largest first KK: that KK has at least rem/2 members (its
            # partner would otherwise be the larger one), and the partner at most ``top``.
            pair = 0
            for s in range(min(rem - 1, top), rem // 2 + rem % 2 - 1, -1):
                other = rem - s
                if other > top:
                    break
                if by_size[s] and by_size[other] and (s != other or len(by_size[s]) >= 2):
                    pair = s
                    break
            if pair:
                kks.append(by_size[pair].pop())
                kks.append(by_size[rem - pair].pop())
                break
            while big and not by_size[big]:  # sizes only empty out: the largest left only falls
                big -= 1
            largest = big if big <= rem else next((s for s in range(rem, 0, -1) if by_size[s]), 0)
            if not largest:
                break
            kks.append(by_size[largest].pop())
            rem -= largest
        if not kks:
            break
        bins.append(kks)
    left = [i for s in range(top, 0, -1) for i in by_size[s]]
    if left and sum(members[i] for i in items) <= n_slots * seats:
        counts = [0] * (top + 1)
        for i in items:
            counts[members[i]] += 1
        exact = exact_bins(counts, n_slots, seats)
        if exact is not None:  # the greedy stranded a KK that an exact packing seats
            return _seat_sizes(items, members, sorted(exact, key=sum, reverse=True)), []
    return bins, left


def _seat_sizes(items: list[int], members: list[int], sizes: list[list[int]]) -> list[list[int]]:
    """Slots of KK from slots of sizes, KK of each size taken in walking order."""
    by_size: dict[int, list[int]] = {}
    for i in sorted(items, reverse=True):
        by_size.setdefault(members[i], []).append(i)
    return [[by_size[s].pop() for s in slot] for slot in sizes]


def _walking_picks(
    seq: list[int], members: list[int], taken: bytearray, qs: list[tuple[int, int, int]]
) -> list[tuple[tuple[int, int], list[int]]] | None:
    """A kelurahan's KK for its quotas ``(day, site, residents)`` in walking order: the last
    day's from the end of the order, the others from its start. None (with the picks left
    marked taken) when some quota could not be met exactly."""
    out: list[tuple[tuple[int, int], list[int]]] = []
    d_last, k_last, q_last = qs[-1]
    exact = True
    if len(qs) > 1:
        picked, short = _pick_exact(seq, members, taken, q_last, backward=True)
        out.append(((k_last, d_last), picked))
        exact &= short == 0
        qs = qs[:-1]
    for d, k, q in qs:
        picked, short = _pick_exact(seq, members, taken, q, backward=False)
        out.append(((k, d), picked))
        exact &= short == 0
    return out if exact and all(taken[i] for i in seq) else None


def _size_counts_for(avail: list[int], target: int) -> list[int] | None:
    """How many KK of each size (``avail[s]`` available) sum to exactly ``target``: a bounded
    subset sum over sizes, largest sizes first. None if no combination does."""
    reach: list[list[int] | None] = [None] * (target + 1)
    reach[0] = [0] * len(avail)
    for size in range(len(avail) - 1, 0, -1):
        for total in range(target, -1, -1):  # each total once per size: bounded by avail[size]
            base = reach[total]
            if base is None or base[size]:
                continue
            for n in range(1, avail[size] + 1):
                t = total + n * size
                if t > target:
                    break
                if reach[t] is None:
                    counts = list(base)
                    counts[size] = n
                    reach[t] = counts
        if reach[target] is not None:
            break
    return reach[target]


def _mixed_counts(avail: list[int], target: int) -> list[int] | None:
    """Family counts per size summing to ``target``, in about the kelurahan's own mix of sizes
    (a day of only 6-member families packs badly into slots): most of the target as a
    proportional share of each size, the rest by an exact subset sum."""
    total = sum(s * n for s, n in enumerate(avail))
    if total <= 0:
        return [0] * len(avail) if target == 0 else None
    for share in (0.9, 0.7, 0.4, 0.0):
        base = [int(n * share * target / total) for n in avail]
        rest = target - sum(s * n for s, n in enumerate(base))
        extra = _size_counts_for([a - b for a, b in zip(avail, base, strict=True)], rest) if rest >= 0 else None
        if extra is not None:
            return [b + e for b, e in zip(base, extra, strict=True)]
    return None


def _size_picks(
    seq: list[int], members: list[int], taken: bytearray, qs: list[tuple[int, int, int]]
) -> list[tuple[tuple[int, int], list[int]]]:
    """The smaller quotas first, each by an exact count of families per size (then the first such
    families in walking order); the largest takes what is left. Always places every KK; a quota
    it cannot meet exactly (rare) is met as closely as the sizes allow."""
    by_size: dict[int, list[int]] = {}
    for i in reversed(seq):
        if not taken[i]:
            by_size.setdefault(members[i], []).append(i)
    top = max(by_size, default=0)
    ordered = sorted(qs, key=lambda q: q[2])
    out: list[tuple[tuple[int, int], list[int]]] = []
    for d, k, q in ordered[:-1]:
        avail = [len(by_size.get(s, ())) for s in range(top + 1)]
        counts = _mixed_counts(avail, q)
        picked: list[int] = []
        if counts is None:  # as close below as walking order allows
            rest = q
            for s in range(top, 0, -1):
                while rest >= s and by_size.get(s):
                    picked.append(by_size[s].pop())
                    rest -= s
        else:
            for s, n in enumerate(counts):
                picked += [by_size[s].pop() for _ in range(n)]
        out.append(((k, d), picked))
    d, k, _q = ordered[-1]
    out.append(((k, d), [i for s in by_size for i in by_size[s]]))
    for _key, picked in out:
        for i in picked:
            taken[i] = 1
    return out


def trade_to_pack(
    todo: list[int], later: list[int], members: list[int], n_slots: int, seats: int
) -> tuple[list[list[int]], list[int]] | None:
    """When a day's families do not pack into its slots, swap at most two of them for at most two
    of a later day's with the same total members (e.g. a 4 for a 3 and a 1) so that they do: the
    slots, and the later day's new list. Both days keep their resident totals, so the aggregate's
    completion and waiting stay met. None if no such trade packs."""
    have: dict[int, list[int]] = {}
    for i in todo:
        have.setdefault(members[i], []).append(i)
    offer: dict[int, list[int]] = {}
    for i in later:
        offer.setdefault(members[i], []).append(i)
    top = max([*have, *offer], default=0)
    base = [len(have.get(s, ())) for s in range(top + 1)]

    def groups(pool: dict[int, list[int]]) -> list[tuple[int, ...]]:
        sizes = sorted(pool)
        out: list[tuple[int, ...]] = [(a,) for a in sizes]
        out += [(a, b) for i, a in enumerate(sizes) for b in sizes[i:] if a != b or len(pool[a]) >= 2]
        return out

    takes = groups(offer)
    for give in groups(have):
        for take in takes:
            if sum(give) != sum(take) or sorted(give) == sorted(take):
                continue
            counts = list(base)
            for g in give:
                counts[g] -= 1
            for t in take:
                counts[t] += 1
            sizes = exact_bins(counts, n_slots, seats)
            if sizes is None:
                continue
            gone = [have[g][-1 - give[:j].count(g)] for j, g in enumerate(give)]
            come = [offer[t][take[:j].count(t)] for j, t in enumerate(take)]
            day = [i for i in todo if i not in gone] + come
            rest = [i for i in later if i not in come] + gone
            return _seat_sizes(day, members, sorted(sizes, key=sum, reverse=True)), rest
    return None


def assign_households(
    data: ProblemData,
    households: Households,
    split: npt.NDArray[np.int64],
    quotas: Quota,
    horizon: int,
) -> Assignment:
    n = len(households)
    members = households.members.tolist()
    home_visit = data.home_visits is not None
    # KK visited at home never take an office seat.
    taken = bytearray(households.home_visit.astype(np.uint8).tobytes()) if home_visit else bytearray(n)
    order = np.lexsort((np.arange(n), households.lingkungan, households.kelurahan))
    starts = np.searchsorted(households.kelurahan[order], np.arange(data.n_kel + 1))

    # Step 1: exact subsets per (kelurahan, site, day).
    per_kel: dict[int, list[tuple[int, int, int]]] = {}
    for (k, d), items in quotas.items():
        for kel, q in items:
            per_kel.setdefault(kel, []).append((d, k, q))
    chosen: dict[tuple[int, int], list[int]] = {}
    for kel, qs in per_kel.items():
        qs.sort()
        seq = order[starts[kel] : starts[kel + 1]].tolist()
        picks = _walking_picks(seq, members, taken, qs)
        if picks is None:  # walking order missed a quota: pick by family sizes instead
            for i in seq:
                taken[i] = 0 if not (home_visit and households.home_visit[i]) else 1
            picks = _size_picks(seq, members, taken, qs)
        for key, picked in picks:
            chosen.setdefault(key, []).extend(picked)

    # Step 2: pack each site-day into device-shifts.
    devices = place_devices(data, split)
    by_site: list[list[int]] = [[] for _ in range(data.n_kec)]
    for i, dev in enumerate(devices):
        by_site[dev.kecamatan].append(i)
    site = np.full(n, -1, dtype=np.int32)
    day = np.full(n, -1, dtype=np.int32)
    shift = np.zeros(n, dtype=np.int8)
    device = np.full(n, -1, dtype=np.int32)
    carried = 0
    for k in range(data.n_kec):
        seats = int(data.seats[k])
        carry: list[int] = []
        for d in range(data.n_days):
            todo = carry + chosen.get((k, d), [])
            if not todo:
                if d >= horizon:
                    break
                continue
            slots = office_slots(data, devices, k, d, by_site[k])
            bins, carry = pack_slots(todo, members, len(slots), seats)
            later = next((e for e in range(d + 1, data.n_days) if chosen.get((k, e))), None)
            if carry and later is not None:
                # Trade a few families with the next day this office serves, sizes for sizes,
                # so that this day packs and both days keep their resident totals.
                traded = trade_to_pack(todo, chosen[(k, later)], members, len(slots), seats)
                if traded is not None:
                    bins, chosen[(k, later)] = traded
                    carry = []
            for (s, dev_i), kks in zip(slots, bins, strict=False):
                for i in kks:
                    site[i], day[i], shift[i], device[i] = k, d, s, dev_i
            carried += sum(members[i] for i in carry)
        if carry:
            raise PlanningError(
                f"could not place {sum(members[i] for i in carry)} residents at "
                f"{data.kecamatan_codes[k]} within the regular days"
            )
    unplaced = (site < 0) & ~households.home_visit if home_visit else site < 0
    if unplaced.any():
        raise PlanningError(f"{int(unplaced.sum())} KK left without an appointment")
    return Assignment(site, day, shift, device, devices, carried)
