"""A field simulator: the records a campaign run under stated conditions would produce.

It exists to test the campaign loop against a truth that is known: the parameters it is given are
what ``campaign status`` must recover within its intervals, and what a forecast must predict.
The model, stated once:

- Every device in service (from its ``available_from``) runs every shift of every working day.
  Each device-shift is **down** with probability ``down_rate`` (reason: network, hardware or
  operator absent, in proportions 5:3:2); a down device-shift enrols nobody.
- An **up** device-shift enrols at most ``C`` residents, ``C ~ round(Normal(throughput / shifts,
  15 %))`` (``throughput`` per device-day, default the scenario's ``capacity_per_day``).
- Each invitation letter comes back undelivered (``returned``) with probability ``returned``;
  that family never comes on its own. The others are ``delivered``.
- A family whose letter arrived misses its appointment with probability ``no_show``; it comes
  back on its own with probability ``come_back``, after ``D ~ Geometric(1 / return_days)``
  working days (1, 2, ...). A family turned away (its device-shift down, or full) comes back the
  next working day.
- Kecamatan differ (``kecamatan_spread`` s > 0): each kecamatan's throughput and no-show share are
  multiplied by ``exp(Normal(0, s))`` (drawn once, from a stream of their own: the other draws are
  those of a city without spread).
- Conditions change (``change_on``): from that day on, throughput is multiplied by
  ``throughput_change``, and families booked from that day on miss with the no-show share
  multiplied by ``no_show_change`` (at most 1).
- At a device-shift, the families booked there are served first (in kk_id order), then the
  families waiting at that kecamatan's office (first come, first served), as long as ``C`` lasts;
  a family is enrolled whole at one device-shift.

With ``db``, families the store already has enrolled are done, and only days from ``first`` are
written: the same world goes on under the plan in force (for the weekly loop); a family the plan
re-booked (``backlog.csv``) is booked at that seat.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ektp_opt.inputs.calendar import working_days
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.plan.files import APPOINTMENTS, DEVICES
from ektp_opt.plan.read import read_appointments, read_devices
from ektp_opt.safety.csvwrite import csv_text

REASONS = ("network", "hardware", "operator absent")
REASON_P = (0.5, 0.3, 0.2)
THROUGHPUT_SD = 0.15


@dataclass(frozen=True)
class FieldConditions:
    throughput: float | None = None  # residents per device-day; None: the scenario's capacity_per_day
    down_rate: float = 0.05
    no_show: float = 0.15
    come_back: float = 0.6
    return_days: float = 5.0
    returned: float = 0.0
    seed: int = 0
    kecamatan_spread: float = 0.0
    change_on: dt.date | None = None
    throughput_change: float = 1.0
    no_show_change: float = 1.0

    def factors(self, codes: list[str]) -> dict[str, tuple[float, float]]:
        """Each kecamatan's (throughput, no-show) multipliers: 1 without ``kecamatan_spread``."""
        if self.kecamatan_spread <= 0:
            return {c: (1.0, 1.0) for c in codes}
        rng = np.random.default_rng([self.seed, 1])
        draws = np.exp(rng.normal(0.0, self.kecamatan_spread, (len(codes), 2)))
        return {c: (float(a), float(b)) for c, (a, b) in zip(sorted(codes), draws.tolist(), strict=True)}

    def no_show_on(self, kecamatan_factor: float, day: dt.date) -> float:
        changed = self.change_on is not None and day >= self.change_on
        return min(1.0, self.no_show * kecamatan_factor * (self.no_show_change if changed else 1.0))


@dataclass(frozen=True)
class FieldLog:
    enrolments: list[tuple[str, dt.date, int, str, int]]
    device_shifts: list[tuple[str, dt.date, int, str, str]]
    invitations: list[tuple[str, dt.date, str]]

    def write(self, folder: Path) -> None:
        from ektp_opt.safety.atomic import atomic_folder

        with atomic_folder(folder, kind="field-log") as tmp:
            (tmp / "enrolments.csv").write_text(
                csv_text(("kk_id", "date", "shift", "device_id", "residents"), self.enrolments), encoding="utf-8"
            )
            (tmp / "device_shifts.csv").write_text(
                csv_text(("device_id", "date", "shift", "status", "reason"), self.device_shifts), encoding="utf-8"
            )
            (tmp / "invitations.csv").write_text(
                csv_text(("kk_id", "date", "status"), self.invitations), encoding="utf-8"
            )


