"""Each hard rule as a vectorised check over the plan's columns.

A check returns the rows that break it; ``verify_plan`` gathers them into a Report. Examples in
the report name a kk_id, a device or a date, never any other household data.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ektp_opt.errors import InputError
from ektp_opt.inputs.csvread import iter_rows, parse_int
from ektp_opt.inputs.households import Households
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.plan.files import (
    APPOINTMENTS,
    BACKLOG,
    BACKLOG_COLUMNS,
    CHANGE_COLUMNS,
    CHANGES,
    DEVICES,
    HOME_VISIT_COLUMNS,
    HOME_VISITS,
    SUMMARY,
)
from ektp_opt.plan.read import Appointments, Coded, parse_date, read_appointments, read_devices, read_summary

MAX_EXAMPLES = 5
WEEKMASK_ORDER = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class Violation:
    rule: str
    spec: str  # which SPEC.md rule it is
    count: int
    examples: list[str]


@dataclass
class Report:
    plan_dir: Path
    rows: int
    violations: list[Violation] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def add(self, rule: str, spec: str, bad: npt.NDArray[np.bool_] | list[str], labels: Any = None) -> None:
        self.checked.append(rule)
        if isinstance(bad, list):
            if bad:
                self.violations.append(Violation(rule, spec, len(bad), bad[:MAX_EXAMPLES]))
            return
        n = int(bad.sum())
        if n:
            idx = np.flatnonzero(bad)[:MAX_EXAMPLES]
            examples = [str(labels[i]) for i in idx] if labels is not None else []
            self.violations.append(Violation(rule, spec, n, examples))


class Calendar:
    """The scenario's working days, through numpy's business-day functions."""

    def __init__(self, ls: LoadedScenario) -> None:
        sc = ls.scenario
        self.weekmask = [d in sc.calendar.workdays for d in WEEKMASK_ORDER]
        self.holidays = np.array(sc.calendar.holidays, dtype="datetime64[D]")
        window = np.arange(np.datetime64(sc.start), np.datetime64(sc.deadline) + 1)
        busy = window[self.is_working(window)]
        c = sc.backlog.catch_up_days
        self.start = np.datetime64(sc.start)
        self.last_regular = busy[len(busy) - c - 1] if len(busy) > c else self.start - 1

    def is_working(self, dates: npt.NDArray[np.datetime64]) -> npt.NDArray[np.bool_]:
        return np.is_busday(dates, weekmask=self.weekmask, holidays=self.holidays)

    def working_days_after(
        self, old: npt.NDArray[np.datetime64], new: npt.NDArray[np.datetime64]
    ) -> npt.NDArray[np.int64]:
        """Working days after ``old`` up to and including ``new``; when ``new`` is earlier, minus
        the working days after ``new`` up to and including ``old`` (numpy counts a reversed range
        from its other end, which is not that)."""
        one = np.timedelta64(1, "D")
        low, high = np.minimum(old, new), np.maximum(old, new)
        days = np.busday_count(low + one, high + one, weekmask=self.weekmask, holidays=self.holidays)
        return np.where(new >= old, days, -days).astype(np.int64)

    def first_service(self, delivery: dt.date, setup_days: int) -> dt.date:
        day = np.busday_offset(
            np.datetime64(delivery),
            setup_days + 1,
            roll="backward",
            weekmask=self.weekmask,
            holidays=self.holidays,
        )
        return dt.date.fromisoformat(str(day))


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


_ID = r"[A-Za-z0-9][A-Za-z0-9.\-]{0,63}"  # SPEC.md: ids in a plan folder (rule 8)
_SAFE_ID = re.compile(rf"^{_ID}$")


_ALL_SAFE = re.compile(rf"(?:{_ID}\n)*")


def _per_row_equal(column: Coded, key: Coded, want: dict[str, str]) -> npt.NDArray[np.bool_]:
    """Row by row: does ``column`` hold ``want[key]`` (False where ``key`` is not in ``want``)?
    Decided once per (distinct key value), then spread to the rows by their codes."""
    number = {label: i for i, label in enumerate(column.labels.tolist())}
    wanted = np.array([number.get(want.get(k, "\0"), -1) for k in key.labels.tolist()] + [-1], dtype=np.int64)
    return wanted[key.codes] == column.codes


class _Labels:
    """A row's label in examples: its kk_id, or "(unsafe id)" for an id that must not be shown."""

    def __init__(self, kk_id: list[str], unsafe: npt.NDArray[np.bool_]) -> None:
        self.kk_id, self.unsafe = kk_id, unsafe

    def __getitem__(self, i: int) -> str:
        return "(unsafe id)" if self.unsafe[i] else str(self.kk_id[i])


