"""ProblemData: the scenario and households reduced to the numbers the planner needs.

This is the input data model of the solver, built once and never changed by it (the PyVRP /
PyJobShop split): working days as indices, residents per kelurahan, seats per device-shift per
kecamatan, device batches with their first service day, and the sites each kelurahan may use.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ektp_opt.errors import InputError
from ektp_opt.inputs.admin import haversine_km
from ektp_opt.inputs.calendar import available_from, index_on_or_after, is_workday, working_days
from ektp_opt.inputs.households import Households
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.problem.homevisit import HomeVisitPlan, plan_home_visits


@dataclass(frozen=True)
class DeviceBatch:
    """Devices from one delivery. ``kecamatan`` is None for a pool the optimiser splits."""

    delivery_index: int
    kecamatan: int | None
    count: int
    delivery: dt.date
    available_from: dt.date
    first_day: int  # index into ProblemData.days; len(days) when it never serves in the horizon


@dataclass(frozen=True)
class ProblemData:
    days: tuple[dt.date, ...]  # working days the planner may book, start first
    regular_days: int  # how many of ``days`` lie on or before the last regular day
    kecamatan_codes: tuple[str, ...]
    kelurahan_codes: tuple[str, ...]
    kelurahan_kecamatan: npt.NDArray[np.int64]  # kecamatan index of each kelurahan
    kelurahan_residents: npt.NDArray[np.int64]
    shifts: npt.NDArray[np.int64]  # per kecamatan
    seats: npt.NDArray[np.int64]  # regular seats per device-shift, per kecamatan
    slot_limit: npt.NDArray[np.int64]  # device-shifts usable per day by operators (-1 = no limit)
    batches: tuple[DeviceBatch, ...]
    sites: tuple[tuple[tuple[int, float], ...], ...]  # per kelurahan: (kecamatan, km), home first
    deadline: dt.date
    last_regular_day: dt.date
    extra: dict[str, object] = field(default_factory=dict)
    # Home visits (homevisit.py): portable devices away from the office per (kecamatan, regular
    # day), and the plan of mobile days. None when the scenario plans no home visits.
    mobile: npt.NDArray[np.int64] | None = None
    home_visits: HomeVisitPlan | None = None

    @property
    def n_kec(self) -> int:
        return len(self.kecamatan_codes)

    @property
    def n_kel(self) -> int:
        return len(self.kelurahan_codes)

    @property
    def n_days(self) -> int:
        return len(self.days)

    @property
    def pools(self) -> tuple[DeviceBatch, ...]:
        return tuple(b for b in self.batches if b.kecamatan is None)

    def fixed_devices(self) -> npt.NDArray[np.int64]:
        """Devices of named deliveries serving at the office, as a (kecamatan, day) array:
        in service, and not out on a home-visit day."""
        out = np.zeros((self.n_kec, self.n_days), dtype=np.int64)
        for b in self.batches:
            if b.kecamatan is not None and b.first_day < self.n_days:
                out[b.kecamatan, b.first_day :] += b.count
        if self.mobile is not None:
            n = min(self.n_days, self.mobile.shape[1])
            out[:, :n] -= self.mobile[:, :n]
        return out

    def fixed_devices_at(self, k: int, d: int) -> int:
        away = int(self.mobile[k, d]) if self.mobile is not None and d < self.mobile.shape[1] else 0
        return sum(b.count for b in self.batches if b.kecamatan == k and b.first_day <= d) - away

    def capacity_breaks(self, horizon: int) -> list[int]:
        """Days on which a site's office capacity can change: device arrivals and the edges of
        home-visit days."""
        starts = {0, horizon} | {b.first_day for b in self.batches if b.first_day < horizon}
        if self.mobile is not None:
            n = min(horizon, self.mobile.shape[1])
            change = np.flatnonzero((np.diff(self.mobile[:, :n], axis=1) != 0).any(axis=0)) + 1
            starts |= {int(d) for d in change}
            if n < horizon:  # mobile days exist only on regular days
                starts.add(n)
        return sorted(starts)

    def max_slots(self) -> npt.NDArray[np.int64]:
        """Upper bound on device-shifts per (kecamatan, day): every pool device sent there."""
        devices = self.fixed_devices()
        for b in self.pools:
            if b.first_day < self.n_days:
                devices[:, b.first_day :] += b.count
        slots = devices * self.shifts[:, None]
        limited = self.slot_limit >= 0
        slots[limited] = np.minimum(slots[limited], self.slot_limit[limited, None])
        return slots

    def best_case_seats(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Regular seats per day from named deliveries, and from pools with every pool device at
        the kecamatan where it yields most seats (operator limits ignored). Their sum up to a day
        bounds what any plan can seat by then: the closed-form seat arithmetic."""
        per_device = self.seats * self.shifts
        fixed = (self.fixed_devices() * per_device[:, None]).sum(axis=0)
        pooled = np.zeros(self.n_days, dtype=np.int64)
        for b in self.pools:
            if b.first_day < self.n_days:
                pooled[b.first_day :] += b.count * int(per_device.max())
        return fixed, pooled

    @property
    def kecamatan_residents(self) -> npt.NDArray[np.int64]:
        return np.bincount(self.kelurahan_kecamatan, weights=self.kelurahan_residents, minlength=self.n_kec).astype(
            np.int64
        )


