"""KK who missed an appointment (``--attendance``): backlog seats after the notice window, then
catch-up days, never a regular seat someone else holds.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from ektp_opt.inputs.calendar import working_days
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.problem import ProblemData
from ektp_opt.resolve.oldplan import OldPlan
from ektp_opt.resolve.records import IntArray
from ektp_opt.resolve.seats import SlotFiller
from ektp_opt.solver.assign import Device


def book_backlog(
    ls: LoadedScenario,
    data: ProblemData,
    devices: list[Device],
    missed: list[int],
    old: OldPlan,
    members: IntArray,
    load: dict[tuple[int, int, int, int], int],
    w_end: int,
) -> dict[int, tuple[dt.date, int, str] | None]:
    """Backlog seats (reserve_per_shift per device-shift) after the notice window, then whole
    device-shifts on catch-up days; first come (earliest missed appointment), first served."""
    sc = ls.scenario
    catch_up = working_days(data.last_regular_day + dt.timedelta(days=1), sc.deadline, ls.workdays, ls.holidays)
    out: dict[int, tuple[dt.date, int, str] | None] = {}
    by_kec: dict[int, list[int]] = defaultdict(list)
    for i in missed:
        by_kec[int(old.site[i])].append(i)
    for k, group in sorted(by_kec.items()):
        shifts = int(data.shifts[k])
        mine = [i for i, dv in enumerate(devices) if dv.kecamatan == k]
        days = list(data.days[w_end : data.regular_days]) + catch_up
        slots: list[tuple[int, int, int, int]] = []
        slot_dates: list[dt.date] = []
        for date in days:
            room = (
                sc.backlog.reserve_per_shift if date <= data.last_regular_day else sc.device.capacity_per_day // shifts
            )
            for s in range(1, shifts + 1):
                for dv in mine:
                    if devices[dv].available_from <= date and room > 0:
                        slots.append((len(slots), s, dv, room))
                        slot_dates.append(date)
        filler = SlotFiller(slots)
        for i in sorted(group, key=lambda i: (old.date[i], i)):
            spot = filler.place(int(members[i]))
            out[i] = None if spot is None else (slot_dates[spot[0]], spot[1], devices[spot[2]].device_id)
    return out