def _safe_ids(values: list[str]) -> npt.NDArray[np.bool_]:
    """Mask of safe ids: one regular-expression pass over all of them (650 k in ~0.1 s), the
    row-by-row check only when some id is not safe."""
    if _ALL_SAFE.fullmatch("\n".join(values) + "\n" if values else ""):
        return np.ones(len(values), dtype=bool)
    return np.array([_SAFE_ID.match(v) is not None for v in values], dtype=bool)


def verify_plan(plan_dir: Path, ls: LoadedScenario, households: Households) -> Report:
    """Check every hard rule; raises InputError only when a file cannot be read at all."""
    if not plan_dir.is_dir():
        raise InputError(plan_dir, None, "plan folder not found")
    appt = read_appointments(plan_dir / APPOINTMENTS)
    devices = read_devices(plan_dir / DEVICES)
    info = read_summary(plan_dir / SUMMARY)
    sc, admin = ls.scenario, ls.admin
    cal = Calendar(ls)
    rep = Report(plan_dir, len(appt.kk_ids))
    # Ids first: an id a spreadsheet would run as a formula (=HYPERLINK(...)) or a shell would read
    # as an option (-cmd) is refused, and is never shown as an example.
    device = appt.coded["device"]
    bad_id = ~_safe_ids(appt.kk_ids) | ~_safe_ids(device.labels.tolist())[device.codes]
    rep.add("kk_id or device_id not of letters, digits, '-' and '.' (starting alphanumeric)", "8", bad_id)
    labels = _Labels(appt.kk_ids, bad_id)

    # Rule 1: every KK exactly once, with all its members, unsplit. Rows are matched to households
    # by kk_id; a KK's row count comes from that match (unknown ids are counted apart).
    kel_codes = np.array([k.code for k in admin.kelurahan])
    kec_of_kel = {k.code: k.kecamatan_code for k in admin.kelurahan}
    index = dict(zip(households.kk_id.tolist(), range(len(households)), strict=True))
    kk_rows = appt.kk_ids
    hh = np.fromiter(map(index.get, kk_rows, repeat(-1)), dtype=np.int64, count=len(kk_rows))
    known = hh >= 0
    rep.add("unknown KK", "1", ~known, labels)
    rows_of = np.bincount(hh[known], minlength=len(households))
    unknown_rows = Counter(kk_rows[i] for i in np.flatnonzero(~known).tolist())
    distinct_kk = int((rows_of > 0).sum()) + len(unknown_rows)
    present = rows_of > 0
    visits = _read_home_visits(plan_dir / HOME_VISITS, index) if sc.home_visits is not None else []
    stray = sc.home_visits is None and (plan_dir / HOME_VISITS).exists()
    rep.add("home_visits.csv in a plan whose scenario plans no home visits", "HV", [HOME_VISITS] if stray else [])
    visited = np.zeros(len(households), dtype=bool)
    for v in visits:
        if v.hh >= 0:
            visited[v.hh] = True
    # A flagged KK owed a home visit (not enrolled at an office before a re-plan's as-of) that is
    # nowhere is named by the home-visit rules, every other KK by rule 1: one fault, one name.
    enrolled = np.zeros(len(households), dtype=bool)
    as_of = info.get("resolve", {}).get("as_of") if isinstance(info.get("resolve"), dict) else None
    if isinstance(as_of, str):
        enrolled[hh[known & (appt.date < np.datetime64(as_of))]] = True
    owed_visit = households.home_visit & ~enrolled if sc.home_visits is not None else np.zeros_like(present)
    rep.add("KK missing from the plan", "1", ~(present | visited) & ~owed_visit, households.kk_id)
    rep.add("KK both visited at home and given an office seat", "1", present & visited, households.kk_id)
    split: list[str] = []
    dup: list[str] = sorted(k for k, n in unknown_rows.items() if n > 1)
    multi = np.flatnonzero(rows_of > 1)
    if len(multi):
        sums = np.bincount(hh[known], weights=appt.members[known], minlength=len(households))
        for i in multi.tolist():
            (split if int(sums[i]) == int(households.members[i]) else dup).append(str(households.kk_id[i]))
    rep.add("family split across device-shifts", "1", sorted(split))
    rep.add("KK listed more than once", "1", sorted(dup))
    single = known & (rows_of[np.maximum(hh, 0)] == 1)
    want_members = np.where(known, households.members[np.maximum(hh, 0)], -1)
    rep.add("members differ from the household", "1", single & (appt.members != want_members), labels)
    kel_index = {code: i for i, code in enumerate(kel_codes.tolist())}
    row_kel = appt.coded["kelurahan"].lookup(kel_index, -1, np.int64)
    want_kel = np.where(known, households.kelurahan[np.maximum(hh, 0)], -2)
    rep.add("kelurahan differs from the household", "1", known & (row_kel != want_kel), labels)
    want_home = _per_row_equal(appt.coded["home"], appt.coded["kelurahan"], kec_of_kel)
    rep.add("home_kecamatan is not the kelurahan's kecamatan", "1", ~want_home, labels)

    # Devices: one kecamatan each, as delivered, from available_from.
    dev_kec: dict[str, str] = {}
    dev_from: dict[str, np.datetime64] = {}
    twice: list[str] = []
    wrong_from: list[str] = []
    known_kec = {k.code for k in admin.kecamatan}
    for dev_id, kec, delivery, avail in devices:
        if dev_id in dev_kec:
            twice.append(dev_id)
            continue  # one device, listed twice: its first line is the one checked and counted
        dev_kec[dev_id] = kec
        dev_from[dev_id] = np.datetime64(avail)
        if avail != cal.first_service(delivery, sc.device.setup_days):
            wrong_from.append(f"{dev_id} ({avail})")
    rep.add("device listed twice (two kecamatan)", "3", twice)
    rep.add("available_from does not follow delivery + setup days", "3", wrong_from)
    rep.add("device at an unknown kecamatan", "3", [d for d, k in dev_kec.items() if k not in known_kec])
    listed = device.lookup(dev_kec, False, bool) if dev_kec else np.zeros(len(device.codes), dtype=bool)
    rep.add("device not in devices.csv", "3", ~listed, labels)
    at_site = _per_row_equal(appt.coded["site"], device, dev_kec)
    rep.add("device used away from its kecamatan", "3", listed & ~at_site, labels)
    d_from = device.lookup(dev_from, np.datetime64("9999-12-31"), "datetime64[D]")
    rep.add("device used before available_from", "3", listed & (appt.date < d_from), labels)
    rep.add("appointment on a non-working day", "3", ~cal.is_working(appt.date), labels)

    # Rule 6: deliveries.
    rep.add("more devices placed than delivered", "6", _delivery_excess(ls, devices))

    # Rule 2 and shift range.
    shifts = appt.coded["site"].lookup(sc.shifts_override, sc.shifts_per_day, np.int64)
    rep.add("shift outside 1..shifts_per_day", "2", (appt.shift < 1) | (appt.shift > shifts), labels)
    # A device's capacity on the appointment's day (a re-plan at a measured pace keeps the days
    # that happened at the capacity they were planned with: device.earlier).
    capacity = np.full(len(appt.date), sc.device.capacity_per_day, dtype=np.int64)
    for e in reversed(sc.device.earlier):
        capacity[appt.date <= np.datetime64(e.until)] = e.capacity_per_day
    seats = capacity // shifts - sc.backlog.reserve_per_shift
    dev_idx = device.codes
    day_no = appt.date.astype(np.int64)
    key = (dev_idx.astype(np.int64) * 100_000 + (day_no - day_no.min(initial=0))) * 1000 + appt.shift
    keys, first, inv = np.unique(key, return_index=True, return_inverse=True)
    load = np.bincount(inv, weights=appt.members).astype(np.int64)
    cap = np.zeros(len(keys), dtype=np.int64)
    cap[inv] = seats
    over = np.flatnonzero(load > cap)
    rep.add(
        "device-shift over its regular seats",
        "2",
        [
            f"{device.labels[dev_idx[j]]} {appt.date[j]} shift {appt.shift[j]} ({load[i]} > {cap[i]})"
            for i, j in zip(over.tolist(), first[over].tolist(), strict=True)
        ],
    )

    # Rule 4: window.
    rep.add("appointment before start", "4", appt.date < cal.start, labels)
    late = appt.date > cal.last_regular
    if info.get("late") is True:  # planned with --allow-late: reported, not a violation
        rep.warnings.append(f"late plan: {int(late.sum()):,} appointments after the last regular day")
    else:
        rep.add("appointment after the last regular day (catch-up days or later)", "4", late, labels)

    # Rule 5: site.
    rep.add("served away from home beyond overflow_km", "5", _site_violations(ls, appt), labels)

    # Rule 7: operators.
    if sc.operators is not None:
        ops = sc.operators
        site_idx = appt.coded["site"].codes
        site_day = site_idx.astype(np.int64) * 100_000 + (day_no - day_no.min(initial=0))
        used_site_day = site_day[first]  # one entry per device-shift in use
        _sd_keys, sd_first, sd_count = np.unique(used_site_day, return_index=True, return_counts=True)
        over_ops = []
        for j, n in zip(sd_first.tolist(), sd_count.tolist(), strict=True):
            i = first[j]
            code = str(appt.coded["site"].labels[site_idx[i]])
            if n > ops.overrides.get(code, ops.per_kecamatan) * ops.shifts_per_operator:
                over_ops.append(f"{code} {appt.date[i]} ({n} device-shifts)")
        rep.add("more device-shifts than operators can staff", "7", over_ops)

    home_members = int(sum(int(households.members[v.hh]) for v in visits if v.hh >= 0))
    rep.add(
        "summary.json disagrees with the plan",
        "summary",
        _summary_mismatch(info, appt, ls, households, home_members, len(visits), distinct_kk),
    )
    rep.add("summary.json claims what the plan does not show", "summary", _claims(info, appt, cal))
    if sc.home_visits is not None:
        # A re-plan that adds [home_visits] keeps the office seats of flagged KK enrolled before as-of.
        _check_home_visits(rep, ls, cal, visits, households, appt, dev_kec, dev_from, present, enrolled)
    if (plan_dir / BACKLOG).exists():
        _check_backlog(rep, plan_dir / BACKLOG, ls, cal, appt, dev_kec, dev_from)
    resolve = info.get("resolve")
    if isinstance(resolve, dict) and isinstance(resolve.get("max_delay"), int):
        _check_delay_cap(rep, plan_dir, resolve, cal, appt)
    return rep


