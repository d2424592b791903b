"""The queue offices really ran: kelurahan by kelurahan, each device-shift filled in turn.

Pool devices are shared out by kecamatan population (largest remainder), as a city office
without an optimiser would. Families keep their order: when the next KK does not fit in what is
left of a device-shift, it waits for the next one (first come, first served; no skipping ahead).
The calendar runs on past the deadline as far as the queue needs, so a late finish is measured,
not hidden.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import numpy.typing as npt

from ektp_opt.inputs.households import Households
from ektp_opt.problem import ProblemData
from ektp_opt.solver.apportion import largest_remainder
from ektp_opt.solver.metrics import plan_objectives

IntArray = npt.NDArray[np.int64]


@dataclasses.dataclass(frozen=True)
class QueuePlan:
    day: IntArray  # per KK, index into ``days``
    days: tuple[dt.date, ...]
    pool_split: IntArray  # (pool, kecamatan)
    objectives: dict[str, int]
    late: bool

    @property
    def completion_date(self) -> dt.date:
        return self.days[int(self.day.max())]


def proportional_split(data: ProblemData) -> IntArray:
    weight = np.bincount(data.kelurahan_kecamatan, weights=data.kelurahan_residents, minlength=data.n_kec)
    out = np.zeros((len(data.pools), data.n_kec), dtype=np.int64)
    for p, b in enumerate(data.pools):
        out[p] = largest_remainder(weight, b.count)
    return out


def queue_plan(data: ProblemData, h: Households) -> QueuePlan:
    """``data`` should be built with a calendar extended past the deadline."""
    split = proportional_split(data)
    devices = np.zeros((data.n_kec, data.n_days), dtype=np.int64)
    for b in data.batches:
        if b.kecamatan is not None and b.first_day < data.n_days:
            devices[b.kecamatan, b.first_day :] += b.count
    for p, b in enumerate(data.pools):
        if b.first_day < data.n_days:
            devices[:, b.first_day :] += split[p][:, None]
    home = data.kelurahan_kecamatan[h.kelurahan]
    order = np.lexsort((np.arange(len(h)), h.lingkungan, h.kelurahan))
    day = np.full(len(h), -1, dtype=np.int64)
    members = h.members.tolist()
    for k in range(data.n_kec):
        seats, shifts = int(data.seats[k]), int(data.shifts[k])
        queue = order[home[order] == k].tolist()
        slots = ((d, n) for d in range(data.n_days) for n in range(int(devices[k, d]) * shifts))
        room, d = 0, -1
        for i in queue:
            while room < members[i]:  # this device-shift is done; the family waits for the next
                nxt = next(slots, None)
                if nxt is None:
                    raise RuntimeError("the queue ran past the extended calendar")
                d, room = nxt[0], seats
            day[i] = d
            room -= members[i]
    objectives = plan_objectives(day, h.members, h.kelurahan, home, home)
    late = data.days[int(day.max())] > data.last_regular_day
    return QueuePlan(day, data.days, split, objectives, bool(late))