def _horizon(ls: LoadedScenario, extend_to: dt.date | None) -> tuple[list[dt.date], int, dt.date]:
    sc = ls.scenario
    wd, hol = ls.workdays, ls.holidays
    in_window = working_days(sc.start, sc.deadline, wd, hol)
    regular = len(in_window) - sc.backlog.catch_up_days
    if regular <= 0:
        raise InputError(
            ls.path,
            "backlog.catch_up_days",
            f"{sc.backlog.catch_up_days} catch-up days leave no regular day "
            f"({len(in_window)} working days from start to deadline)",
        )
    last_regular = in_window[regular - 1]
    days = in_window[:regular]
    if extend_to is not None and extend_to > last_regular:
        days = days + working_days(last_regular + dt.timedelta(days=1), extend_to, wd, hol)
    return days, regular, last_regular


def _check_families_fit(
    ls: LoadedScenario, h: Households, kel_kec: npt.NDArray[np.int64], seats: npt.NDArray[np.int64]
) -> None:
    """A family is never split, so every KK must fit in one device-shift of its kecamatan."""
    too_big = np.flatnonzero(h.members > seats[kel_kec[h.kelurahan]])
    if too_big.size:
        i = int(too_big[0])
        where = ls.households_path or ls.path
        raise InputError(
            where,
            f"kk_id {h.kk_id[i]}",
            f"{int(h.members[i])} members do not fit in one device-shift "
            f"({int(seats[kel_kec[h.kelurahan[i]]])} regular seats); "
            f"{too_big.size} KK are too big. Fewer shifts or fewer backlog seats would fit them",
        )


def build_problem(ls: LoadedScenario, households: Households, *, extend_to: dt.date | None = None) -> ProblemData:
    """Reduce a scenario to ProblemData. ``extend_to`` lengthens the bookable horizon past the
    last regular day with the same working-day rules (used to find how late a plan would end)."""
    sc, admin = ls.scenario, ls.admin
    days, regular, last_regular = _horizon(ls, extend_to)
    kec_index = admin.kecamatan_index()
    kec_codes = tuple(k.code for k in admin.kecamatan)
    n_kec = len(kec_codes)
    batches: list[DeviceBatch] = []
    for i, d in enumerate(sc.deliveries):
        avail = available_from(d.date, sc.device.setup_days, ls.workdays, ls.holidays)
        first = index_on_or_after(days, avail)
        if d.per_kecamatan is not None:
            batches.extend(DeviceBatch(i, k, d.per_kecamatan, d.date, avail, first) for k in range(n_kec))
        elif d.kecamatan is not None and d.count is not None:
            batches.append(DeviceBatch(i, kec_index[d.kecamatan], d.count, d.date, avail, first))
        elif d.pool is not None:
            batches.append(DeviceBatch(i, None, d.pool, d.date, avail, first))
    batches = [b for b in batches if b.count > 0]

    shifts = np.array([sc.shifts_for(c) for c in kec_codes], dtype=np.int64)
    seats = np.array([sc.seats_per_device_shift(c) for c in kec_codes], dtype=np.int64)
    limits = [sc.staffed_device_shifts(c) for c in kec_codes]
    slot_limit = np.array([-1 if n is None else n for n in limits], dtype=np.int64)

    kel_kec = np.array([kec_index[k.kecamatan_code] for k in admin.kelurahan], dtype=np.int64)
    sites: list[tuple[tuple[int, float], ...]] = []
    for kel, home in zip(admin.kelurahan, kel_kec.tolist(), strict=True):
        options: list[tuple[int, float]] = [(home, 0.0)]
        if sc.overflow_km > 0:
            for k, office in enumerate(admin.kecamatan):
                if k == home:
                    continue
                km = haversine_km(kel.lat, kel.lon, office.lat, office.lon)
                if km <= sc.overflow_km:
                    options.append((k, round(km, 3)))
        sites.append(tuple(options))

    assert all(is_workday(d, ls.workdays, ls.holidays) for d in days)
    _check_families_fit(ls, households, kel_kec, seats)
    residents = households.residents_per_kelurahan(len(admin.kelurahan))
    mobile = visits = None
    if sc.home_visits is not None:
        fixed = np.zeros((n_kec, regular), dtype=np.int64)
        for b in batches:
            if b.kecamatan is not None and b.first_day < regular:
                fixed[b.kecamatan, b.first_day :] += b.count
        visits = plan_home_visits(sc.home_visits, households, admin, fixed, regular)
        mobile = visits.mobile
        flagged = households.home_visit
        residents = residents - np.bincount(
            households.kelurahan[flagged], weights=households.members[flagged], minlength=len(admin.kelurahan)
        ).astype(np.int64)
    for array in (kel_kec, residents, shifts, seats, slot_limit, *([mobile] if mobile is not None else [])):
        array.setflags(write=False)  # frozen: no planner writes into the problem it solves
    return ProblemData(
        days=tuple(days),
        regular_days=regular,
        kecamatan_codes=kec_codes,
        kelurahan_codes=tuple(k.code for k in admin.kelurahan),
        kelurahan_kecamatan=kel_kec,
        kelurahan_residents=residents,
        shifts=shifts,
        seats=seats,
        slot_limit=slot_limit,
        batches=tuple(batches),
        sites=tuple(sites),
        deadline=sc.deadline,
        last_regular_day=last_regular,
        mobile=mobile,
        home_visits=visits,
    )