def _check_delay_cap(rep: Report, plan_dir: Path, resolve: dict[str, Any], cal: Calendar, appt: Appointments) -> None:
    """A re-plan made with a delay cap (SPEC.md, "Planning again"): no KK whose appointment moved
    is more than ``max_delay`` working days after its old one, counted as the working days after
    the old date up to the new one. Checked against the plan in force where it is still there
    (every KK whose date differs), and against changes.csv always. KK re-booked after a missed
    appointment (backlog.csv) are not moves."""
    cap = int(resolve["max_delay"])
    missed = set()
    if (plan_dir / BACKLOG).exists():
        missed = {row["kk_id"] for _n, row in iter_rows(plan_dir / BACKLOG, BACKLOG_COLUMNS)}
    late: list[str] = []
    listed: dict[str, tuple[str, str]] = {}
    office = set(appt.kk_ids)  # the cap is on office appointments; home visits have rules of their own
    unreadable: list[str] = []
    if (plan_dir / CHANGES).exists():
        for n, row in iter_rows(plan_dir / CHANGES, CHANGE_COLUMNS):
            if row["kk_id"] in missed or row["kk_id"] not in office or not row["old_date"]:
                continue  # a KK that had no office date (a home visit before) has no delay to cap
            try:
                dt.date.fromisoformat(row["old_date"]), dt.date.fromisoformat(row["new_date"])
            except ValueError:
                unreadable.append(f"changes.csv row {n}")
                continue
            listed[row["kk_id"]] = (row["old_date"], row["new_date"])
    else:
        rep.add("re-plan without changes.csv", "resolve", ["changes.csv"])
    rep.add("changes.csv date not YYYY-MM-DD", "resolve", unreadable)
    if listed:
        old = np.array([o for o, _n in listed.values()], dtype="datetime64[D]")
        new = np.array([n for _o, n in listed.values()], dtype="datetime64[D]")
        delay = cal.working_days_after(old, new)
        late += [f"{k} (changes.csv: {d} working days)" for k, d in zip(listed, delay.tolist(), strict=True) if d > cap]
    # No old_plan at all is a plan in force that is not there (never the current folder's files).
    old_dir = Path(str(resolve["old_plan"])) if resolve.get("old_plan") else plan_dir / "(no old_plan)"
    if (old_dir / APPOINTMENTS).is_file():
        before = read_appointments(old_dir / APPOINTMENTS)
        when = dict(zip(before.kk_ids, before.date.tolist(), strict=True))
        was = np.array(
            [when.get(k, d) for k, d in zip(appt.kk_ids, appt.date.tolist(), strict=True)], dtype="datetime64[D]"
        )
        moved = was != appt.date
        delay = cal.working_days_after(was, appt.date)
        for i in np.flatnonzero(moved & (delay > cap)).tolist():
            if appt.kk_ids[i] not in missed:
                late.append(f"{appt.kk_ids[i]} ({int(delay[i])} working days after its old appointment)")
        unlisted = [appt.kk_ids[i] for i in np.flatnonzero(moved).tolist() if appt.kk_ids[i] not in listed]
        unlisted = [k for k in unlisted if k not in missed]
        rep.add("a KK whose date changed is not in changes.csv", "resolve", unlisted)
    else:
        rep.warnings.append(
            f"the plan in force ({old_dir}) is not there: the delay cap was checked on changes.csv only"
        )
    rep.add(f"moved KK appointed more than max_delay ({cap}) working days later", "resolve", sorted(set(late)))


