"""The day's sheet for one office: each device and shift with the KK and residents expected, the
backlog seats kept free, and the clock times of each shift."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ektp_opt.errors import InputError
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.plan.view import Plan


def shift_times(ls: LoadedScenario, kecamatan: str) -> list[tuple[dt.time, dt.time]]:
    """Equal parts of the scenario's working day, to the minute."""
    cal = ls.scenario.calendar
    n = ls.scenario.shifts_for(kecamatan)
    start = cal.day_start.hour * 60 + cal.day_start.minute
    length = (cal.day_end.hour * 60 + cal.day_end.minute - start) / n
    out = []
    for s in range(n):
        a, b = round(start + s * length), round(start + (s + 1) * length)
        out.append((dt.time(a // 60, a % 60), dt.time(b // 60, b % 60)))
    return out


@dataclass(frozen=True)
class RosterRow:
    device_id: str
    shift: int
    start: dt.time
    end: dt.time
    kk: int
    residents: int
    regular_seats: int
    backlog_seats: int


def roster(view: Plan, ls: LoadedScenario, kecamatan: str, date: dt.date) -> list[RosterRow]:
    if kecamatan not in view.kecamatan:
        raise InputError("--kecamatan", None, f"{kecamatan} is not a kecamatan of {ls.scenario.name}")
    if date not in view.days:
        raise InputError("--date", None, f"{date} is not a working day of {ls.scenario.name}")
    k, d = view.kecamatan.index(kecamatan), view.days.index(date)
    sc = ls.scenario
    times = shift_times(ls, kecamatan)
    per_shift = sc.device.capacity_per_day // sc.shifts_for(kecamatan)
    catch_up = d >= view.regular_days
    here = (view.site == k) & (view.day == d)
    rows = []
    for dev in np.flatnonzero(view.device_kec == k).tolist():
        if view.device_from[dev] > date:
            continue
        for s, (a, b) in enumerate(times, start=1):
            mine = here & (view.device == dev) & (view.shift == s)
            rows.append(
                RosterRow(
                    view.device_ids[dev], s, a, b, int(mine.sum()), int(view.members[mine].sum()),
                    0 if catch_up else per_shift - sc.backlog.reserve_per_shift,
                    per_shift if catch_up else sc.backlog.reserve_per_shift,
                )
            )  # fmt: skip
    return rows
