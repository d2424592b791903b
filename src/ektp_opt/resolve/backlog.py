"""KK who missed an appointment (``--attendance``, or a campaign's records): the back of the queue.
After the notice window, a device-shift on a regular day takes them in its backlog seats and in the
regular seats the new plan left free; on a catch-up day, in the whole device-shift. Never a seat
someone else holds.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np

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
    seated: tuple[IntArray, IntArray, IntArray],
    w_end: int,
) -> dict[int, tuple[dt.date, int, str] | None]:
    """The earliest seat after the notice window where the family fits whole: on a regular day the
    device-shift's backlog seats (reserve_per_shift) plus its regular seats no appointment of the
    new plan holds, on a catch-up day the whole device-shift; first come (earliest missed
    appointment), first served."""
    sc = ls.scenario
    day, shift, device = seated  # the new plan's seats, every KK (movers included)
    load: dict[tuple[int, int, int, int], int] = defaultdict(int)
    for i in np.flatnonzero(day >= w_end).tolist():
        load[(int(old.site[i]), int(day[i]), int(shift[i]), int(device[i]))] += int(members[i])
    catch_up = working_days(data.last_regular_day + dt.timedelta(days=1), sc.deadline, ls.workdays, ls.holidays)
    out: dict[int, tuple[dt.date, int, str] | None] = {}
    by_kec: dict[int, list[int]] = defaultdict(list)
    for i in missed:
        by_kec[int(old.site[i])].append(i)
    for k, group in sorted(by_kec.items()):
        shifts = int(data.shifts[k])
        mine = [i for i, dv in enumerate(devices) if dv.kecamatan == k]
        days = [(t, data.days[t]) for t in range(w_end, data.regular_days)] + [(-1, d) for d in catch_up]
        slots: list[tuple[int, int, int, int]] = []
        slot_dates: list[dt.date] = []
        for t, date in days:
            for s in range(1, shifts + 1):
                for dv in mine:
                    if t >= 0:  # a regular day: the reserve and what the new plan left free
                        free = int(data.seats[k]) - load[(k, t, s, dv)]
                        room = sc.backlog.reserve_per_shift + max(0, free)
                    else:
                        room = sc.device.capacity_on(date) // shifts
                    if devices[dv].available_from <= date and room > 0:
                        slots.append((len(slots), s, dv, room))
                        slot_dates.append(date)
        filler = SlotFiller(slots)
        for i in sorted(group, key=lambda i: (old.date[i], i)):
            spot = filler.place(int(members[i]))
            out[i] = None if spot is None else (slot_dates[spot[0]], spot[1], devices[spot[2]].device_id)
    return out