def _check_backlog(
    rep: Report,
    path: Path,
    ls: LoadedScenario,
    cal: Calendar,
    appt: Appointments,
    dev_kec: dict[str, str],
    dev_from: dict[str, np.datetime64],
) -> None:
    """A re-plan books KK that missed their slot into what a device-shift has left: on a regular
    day its backlog seats and the regular seats no appointment holds (appointments and bookings
    together within capacity_per_day // shifts), on a catch-up day the whole device-shift; never
    before the slot they missed, never away from their office, never after the deadline."""
    sc = ls.scenario
    booked_on = dict(zip(appt.kk_id.tolist(), appt.date.tolist(), strict=True))
    site_of = dict(zip(appt.kk_id.tolist(), appt.site.tolist(), strict=True))
    order: list[str] = []
    where: list[str] = []
    window: list[str] = []
    load: dict[tuple[str, dt.date, int], int] = {}
    unbooked = 0
    columns = list(BACKLOG_COLUMNS)
    for row_no, row in iter_rows(path, columns):
        kk = row["kk_id"]
        if not row["date"]:
            unbooked += 1
            continue
        date = parse_date(path, row_no, "date", row["date"])
        shift = parse_int(path, row_no, "shift", row["shift"], 1, 1000)
        members = parse_int(path, row_no, "members", row["members"], 1, 10_000)
        missed = booked_on.get(kk)
        if missed is None or date <= missed:
            order.append(kk)
        dev = row["device_id"]
        if dev_kec.get(dev) != site_of.get(kk) or np.datetime64(date) < dev_from.get(dev, np.datetime64("9999-12-31")):
            where.append(kk)
        if date > sc.deadline or not bool(cal.is_working(np.array([date], dtype="datetime64[D]"))[0]):
            window.append(kk)
        load[(dev, date, shift)] = load.get((dev, date, shift), 0) + members
    # A device-shift takes missed KK in what its appointments leave of its whole capacity: on a
    # regular day its backlog seats and the regular seats no appointment holds, on a catch-up day
    # (where no appointment may be) all of it. One count for both: a catch-up day that does hold
    # appointments (rule 4's fault) is not a day on which the device-shift seats more.
    booked: dict[tuple[str, dt.date, int], int] = {}
    for dev_id, day, sh, m in zip(appt.device.tolist(), appt.date.astype(object).tolist(), appt.shift.tolist(),
                                  appt.members.tolist(), strict=True):  # fmt: skip
        booked[(dev_id, day, sh)] = booked.get((dev_id, day, sh), 0) + int(m)
    over = []
    for (dev, date, shift), n in sorted(load.items()):
        per_shift = sc.device.capacity_on(date) // sc.shifts_for(dev_kec.get(dev, ""))
        cap = per_shift - booked.get((dev, date, shift), 0)
        if n > cap:
            over.append(f"{dev} {date} shift {shift} ({n} > {cap})")
    rep.add("backlog booking not after the missed appointment", "resolve", order)
    rep.add("backlog booking on a device not at the KK's office then", "resolve", where)
    rep.add("backlog booking on a non-working day or after the deadline", "resolve", window)
    rep.add("backlog bookings over a device-shift's seats left free (reserve and unbooked)", "resolve", over)
    if unbooked:
        rep.warnings.append(f"{unbooked} KK that missed their slot have no backlog seat before the deadline")


