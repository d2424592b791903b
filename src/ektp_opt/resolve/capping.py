"""A cap on each move's delay (``--max-delay``): the per-kecamatan movers, the smallest cap a plan
meets and the seating within a cap (``cap.py`` bounds, ``capped.py`` seats).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np

from ektp_opt.errors import DelayCapError
from ektp_opt.resolve.cap import smallest_feasible_cap
from ektp_opt.resolve.capped import KecamatanMovers, reach_of
from ektp_opt.resolve.records import CAP_SCOPE, CapBound, Mover, Prepared
from ektp_opt.resolve.seating import Seating, change_to, fluid_fill, staffed_of
from ektp_opt.results import CapDiagnosis, KecamatanCapFigures, Proof


def kecamatan_movers(prep: Prepared, seating: Seating) -> dict[int, KecamatanMovers]:
    """Per kecamatan with KK that must move: its free seats after the notice window, the movers
    (with the last day at delay 0 of each) and the KK that keep a day after the window."""
    data, old, members, win, hh = prep.data, prep.old, prep.members, prep.win, prep.households
    w_end, n_days, load = win.w_end, data.regular_days, seating.load
    reason_of = {i: (why, forced) for i, why, forced in seating.movers}
    moving = np.zeros(len(members), dtype=bool)
    moving[list(reason_of)] = True
    keep = np.flatnonzero(~win.past & ~old.visited & ~moving & (seating.day >= w_end))
    keepers_of: dict[int, list[tuple[int, int, int, int, int]]] = defaultdict(list)
    for i, k, d, s, dv in zip(
        keep.tolist(),
        old.site[keep].tolist(),
        seating.day[keep].tolist(),
        seating.shift[keep].tolist(),
        seating.device[keep].tolist(),
        strict=True,
    ):
        keepers_of[k].append((i, int(members[i]), d, s, dv))
    must_of: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for i in sorted(reason_of):
        must_of[int(old.site[i])].append((i, int(members[i]), reach_of(data.days, old.date[i])))
    out = {}
    for k, must in sorted(must_of.items()):
        seats = int(data.seats[k])
        slots = [
            (d, s, dv, seats - load[(k, d, s, dv)])
            for d in range(w_end, n_days)
            for s in range(1, int(data.shifts[k]) + 1)
            for dv in prep.in_service[k][d]
        ]
        staffed = staffed_of(load, k)
        kks = [i for i, _m, _r in must] + [r[0] for r in keepers_of[k]]
        order: dict[int, tuple[int, dt.date]] = {i: (int(hh.kelurahan[i]), old.date[i]) for i in kks}
        cell = {i: (int(old.day[i]), int(old.shift[i])) for i, _m, _r in must}
        out[k] = KecamatanMovers(
            slots, staffed, int(data.slot_limit[k]), n_days, w_end, must, keepers_of[k], order, cell
        )
    return out


def smallest_caps(movers: dict[int, KecamatanMovers], n_days: int) -> dict[int, tuple[int, int]]:
    """Per kecamatan: (no plan meets a smaller cap, the smallest cap the seating meets)."""
    out = {}
    for k, km in movers.items():
        low = smallest_feasible_cap(km.model, 2 * n_days)
        if low is None:  # cannot happen once R1 found a placement; kept as a clear failure
            raise RuntimeError(f"kecamatan {k}: no cap fits its movers")
        met = low
        while not km.plan(met).ok and met < 2 * n_days:
            met += 1
        out[k] = (low, met)
    return out


def cap_diagnosis(prep: Prepared, cap: int, movers: dict[int, KecamatanMovers]) -> CapDiagnosis:
    """The smallest cap that can be met, proven below and checked by seating above, per
    kecamatan and for the city (the largest of them)."""
    caps = smallest_caps(movers, prep.data.regular_days)
    smallest = max(met for _low, met in caps.values())
    moves = sum(km.plan(smallest).moves for km in movers.values())
    codes = prep.data.kecamatan_codes
    bound = max(low for low, _met in caps.values())
    proof = Proof(
        model="delay-cap covering model (per kecamatan, members by prefix of days after the notice window)",
        statement=f"no re-plan keeps every moved KK within {cap} working days: {bound} at the least",
        scope=CAP_SCOPE + "; per_kecamatan says where it binds",
        fix=f"--max-delay {smallest} (met by the plan whose moves diagnosis.json counts)",
    )
    return CapDiagnosis(
        scenario=prep.ls.scenario.name,
        as_of=prep.as_of,
        max_delay=cap,
        meets_cap=False,
        smallest_cap=smallest,
        smallest_cap_bound=bound,
        moves_at_smallest_cap=moves,
        scope=CAP_SCOPE,
        per_kecamatan=[
            KecamatanCapFigures(
                kecamatan=codes[k], must_move=len(movers[k].must), smallest_cap_bound=low, smallest_cap=met
            )
            for k, (low, met) in sorted(caps.items())
        ],
        proof=proof,
    )


def seat_capped(prep: Prepared, seating: Seating, cap: int) -> tuple[int, int, CapBound]:
    """Seat the movers within ``cap`` working days of their old appointments, moving the fewest
    extra KK (cap.py, capped.py). Raises DelayCapError with the smallest cap that can be met."""
    data, old, members, devices = prep.data, prep.old, prep.members, prep.devices
    movers = kecamatan_movers(prep, seating)
    outcomes = {k: km.plan(cap) for k, km in movers.items()}
    if not all(o.ok for o in outcomes.values()):
        raise DelayCapError(
            f"no re-plan keeps every moved KK within {cap} working days", cap_diagnosis(prep, cap, movers)
        )
    reason_of = {i: (why, forced) for i, why, forced in seating.movers}
    bound_last, bound_wait = -1, 0
    extra_all: set[int] = set()
    relocated_all: set[int] = set()
    for k, out in sorted(outcomes.items()):
        km = movers[k]
        free = km.model.free.copy()
        for i in out.extra:
            d, s, dv = int(seating.day[i]), int(seating.shift[i]), int(seating.device[i])
            seating.load[(k, d, s, dv)] -= int(members[i])
            free[d] += int(members[i])
            reason_of[i] = (
                f"{old.date[i]} shift {old.shift[i]}: makes room for KK moved within the cap of {cap} working days",
                False,
            )
            seating.movers.append(Mover(i, reason_of[i][0], False))
            extra_all.add(i)
        last, wait = fluid_fill(free.tolist(), sum(int(members[i]) for i in out.placed))
        bound_last, bound_wait = max(bound_last, last), bound_wait + wait
        for i, (d, s, dv) in sorted(out.placed.items()):
            seating.day[i], seating.shift[i], seating.device[i] = d, s, dv
            seating.load[(k, d, s, dv)] += int(members[i])
        for i, (d, s, dv) in sorted(out.relocated.items()):  # same date and shift, another device
            seating.load[(k, d, s, int(seating.device[i]))] -= int(members[i])
            seating.device[i] = dv
            seating.load[(k, d, s, dv)] += int(members[i])
            relocated_all.add(i)
    seating.changes = [c for c in seating.changes if c.kk not in extra_all and c.kk not in relocated_all]
    for i in sorted(relocated_all):
        d, s, dv = int(seating.day[i]), int(seating.shift[i]), int(seating.device[i])
        if devices[dv].device_id != old.device[i]:
            seating.changes.append(
                change_to(old, data, devices, i, d, s, dv, "new device, same date and shift", False, False)
            )
    for k in sorted(outcomes):
        for i in sorted(outcomes[k].placed):
            why, forced = reason_of[i]
            d, s, dv = int(seating.day[i]), int(seating.shift[i]), int(seating.device[i])
            moved = (d, s) != (int(old.day[i]), int(old.shift[i]))  # it may land in its own shift again
            if not moved and devices[dv].device_id == old.device[i]:
                continue
            reason = why if moved else "new device, same date and shift"
            seating.changes.append(change_to(old, data, devices, i, d, s, dv, reason, moved, forced and moved))
    must = sum(len(km.must) for km in movers.values())
    moved_kk = {c.kk for c in seating.changes if c.is_move}
    # A must-move KK seated back in its own shift (room freed by the cap's extra moves) is no move:
    # the bound assumed it moves, so it is no longer called proven.
    back = sum(1 for km in movers.values() for i, _m, _r in km.must if i not in moved_kk)
    bound = CapBound(
        must - back,
        len(extra_all & moved_kk),
        sum(o.bound for o in outcomes.values()),
        back == 0 and all(o.status == "OPTIMAL" for o in outcomes.values()),
    )
    return bound_last, bound_wait, bound