def simulate_field(
    plan_dir: Path,
    ls: LoadedScenario,
    until: dt.date,
    cond: FieldConditions,
    first: dt.date | None = None,
    done: dict[str, int] | None = None,
) -> FieldLog:
    """The records of the days ``first`` (default: the start) to ``until`` under ``cond``.
    ``done``: residents already enrolled per KK (from a store); those families are not booked."""
    sc = ls.scenario
    rng = np.random.default_rng(cond.seed)
    appt = read_appointments(plan_dir / APPOINTMENTS)
    devices = read_devices(plan_dir / DEVICES)
    days = working_days(sc.start, until, ls.workdays, ls.holidays)  # past the deadline too, if asked
    index = {d: i for i, d in enumerate(days)}
    throughput = cond.throughput if cond.throughput is not None else float(sc.device.capacity_per_day)
    done = done or {}
    first = first or sc.start

    factor = cond.factors([k.code for k in ls.admin.kecamatan])
    n = len(appt.kk_ids)
    kk = appt.kk_ids
    members = appt.members.astype(np.int64)
    dates = appt.date.astype("datetime64[D]").astype(object).tolist()
    devs, shifts = appt.device.tolist(), appt.shift.tolist()
    # A re-plan's backlog.csv books KK that missed their slot again: that booking is their appointment.
    rebooked = plan_dir / "backlog.csv"
    if rebooked.exists():
        from ektp_opt.inputs.csvread import iter_rows
        from ektp_opt.plan.files import BACKLOG_COLUMNS

        at = {k: i for i, k in enumerate(kk)}
        for _n, row in iter_rows(rebooked, BACKLOG_COLUMNS):
            i = at.get(row["kk_id"], -1)
            if i >= 0 and row["date"]:
                dates[i], devs[i], shifts[i] = dt.date.fromisoformat(row["date"]), row["device_id"], int(row["shift"])
    # Fixed per-family draws, in kk order: the same world whatever the days simulated.
    order = np.argsort(np.array(kk))
    u_returned, u_show, u_back, gap = (np.empty(n), np.empty(n), np.empty(n), np.empty(n, dtype=np.int64))
    u_returned[order] = rng.random(n)
    u_show[order] = rng.random(n)
    u_back[order] = rng.random(n)
    gap[order] = rng.geometric(1.0 / max(cond.return_days, 1.0), n)

    invitations: list[tuple[str, dt.date, str]] = []
    booked: dict[tuple[str, dt.date, int], list[int]] = {}
    waiting_from: dict[int, list[int]] = {}  # day index -> families coming back that day
    for i in np.argsort(np.array(kk), kind="stable").tolist():
        left = int(members[i]) - int(done.get(kk[i], 0))
        if not days or left <= 0 or dates[i] > days[-1]:
            continue
        returned = bool(u_returned[i] < cond.returned)
        letter = max(sc.start - dt.timedelta(days=7), dates[i] - dt.timedelta(days=7))
        if (first <= letter or first <= sc.start) and letter <= until:  # the first log has the letters sent before
            invitations.append((kk[i], letter, "returned" if returned else "delivered"))
        if returned:
            continue
        if u_show[i] < cond.no_show_on(factor[str(appt.site[i])][1], dates[i]):
            if u_back[i] < cond.come_back and dates[i] in index:
                waiting_from.setdefault(index[dates[i]] + int(gap[i]), []).append(i)
            continue
        booked.setdefault((devs[i], dates[i], int(shifts[i])), []).append(i)

    site_of_dev = {d: k for d, k, _deliv, _avail in devices}
    avail = {d: a for d, _k, _deliv, a in devices}
    per_shift = {k.code: throughput * factor[k.code][0] / sc.shifts_for(k.code) for k in ls.admin.kecamatan}
    queue: dict[str, deque[int]] = {k.code: deque() for k in ls.admin.kecamatan}
    enrolments: list[tuple[str, dt.date, int, str, int]] = []
    shifts_log: list[tuple[str, dt.date, int, str, str]] = []
    site = appt.site
    for t, day in enumerate(days):
        for i in waiting_from.pop(t, []):
            queue[str(site[i])].append(i)
        turned: list[int] = []
        change = cond.throughput_change if cond.change_on is not None and day >= cond.change_on else 1.0
        for dev in sorted(d for d in site_of_dev if avail[d] <= day):
            kec = site_of_dev[dev]
            for s in range(1, sc.shifts_for(kec) + 1):
                down = rng.random() < cond.down_rate
                mean = per_shift[kec] * change
                cap = max(0, round(rng.normal(mean, THROUGHPUT_SD * mean)))
                reason = REASONS[int(rng.choice(3, p=REASON_P))] if down else ""
                if day >= first:
                    shifts_log.append((dev, day, s, "down" if down else "up", reason))
                mine = booked.pop((dev, day, s), [])
                if down:
                    turned.extend(mine)
                    continue
                for i in mine:
                    m = int(members[i]) - int(done.get(kk[i], 0))
                    if m <= cap:
                        cap -= m
                        if day >= first:
                            enrolments.append((kk[i], day, s, dev, m))
                    else:
                        turned.append(i)
                q = queue[kec]
                while q:
                    i = q[0]
                    m = int(members[i]) - int(done.get(kk[i], 0))
                    if m > cap:
                        break
                    q.popleft()
                    cap -= m
                    if day >= first:
                        enrolments.append((kk[i], day, s, dev, m))
        for i in turned:
            waiting_from.setdefault(t + 1, []).append(i)
    return FieldLog(enrolments, shifts_log, sorted(invitations, key=lambda r: (r[1], r[0])))