def _delivery_excess(ls: LoadedScenario, devices: list[tuple[str, str, dt.date, dt.date]]) -> list[str]:
    sc = ls.scenario
    codes = {k.code: None for k in ls.admin.kecamatan}  # in the city's order
    fixed: dict[dt.date, dict[str, int]] = {}
    pool: dict[dt.date, int] = {}
    for d in sc.deliveries:
        f = fixed.setdefault(d.date, {})
        if d.per_kecamatan is not None:
            for c in codes:
                f[c] = f.get(c, 0) + d.per_kecamatan
        elif d.kecamatan is not None and d.count is not None:
            f[d.kecamatan] = f.get(d.kecamatan, 0) + d.count
        elif d.pool is not None:
            pool[d.date] = pool.get(d.date, 0) + d.pool
    placed: dict[dt.date, dict[str, int]] = {}
    seen: set[str] = set()
    for dev, kec, delivery, _avail in devices:
        if dev in seen or kec not in codes:
            continue  # a device listed twice is one device; one at no known kecamatan: their own rules
        seen.add(dev)
        p = placed.setdefault(delivery, {})
        p[kec] = p.get(kec, 0) + 1
    out = []
    for date, per_kec in sorted(placed.items()):
        if date not in fixed:
            out.append(f"{date}: {sum(per_kec.values())} devices, no such delivery")
            continue
        extra = sum(max(0, n - fixed[date].get(k, 0)) for k, n in per_kec.items())
        if extra > pool.get(date, 0):
            out.append(f"{date}: {extra} pool devices placed, {pool.get(date, 0)} delivered")
    return out


