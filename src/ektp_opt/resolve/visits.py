"""Home visits in a re-plan: keep every mobile day that is still possible, re-plan the others,
and follow the scenario when it adds or drops its ``[home_visits]`` section.

A mobile day (one portable device, one kelurahan or cluster, up to ``visits_per_day`` homes) stays
as it is when it is past, or when its device is still one of its kecamatan's portable devices, in
service that day, on a regular working day. Otherwise the same group of homes gets the latest
regular day after the notice window on which one of the kecamatan's portable devices is in service
and free: the planner's rule (a device taken from the office on the last days delays the office
least), and the office KK booked on that device that day then move by the cell rule like any KK
whose device is gone. Each KK of a changed visit gets a line in changes.csv saying why; a group
no portable device can take is listed unserved (empty date), never dropped.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from ektp_opt.problem import ProblemData
from ektp_opt.solver.assign import Device

Visit = tuple[int, dt.date | None, str, int]  # (kk, date or None when unserved, device id, order)


@dataclass
class VisitPlan:
    rows: list[Visit]  # the new home_visits.csv
    changes: list[tuple[int, dt.date | None, str, dt.date | None, str, str]] = field(default_factory=list)
    # (kk, old date, old device, new date, new device, reason) per KK whose visit changed

    @property
    def mobile_days(self) -> list[tuple[str, dt.date]]:
        return sorted({(dev, date) for _kk, date, dev, _o in self.rows if date is not None})


def replan_visits(
    data: ProblemData,
    portable: dict[int, int],
    kecamatan_of: dict[int, int],
    groups: list[tuple[dt.date | None, str, list[int]]],
    devices: list[Device],
    w_end: int,
    as_of: dt.date,
    why_new: str | None = None,
) -> VisitPlan:
    """Keep or move each group (date, device, KK in route order) of one plan's home visits; a
    group without a date gets one. ``why_new``: the groups are newly planned (the scenario added
    [home_visits], no dates yet); every KK's line then says so. ``portable``: kecamatan ->
    portable devices (its first devices in id order, as the planner takes them)."""
    n_days = data.regular_days
    day_of = {d: i for i, d in enumerate(data.days[:n_days])}
    devices_of: dict[int, list[int]] = defaultdict(list)
    for i, dv in enumerate(devices):
        devices_of[dv.kecamatan].append(i)
    by_id = {dv.device_id: i for i, dv in enumerate(devices)}
    out = VisitPlan([])
    used: set[tuple[int, int]] = set()
    lost: list[tuple[dt.date | None, str, list[int], str]] = []
    for date, dev, kks in groups:  # in the plan in force's order, so kept visits read as before
        k = kecamatan_of[kks[0]]
        i = by_id.get(dev, -1)
        mine = devices_of[k][: portable.get(k, 0)]
        if date is not None and date < as_of:
            why = None  # it happened
        elif date is None:
            why = why_new or "no portable device reached it"
        elif i not in mine:
            why = f"{dev} is not a portable device of this kecamatan in the changed plan"
        elif date not in day_of:
            why = f"{date} is no longer a regular working day"
        elif devices[i].first_day > day_of[date]:
            why = f"{dev} is not in service on {date}"
        else:
            why = None  # still possible (inside the notice window too: it was announced)
        if why is None:
            used.add((i, day_of.get(date, -1) if date is not None else -1))
            out.rows += [(kk, date, dev, n) for n, kk in enumerate(kks, start=1)]
        else:
            lost.append((date, dev, kks, why))
    for date, dev, kks, why in lost:
        k = kecamatan_of[kks[0]]
        mine = devices_of[k][: portable.get(k, 0)]
        spot = next(
            (
                (i, d)
                for d in range(n_days - 1, w_end - 1, -1)
                for i in mine
                if devices[i].first_day <= d and (i, d) not in used
            ),
            None,
        )
        if spot is None:
            reason = f"home visit: {why}; no portable device of its kecamatan is free after the notice window"
            out.rows += [(kk, None, "", n) for n, kk in enumerate(kks, start=1)]
            out.changes += [(kk, date, dev, None, "", reason) for kk in kks]
            continue
        used.add(spot)
        i, d = spot
        new_dev, new_date = devices[i].device_id, data.days[d]
        reason = f"home visit: {why}; visit on {new_date} with {new_dev}"
        out.rows += [(kk, new_date, new_dev, n) for n, kk in enumerate(kks, start=1)]
        out.changes += [(kk, date, dev, new_date, new_dev, reason) for kk in kks]
    return out
