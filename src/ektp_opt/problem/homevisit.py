"""Home-visit (mobile) enrolment days for residents who cannot come to the office.

Per kecamatan, the flagged KK are grouped into *mobile days*: at most ``visits_per_day`` KK, one
kelurahan (or, with ``cluster_km``, kelurahan whose centroids all lie within that distance). A
mobile day takes one portable device out of the office for the whole day.

*When.* A mobile day removes one device-day of office seats wherever it is placed, so the seats
lost are fixed by the number of mobile days; what the choice of day changes is the office plan.
Taking capacity from the latest regular days never lowers the seats available before any date,
so it never delays the earliest office completion nor raises the least waiting: the mobile days
go on the last regular days, as many per day as there are portable devices in service. The office
planner then sees that capacity removed (``ProblemData.mobile``) and plans around it, so the
completion moves only by what the lost seats require.

*Route.* KK carry no street address, only their kelurahan and lingkungan. A day's visits follow
the kelurahan in nearest-neighbour order from the office (centroids), and inside a kelurahan go
lingkungan by lingkungan: the walking order the lurah's staff use for invitations.

KK that no portable device can reach in time are never dropped: they are returned as
``unserved`` with the number of portable devices that would serve them.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ektp_opt.inputs.admin import AdminData, haversine_km
from ektp_opt.inputs.households import Households
from ektp_opt.inputs.scenario import HomeVisitSpec

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class MobileDay:
    kecamatan: int
    day: int  # index into the regular days
    slot: int  # which portable device of the kecamatan (0 = its first device)
    kk: tuple[int, ...]  # household indices, in route order
    device: int = -1  # index into the plan's devices, once they are placed (advance_mobile_days)


@dataclass
class HomeVisitPlan:
    mobile: IntArray  # (kecamatan, regular day): portable devices away from the office
    days: list[MobileDay] = field(default_factory=list)
    unserved: dict[int, list[int]] = field(default_factory=dict)  # kecamatan -> KK without a visit
    portable_needed: dict[int, int] = field(default_factory=dict)  # kecamatan -> portable devices that would do

    @property
    def visited(self) -> int:
        return sum(len(d.kk) for d in self.days)


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return haversine_km(*a, *b)


def _day_loads(
    kels: list[int], flagged: dict[int, list[int]], per_day: int, cluster_km: float, admin: AdminData, office: int
) -> list[list[int]]:
    """Whole days per kelurahan first, then the remainders packed first-fit into shared days
    whose kelurahan are all within ``cluster_km`` of each other."""
    where = {i: (k.lat, k.lon) for i, k in enumerate(admin.kelurahan)}
    home = (admin.kecamatan[office].lat, admin.kecamatan[office].lon)
    loads: list[list[int]] = []
    partial: list[tuple[list[int], list[int]]] = []  # (kelurahan in the day, KK)
    for kel in sorted(kels, key=lambda k: _km(home, where[k])):
        kk = flagged[kel]
        full = len(kk) // per_day * per_day
        loads += [kk[i : i + per_day] for i in range(0, full, per_day)]
        rest = kk[full:]
        if not rest:
            continue
        for group, members in partial:
            near = all(_km(where[kel], where[g]) <= cluster_km for g in group)
            if cluster_km > 0 and near and len(members) + len(rest) <= per_day:
                group.append(kel)
                members.extend(rest)
                break
        else:
            partial.append(([kel], list(rest)))
    return loads + [members for _group, members in partial]


def plan_home_visits(
    spec: HomeVisitSpec,
    households: Households,
    admin: AdminData,
    fixed_devices: IntArray,
    regular_days: int,
) -> HomeVisitPlan:
    """``fixed_devices`` is (kecamatan, day) of named deliveries in service: portable devices
    are among them (a kecamatan's first devices)."""
    n_kec = len(admin.kecamatan)
    kec_of_kel = admin.kecamatan_index()
    kel_kec = np.array([kec_of_kel[k.kecamatan_code] for k in admin.kelurahan], dtype=np.int64)
    mobile = np.zeros((n_kec, regular_days), dtype=np.int64)
    plan = HomeVisitPlan(mobile)
    flagged_idx = np.flatnonzero(households.home_visit)
    order = flagged_idx[np.lexsort((households.kk_id[flagged_idx], households.lingkungan[flagged_idx]))]
    by_kel: dict[int, list[int]] = {}
    for i in order.tolist():
        by_kel.setdefault(int(households.kelurahan[i]), []).append(i)
    for k in range(n_kec):
        kels = [kel for kel in by_kel if kel_kec[kel] == k]
        if not kels:
            continue
        loads = _day_loads(kels, by_kel, spec.visits_per_day, spec.cluster_km, admin, k)
        portable = spec.portable(admin.kecamatan[k].code)
        free = np.minimum(portable, fixed_devices[k, :regular_days])
        queue = list(loads)
        for d in range(regular_days - 1, -1, -1):
            while queue and mobile[k, d] < free[d]:
                plan.days.append(MobileDay(k, d, int(mobile[k, d]), tuple(queue.pop(0))))
                mobile[k, d] += 1
        if queue:
            plan.unserved[k] = [i for load in queue for i in load]
            days_with_device = int((fixed_devices[k, :regular_days] > 0).sum())
            plan.portable_needed[k] = math.ceil(len(loads) / max(1, days_with_device))
    plan.days.sort(key=lambda m: (m.kecamatan, m.day, m.slot))
    return plan


def advance_mobile_days(
    plan: HomeVisitPlan, device_kec: list[int], device_first: list[int], busy: set[tuple[int, int]]
) -> HomeVisitPlan:
    """Bring mobile days forward onto days the portable device has no office appointment.

    The office plan was made with the mobile days on the last regular days; moving one to a day
    its device is idle anyway changes no office appointment, and residents at home are visited
    sooner. ``busy`` holds (device index, day) pairs with office appointments; a kecamatan's
    devices are listed in id order, portable ones first."""
    by_kec: dict[int, list[int]] = {}
    for i, k in enumerate(device_kec):
        by_kec.setdefault(k, []).append(i)
    mobile = plan.mobile.copy()  # a new plan: the problem's own stays as it was proven on
    n_days = mobile.shape[1]
    taken: set[tuple[int, int]] = set()
    moved: list[MobileDay] = []
    for m in sorted(plan.days, key=lambda m: (m.kecamatan, m.slot, m.day)):
        device = by_kec[m.kecamatan][m.slot]
        day = next(
            (d for d in range(device_first[device], n_days) if (device, d) not in busy and (device, d) not in taken),
            m.day,
        )
        taken.add((device, day))
        mobile[m.kecamatan, m.day] -= 1
        mobile[m.kecamatan, day] += 1
        moved.append(MobileDay(m.kecamatan, day, m.slot, m.kk, device))
    days = sorted(moved, key=lambda m: (m.kecamatan, m.day, m.slot))
    return dataclasses.replace(plan, mobile=mobile, days=days)