def _site_violations(ls: LoadedScenario, appt: Appointments) -> npt.NDArray[np.bool_]:
    """Rule 5 from where the family lives (its kelurahan's kecamatan), not from the row's own
    home_kecamatan column, whose consistency is rule 1's: one wrong cell, one rule named."""
    kec_of_kel = {k.code: k.kecamatan_code for k in ls.admin.kelurahan}
    away = ~_per_row_equal(appt.coded["site"], appt.coded["kelurahan"], kec_of_kel)
    if not away.any():
        return away
    limit = ls.scenario.overflow_km
    kel = {k.code: (k.lat, k.lon) for k in ls.admin.kelurahan}
    office = {k.code: (k.lat, k.lon) for k in ls.admin.kecamatan}
    bad = np.zeros(len(away), dtype=bool)
    for i in np.flatnonzero(away).tolist():
        a, b = kel.get(str(appt.kelurahan[i])), office.get(str(appt.site[i]))
        bad[i] = limit <= 0 or a is None or b is None or _haversine(*a, *b) > limit
    return bad


def _summary_mismatch(
    info: dict[str, Any],
    appt: Appointments,
    ls: LoadedScenario,
    households: Households,
    home_members: int,
    home_kk: int,
    distinct_kk: int,
) -> list[str]:
    out = []
    residents = int(appt.members.sum()) + home_members
    if info.get("residents") != residents:
        out.append(f"residents {info.get('residents')} vs {residents} in the plan")
    kk = distinct_kk + home_kk
    if info.get("households") != kk:
        out.append(f"households {info.get('households')} vs {kk} in the plan")
    if len(appt.date) and info.get("completion_date") != str(appt.date.max()):
        out.append(f"completion_date {info.get('completion_date')} vs {appt.date.max()}")
    per = info.get("kecamatan_completion")
    if isinstance(per, dict):
        codes, where = appt.coded["site"].labels, appt.coded["site"].codes
        days = appt.date.astype("datetime64[D]").astype(np.int64)
        most = np.full(len(codes), np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(most, where, days)
        latest = most.astype("datetime64[D]")
        for code, when in zip(codes.tolist(), latest.tolist(), strict=True):
            last = str(when)
            if per.get(code) != last:
                out.append(f"kecamatan_completion[{code}] {per.get(code)} vs {last}")
    else:
        out.append("kecamatan_completion missing")
    inputs = info.get("inputs") if isinstance(info.get("inputs"), dict) else {}
    assert isinstance(inputs, dict)
    if inputs.get("scenario_sha256") != ls.sha256:
        out.append("scenario_sha256 does not match the scenario file")
    if inputs.get("households_sha256") != households.sha256:
        out.append("households_sha256 does not match the household input")
    return out


def _claims(info: dict[str, Any], appt: Appointments, cal: Calendar) -> list[str]:
    """The figures summary.json states about the plan's quality, read against the plan itself:
    the status and each level's claim (a bound never above the value, OPTIMAL only where they
    meet), the completion and waiting levels measured again from the appointments with this
    module's own calendar, and ``late``."""
    out: list[str] = []
    levels = info.get("objectives")
    if not isinstance(levels, dict) or not levels:
        return ["objectives missing or empty"]
    optimal = True
    for name, lv in levels.items():
        if not isinstance(lv, dict):
            out.append(f"objectives.{name} is not a level")
            continue
        value, bound, status = lv.get("value"), lv.get("bound"), lv.get("status")
        if type(value) is not int or type(bound) is not int or not 0 <= bound <= value:
            out.append(f"objectives.{name}: bound {bound!r} and value {value!r} are not 0 <= bound <= value")
        if status not in ("OPTIMAL", "FEASIBLE"):
            out.append(f"objectives.{name}.status {status!r} is not OPTIMAL or FEASIBLE")
        elif status == "OPTIMAL" and value != bound:
            out.append(f"objectives.{name} is called OPTIMAL with value {value!r} above its bound {bound!r}")
        optimal = optimal and status == "OPTIMAL" and lv.get("scope", "global") == "global"
    status = info.get("status")
    if status not in ("OPTIMAL", "FEASIBLE"):
        out.append(f"status {status!r} is not OPTIMAL or FEASIBLE")
    elif status == "OPTIMAL" and not optimal:
        out.append("status OPTIMAL while not every level is proven optimal (globally)")
    dates = appt.date.astype("datetime64[D]")
    days, where = np.unique(dates, return_inverse=True)  # a few hundred dates for 650 k rows
    per_day = np.busday_count(cal.start, days, weekmask=cal.weekmask, holidays=cal.holidays).astype(np.int64) + 1
    index = per_day[where.reshape(-1)] if len(dates) else np.zeros(0, dtype=np.int64)
    measured = {
        "completion": int(index.max()) if len(index) else 0,
        "waiting": int((index * appt.members.astype(np.int64)).sum()),
    }
    for name, value in measured.items():
        lv = levels.get(name)
        if isinstance(lv, dict) and lv.get("value") != value:
            out.append(f"objectives.{name}.value {lv.get('value')!r} vs {value:,} measured on the appointments")
        elif not isinstance(lv, dict):
            out.append(f"objectives.{name} missing")
    late = bool(len(dates)) and bool(dates.max() > cal.last_regular)
    # Claiming "not late" of a late plan is rule 4's (every late appointment is named there); here
    # a "late" that is not a yes/no, or a plan that says it is late and is not.
    if not isinstance(info.get("late"), bool) or (info["late"] and not late):
        out.append(f"late {info.get('late')!r} vs {late} (appointments end {dates.max() if len(dates) else None})")
    return out


@dataclass(frozen=True)
class _Visit:
    kk: str
    hh: int  # household index, -1 when unknown
    date: dt.date | None  # None: listed as not served
    device: str
    kelurahan: str
    order: int


def _read_home_visits(path: Path, index: dict[str, int]) -> list[_Visit]:
    if not path.exists():
        raise InputError(path, None, "the scenario plans home visits but the plan has no home_visits.csv")
    out = []
    for row_no, row in iter_rows(path, HOME_VISIT_COLUMNS):
        date = parse_date(path, row_no, "date", row["date"]) if row["date"] else None
        order = parse_int(path, row_no, "order", row["order"], 1, 100_000) if row["order"] else 0
        out.append(
            _Visit(row["kk_id"], index.get(row["kk_id"], -1), date, row["device_id"], row["kelurahan_code"], order)
        )
    return out


def _check_home_visits(
    rep: Report,
    ls: LoadedScenario,
    cal: Calendar,
    visits: list[_Visit],
    households: Households,
    appt: Appointments,
    dev_kec: dict[str, str],
    dev_from: dict[str, np.datetime64],
    present: npt.NDArray[np.bool_],
    enrolled: npt.NDArray[np.bool_],
) -> None:
    """Home visits (issue 10): every flagged KK visited (or listed as unserved) and given no
    office seat; a mobile day is one device, out of the office all day, within its kecamatan,
    inside one kelurahan or a cluster within cluster_km, at most visits_per_day homes, on a
    regular working day; no more portable devices out than the kecamatan has."""
    spec = ls.scenario.home_visits
    assert spec is not None
    admin = ls.admin
    kel_kec = {k.code: k.kecamatan_code for k in admin.kelurahan}
    where = {k.code: (k.lat, k.lon) for k in admin.kelurahan}
    kel_index = admin.kelurahan_index()
    flagged = households.home_visit
    visited = {v.hh for v in visits if v.hh >= 0}
    was_visited = np.zeros(len(households), dtype=bool)
    was_visited[list(visited)] = True
    # One name per fault: a KK with both a visit and an office seat is rule 1's ("both"); here a
    # flagged KK seated at the office instead of visited, a visit for a KK that needs none, and a
    # flagged KK that is nowhere.
    office_instead = flagged & present & ~enrolled & ~was_visited
    rep.add("home-visit KK given an office seat", "home visits", office_instead, households.kk_id)
    not_flagged = [v.kk for v in visits if v.hh >= 0 and not flagged[v.hh] and not present[v.hh]]
    rep.add("home visit for a KK not flagged needs_home_visit", "home visits", not_flagged)
    rep.add("unknown KK in home_visits.csv", "home visits", [v.kk for v in visits if v.hh < 0])
    missing = households.kk_id[flagged & ~enrolled & ~was_visited & ~present].tolist()
    rep.add("flagged KK neither visited nor listed as unserved", "home visits", missing)
    days: dict[tuple[str, dt.date], list[_Visit]] = {}
    unserved = 0
    for v in visits:
        if v.date is None:
            unserved += 1
        else:
            days.setdefault((v.device, v.date), []).append(v)
    if unserved:
        rep.warnings.append(
            f"{unserved} flagged KK have no home visit: no portable device reaches them (see summary.json)"
        )
    office_days = set(zip(appt.device.tolist(), appt.date.astype(object).tolist(), strict=True))
    wrong_place, too_many, spread, off_days, busy, orders = [], [], [], [], [], []
    out_per_kec_day: dict[tuple[str, dt.date], int] = {}
    for (device, date), group in sorted(days.items()):
        label = f"{device} {date}"
        kec = dev_kec.get(device)
        if (
            kec is None
            or any(kel_kec.get(v.kelurahan) != kec for v in group)
            or np.datetime64(date) < dev_from.get(device, np.datetime64("9999-12-31"))
            or any(v.hh >= 0 and households.kelurahan[v.hh] != kel_index.get(v.kelurahan, -1) for v in group)
        ):
            wrong_place.append(label)  # once for the mobile day, whichever of its visits is wrong
        if len(group) > spec.visits_per_day:
            too_many.append(f"{label} ({len(group)} > {spec.visits_per_day})")
        kels = sorted({v.kelurahan for v in group})
        far = any(
            _haversine(*where[a], *where[b]) > spec.cluster_km
            for a in kels
            for b in kels
            if a < b and a in where and b in where
        )
        if (spec.cluster_km == 0 and len(kels) > 1) or far:
            spread.append(label)
        working = bool(cal.is_working(np.array([date], dtype="datetime64[D]"))[0])
        if not working or np.datetime64(date) > cal.last_regular or np.datetime64(date) < cal.start:
            off_days.append(label)
        if (device, date) in office_days:
            busy.append(label)
        if sorted(v.order for v in group) != list(range(1, len(group) + 1)):
            orders.append(label)
        if kec is not None:
            out_per_kec_day[(kec, date)] = out_per_kec_day.get((kec, date), 0) + 1
    over = [
        f"{k} {d} ({n} > {spec.portable(k)})" for (k, d), n in sorted(out_per_kec_day.items()) if n > spec.portable(k)
    ]
    rep.add(
        "home visit away from the KK's kecamatan or kelurahan, or before the device arrives", "home visits", wrong_place
    )
    rep.add("more home visits in a mobile day than visits_per_day", "home visits", too_many)
    rep.add("mobile day spread beyond one kelurahan or cluster_km", "home visits", spread)
    rep.add("home visit outside the regular working days", "home visits", off_days)
    rep.add("device on a mobile day also has office appointments", "home visits", busy)
    rep.add("visit order of a mobile day is not 1..n", "home visits", orders)
    rep.add("more portable devices out than the kecamatan has", "home visits", over)
