"""Every rule the verifier checks, broken alone and named alone (issue #26).

Three plans are made once: an office plan, a plan with home visits, and a re-plan with a delay
cap and missed KK re-booked into backlog seats. Each breaker below copies one of them, breaks
exactly one rule, brings summary.json along where the breakage moves a figure it states (with
this file's own calendar, never the verifier's or the planner's), and the verifier must name
that rule and no other. ``test_every_rule_has_a_breaker`` holds the list to the verifier: a rule
added without a breaker here (or a named test elsewhere) fails it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ektp_opt.inputs.households import Households
from ektp_opt.inputs.population import load_population
from ektp_opt.inputs.scenario import LoadedScenario, load_scenario
from ektp_opt.verify import verify_plan
from tests.cli.test_cli import run
from tests.conftest import KECAMATAN, KELURAHAN, prebuilt, scenario_text
from tests.resolve.test_resolve_cap import SLIP_HEAD, SLIP_HH, SLIP_LATE, TINY_POOL
from tests.verify.test_verify import MUTATIONS

Rows = list[dict[str, str]]
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Base:
    ls: LoadedScenario
    h: Households
    plan: Path


def _city(root: Path) -> None:
    (root / "kecamatan.csv").write_text(KECAMATAN)
    (root / "kelurahan.csv").write_text(KELURAHAN)


def _solve(scenario: Path, out: Path) -> Base:
    code, _o, err = run("solve", str(scenario), "--out", str(out), "--workers", "1", "--quiet")
    assert code == 0, err
    ls = load_scenario(scenario)
    return Base(ls, load_population(ls), out)


def _base(scenario: Path, plan: Path) -> Base:
    ls = load_scenario(scenario)
    return Base(ls, load_population(ls), plan)


def _build_office(root: Path) -> None:
    _city(root)
    early = "[[deliveries]]\ndate = 2011-08-08\nper_kecamatan = 2\n\n[[deliveries]]\ndate = 2011-08-22\npool = 2\n"
    busy = "[households]\nseed = 7\nresidents = 1500\nhouseholds = 500\n"
    (root / "s.toml").write_text(scenario_text(deliveries=early, households=busy))
    _solve(root / "s.toml", root / "plan")


def _build_visits(root: Path) -> None:
    _city(root)
    hh = "[households]\nseed = 5\nresidents = 900\nhouseholds = 300\nhome_visit_share = 0.15\n"
    hv = "[home_visits]\nportable_per_kecamatan = 1\nvisits_per_day = 4\ncluster_km = 0.0\n"
    (root / "s.toml").write_text(scenario_text(households=hh, extra=hv))
    _solve(root / "s.toml", root / "plan")


def _build_replan(root: Path) -> None:
    """Half the pool slips three weeks; every fifth KK booked before as-of missed its slot."""
    _city(root)
    (root / "before.toml").write_text(scenario_text(head=SLIP_HEAD, deliveries=TINY_POOL, households=SLIP_HH))
    (root / "s.toml").write_text(scenario_text(head=SLIP_HEAD, deliveries=SLIP_LATE, households=SLIP_HH))
    old = _solve(root / "before.toml", root / "old")
    past = sorted(r["kk_id"] for r in _read(old.plan / "appointments.csv") if r["date"] < "2011-08-22")
    sheet = root / "attendance.csv"
    sheet.write_text("kk_id,attended\n" + "".join(f"{k},{0 if n % 5 == 0 else 1}\n" for n, k in enumerate(past)))
    args = ["--as-of", "2011-08-22", "--notice-days", "3", "--max-delay", "15", "--attendance", str(sheet)]
    code, _o, err = run(
        "resolve",
        "--plan",
        str(old.plan),
        "--scenario",
        str(root / "s.toml"),
        *args,
        "--out",
        str(root / "plan"),
        "--workers",
        "1",
        "--quiet",
    )
    assert code == 0, err


def _build_operators(root: Path) -> None:
    """One operator per kecamatan working four device-shifts a day, two devices each: a day at
    the operators' limit leaves device-shifts free."""
    _city(root)
    early = "[[deliveries]]\ndate = 2011-08-08\nper_kecamatan = 2\n\n[[deliveries]]\ndate = 2011-08-22\npool = 2\n"
    busy = "[households]\nseed = 7\nresidents = 900\nhouseholds = 300\n"
    ops = "[operators]\nper_kecamatan = 1\nshifts_per_operator = 4\n"
    (root / "s.toml").write_text(scenario_text(deliveries=early, households=busy, extra=ops))
    _solve(root / "s.toml", root / "plan")


def _build_overflow(root: Path) -> None:
    """Offices may serve families of a neighbour within 3 km (Alpha and Beta are 2.5 km apart,
    Gamma 40 km away)."""
    _city(root)
    head = scenario_text().split("[calendar]")[0].replace("overflow_km = 0.0", "overflow_km = 3.0")
    busy = "[households]\nseed = 7\nresidents = 1500\nhouseholds = 500\n"
    early = "[[deliveries]]\ndate = 2011-08-08\nper_kecamatan = 2\n\n[[deliveries]]\ndate = 2011-08-22\npool = 2\n"
    (root / "s.toml").write_text(scenario_text(head=head, deliveries=early, households=busy))
    _solve(root / "s.toml", root / "plan")


def _fixture(name: str, build: Callable[[Path], None], factory: pytest.TempPathFactory) -> Base:
    root = prebuilt(name, build, factory.mktemp(name))
    return _base(root / "s.toml", root / "plan")


def _read(path: Path) -> Rows:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def _write(path: Path, rows: Rows, header: list[str] | None = None) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header or list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue())


class Plan:
    """A copy of a base plan to break: its files as rows, written back by ``save``."""

    def __init__(self, base: Base, where: Path) -> None:
        self.ls, self.h, self.dir = base.ls, base.h, where
        shutil.copytree(base.plan, where)
        self.appts = _read(where / "appointments.csv")
        self.devices = _read(where / "devices.csv")
        self.visits = _read(where / "home_visits.csv") if (where / "home_visits.csv").exists() else []
        self.backlog = _read(where / "backlog.csv") if (where / "backlog.csv").exists() else []
        self.changes = _read(where / "changes.csv") if (where / "changes.csv").exists() else []
        self.info = json.loads((where / "summary.json").read_text())

    def working(self, day: dt.date) -> bool:
        cal = self.ls.scenario.calendar
        return WEEK[day.weekday()] in cal.workdays and day not in cal.holidays

    def index(self, day: str) -> int:
        """1 + the working days from the start to the day before ``day`` (negative before the
        start): counted here, day by day."""
        start, d = self.ls.scenario.start, dt.date.fromisoformat(day)
        if d >= start:
            return 1 + sum(self.working(start + dt.timedelta(n)) for n in range((d - start).days))
        return 1 - sum(self.working(d + dt.timedelta(n)) for n in range((start - d).days))

    def last_regular(self) -> str:
        """The working day before the catch-up days (the last ``catch_up_days`` working days)."""
        sc = self.ls.scenario
        day, left = sc.deadline, sc.backlog.catch_up_days
        while left or not self.working(day):
            left -= self.working(day)
            day -= dt.timedelta(1)
        return str(day)

    def free(self, device: str, date: str, shift: str) -> int:
        """Regular seats left in a device-shift (all of them where nobody is booked)."""
        sc = self.ls.scenario
        kec = self.device_kec()[device]
        taken = sum(
            int(r["members"]) for r in self.appts if (r["device_id"], r["date"], r["shift"]) == (device, date, shift)
        )
        return sc.device.capacity_per_day // sc.shifts_for(kec) - sc.backlog.reserve_per_shift - taken

    def slots(self, kecamatan: str, date: str) -> list[tuple[str, str]]:
        """The device-shifts of a kecamatan open on ``date``."""
        shifts = self.ls.scenario.shifts_for(kecamatan)
        return [
            (d["device_id"], str(s))
            for d in self.devices
            if d["kecamatan"] == kecamatan and d["available_from"] <= date
            for s in range(1, shifts + 1)
        ]

    def slots_of_any(self, date: str) -> list[tuple[str, str]]:
        """Every device-shift of the city open on ``date``."""
        return [s for k in sorted({d["kecamatan"] for d in self.devices}) for s in self.slots(k, date)]

    def device_kec(self) -> dict[str, str]:
        return {d["device_id"]: d["kecamatan"] for d in self.devices}

    def office_days(self) -> set[tuple[str, str]]:
        return {(r["device_id"], r["date"]) for r in self.appts}

    def mobile_days(self) -> dict[tuple[str, str], Rows]:
        days: dict[tuple[str, str], Rows] = defaultdict(list)
        for v in self.visits:
            if v["date"]:
                days[(v["device_id"], v["date"])].append(v)
        return days

    def summarise(self) -> None:
        """The figures summary.json states about the appointments, counted again here."""
        members = dict(zip(self.h.kk_id.tolist(), self.h.members.tolist(), strict=True))
        info = self.info
        info["residents"] = sum(int(r["members"]) for r in self.appts) + sum(
            members.get(v["kk_id"], 0) for v in self.visits
        )
        info["households"] = len({r["kk_id"] for r in self.appts}) + len(self.visits)
        info["completion_date"] = max(r["date"] for r in self.appts)
        last: dict[str, str] = {}
        for r in self.appts:
            last[r["site_kecamatan"]] = max(last.get(r["site_kecamatan"], ""), r["date"])
        info["kecamatan_completion"] = dict(sorted(last.items()))
        days = {d: self.index(d) for d in {r["date"] for r in self.appts}}
        measured = {
            "completion": max(days.values()),
            "waiting": sum(days[r["date"]] * int(r["members"]) for r in self.appts),
        }
        for name, value in measured.items():
            level = info["objectives"][name]
            if level["value"] != value:
                level["value"], level["bound"] = value, min(level["bound"], value)
                level["status"] = "OPTIMAL" if level["bound"] == value else "FEASIBLE"
                if level["status"] == "FEASIBLE":
                    info["status"] = "FEASIBLE"

    def save(self) -> set[str]:
        self.save_files()
        return {v.rule for v in verify_plan(self.dir, self.ls, self.h).violations}

    def save_files(self) -> None:
        _write(self.dir / "appointments.csv", self.appts)
        _write(self.dir / "devices.csv", self.devices)
        for name, rows in (("home_visits.csv", self.visits), ("backlog.csv", self.backlog)):
            if (self.dir / name).exists():
                _write(self.dir / name, rows, list(_read_header(self.dir / name)))
        if (self.dir / "changes.csv").exists():
            _write(self.dir / "changes.csv", self.changes, list(_read_header(self.dir / "changes.csv")))
        (self.dir / "summary.json").write_text(json.dumps(self.info))


def _read_header(path: Path) -> list[str]:
    return path.read_text().splitlines()[0].split(",")


def _seats_left(p: Plan) -> Counter[tuple[str, str, str]]:
    sc = p.ls.scenario
    load: Counter[tuple[str, str, str]] = Counter()
    for r in p.appts:
        load[(r["device_id"], r["date"], r["shift"])] += int(r["members"])
    kec = p.device_kec()
    return Counter(
        {
            k: sc.device.capacity_per_day // sc.shifts_for(kec[k[0]]) - sc.backlog.reserve_per_shift - n
            for k, n in load.items()
        }
    )


# --- breakers: each returns nothing; it edits the Plan ---------------------------------------


def bad_id(p: Plan) -> None:
    old = p.devices[0]["device_id"]
    for row in p.devices + p.appts:
        if row["device_id"] == old:
            row["device_id"] = "+" + old  # a spreadsheet formula's first character


def unknown_kk(p: Plan) -> None:
    left = _seats_left(p)
    dev, date, shift = next(k for k, n in left.items() if n >= 1)
    row = next(r for r in p.appts if (r["device_id"], r["date"], r["shift"]) == (dev, date, shift))
    p.appts.append({**row, "kk_id": "KK-NOBODY", "members": "1"})
    p.summarise()


def stray_home_visits(p: Plan) -> None:
    (p.dir / "home_visits.csv").write_text("kk_id,date,device_id,kelurahan_code,order\n")


def visited_and_seated(p: Plan) -> None:
    v = next(v for v in p.visits if v["date"])
    left = _seats_left(p)
    members = int(p.h.members[list(p.h.kk_id).index(v["kk_id"])])
    kec = p.device_kec()
    site = kec[v["device_id"]]
    dev, date, shift = next(k for k, n in left.items() if n >= members and kec[k[0]] == site)
    p.appts.append(
        {
            "kk_id": v["kk_id"],
            "kelurahan_code": v["kelurahan_code"],
            "home_kecamatan": site,
            "site_kecamatan": site,
            "date": date,
            "shift": shift,
            "device_id": dev,
            "members": str(members),
        }
    )
    p.visits = [w for w in p.visits if w is not v] + [v]  # the visit stays
    p.summarise()  # the summary counts the rows of both files


def office_instead_of_visit(p: Plan) -> None:
    visited_and_seated(p)
    kk = p.appts[-1]["kk_id"]
    day = next(v for v in p.visits if v["kk_id"] == kk)
    group = [v for v in p.visits if (v["device_id"], v["date"]) == (day["device_id"], day["date"]) and v is not day]
    p.visits.remove(day)
    for n, v in enumerate(sorted(group, key=lambda v: int(v["order"])), start=1):
        v["order"] = str(n)
    p.summarise()


def visit_not_flagged(p: Plan) -> None:
    """An office KK that needs no visit taken out of the office and visited at home instead."""
    flagged = set(p.h.kk_id[p.h.home_visit].tolist())
    day, group = next((k, g) for k, g in p.mobile_days().items() if len(g) < 4)
    kel = group[0]["kelurahan_code"]
    kk = next(r for r in p.appts if r["kk_id"] not in flagged and r["kelurahan_code"] == kel)
    p.appts.remove(kk)
    p.visits.append(
        {"kk_id": kk["kk_id"], "date": day[1], "device_id": day[0], "kelurahan_code": kel, "order": str(len(group) + 1)}
    )
    p.summarise()


def unknown_in_visits(p: Plan) -> None:
    p.visits.append({"kk_id": "KK-NOBODY", "date": "", "device_id": "", "kelurahan_code": "", "order": ""})
    p.summarise()


def flagged_nowhere(p: Plan) -> None:
    v = next(v for v in p.visits if v["date"])
    group = [w for w in p.visits if (w["device_id"], w["date"]) == (v["device_id"], v["date"]) and w is not v]
    p.visits.remove(v)
    for n, w in enumerate(sorted(group, key=lambda w: int(w["order"])), start=1):
        w["order"] = str(n)
    p.summarise()


def visit_wrong_kelurahan(p: Plan) -> None:
    """A whole mobile day said to be in another kelurahan of the same kecamatan."""
    group = next(iter(p.mobile_days().values()))
    kel = group[0]["kelurahan_code"]
    other = next(k.code for k in p.ls.admin.kelurahan if k.kecamatan_code == kel[:8] and k.code != kel)
    for v in group:
        v["kelurahan_code"] = other


def _merge_days(p: Plan, same_kelurahan: bool) -> list[str]:
    days = p.mobile_days()
    for (dev, date), group in days.items():
        for (dev2, date2), other in days.items():
            same = other[0]["kelurahan_code"] == group[0]["kelurahan_code"]
            if dev2 == dev and date2 != date and same == same_kelurahan:
                if same_kelurahan and len(group) + len(other) <= 4:
                    continue  # need more than visits_per_day together
                if not same_kelurahan and len(group) + 1 > 4:
                    continue
                moving = other if same_kelurahan else other[:1]
                for n, v in enumerate(moving, start=len(group) + 1):
                    v["date"], v["order"] = date, str(n)
                for n, v in enumerate(
                    sorted([w for w in other if w not in moving], key=lambda w: int(w["order"])), start=1
                ):
                    v["order"] = str(n)
                if same_kelurahan:  # visits_per_day is 4 in this plan
                    return [f"{dev} {date} ({len(group) + len(moving)} > 4)"]
                return [f"{dev} {date}"]
    pytest.fail("no two mobile days of one device to merge")


def too_many_visits(p: Plan) -> list[str]:
    return _merge_days(p, same_kelurahan=True)


def spread_day(p: Plan) -> list[str]:
    return _merge_days(p, same_kelurahan=False)


def _move_day(p: Plan, to: str) -> None:
    group = next(
        g
        for k, g in p.mobile_days().items()
        if not any(d == to and p.device_kec()[d2] == p.device_kec()[k[0]] for d2, d in p.mobile_days())
    )
    for v in group:
        v["date"] = to


def visit_on_catch_up_day(p: Plan) -> None:
    _move_day(p, "2011-09-10")  # the last catch-up day: no office work then in this plan


def visit_while_in_office(p: Plan) -> None:
    mobile = p.mobile_days()
    office = p.office_days()
    kec = p.device_kec()
    for (dev, date), group in mobile.items():
        for d, day in sorted(office):
            taken = any(d2 != dev and day2 == day and kec[d2] == kec[dev] for d2, day2 in mobile)
            if d == dev and day != date and (dev, day) not in mobile and not taken:
                for v in group:
                    v["date"] = day
                return
    pytest.fail("no office day of a mobile device to move a mobile day onto")


def visit_order(p: Plan) -> list[str]:
    (dev, date), group = next(iter(p.mobile_days().items()))
    group[0]["order"] = str(len(group) + 1)
    return [f"{dev} {date}"]


def two_portables_out(p: Plan) -> list[str]:
    """Half of a mobile day handed to a second device of the kecamatan, free that day: two
    portable devices out where the kecamatan has one."""
    mobile, office = p.mobile_days(), p.office_days()
    for (dev, date), group in mobile.items():
        if len(group) < 2:
            continue
        for d in p.devices:
            other = d["device_id"]
            same = d["kecamatan"] == p.device_kec()[dev] and other != dev and d["available_from"] <= date
            if same and (other, date) not in office and (other, date) not in mobile:
                ordered = sorted(group, key=lambda v: int(v["order"]))
                for n, v in enumerate(ordered[len(ordered) // 2 :], start=1):
                    v["device_id"], v["order"] = other, str(n)
                return [f"{d['kecamatan']} {date} (2 > 1)"]  # one portable device per kecamatan
    pytest.fail("no mobile day to share with a second device")


def home_kecamatan(p: Plan) -> None:
    r = next(r for r in p.appts if r["home_kecamatan"] == "12.71.01")
    r["home_kecamatan"] = "12.71.02"


def available_early(p: Plan) -> list[str]:
    d = p.devices[0]
    d["available_from"] = d["delivery_date"]  # setup_days = 1: a day too early, nobody booked earlier
    return [f"{d['device_id']} ({d['delivery_date']})"]


def device_unknown_kecamatan(p: Plan) -> list[str]:
    """One more device line, at a kecamatan code the city does not have; nobody is booked on it."""
    p.devices.append({**p.devices[-1], "device_id": "12.71.99-D001", "kecamatan": "12.71.99"})
    return ["12.71.99-D001"]


def summary_residents(p: Plan) -> None:
    p.info["residents"] += 1


def summary_claim(p: Plan) -> list[str]:
    """A bound above its value, left OPTIMAL: both words of the claim are wrong."""
    level = p.info["objectives"]["waiting"]
    level["bound"], level["status"] = level["value"] + 1, "OPTIMAL"
    return [
        f"objectives.waiting: bound {level['bound']} and value {level['value']} are not 0 <= bound <= value",
        f"objectives.waiting is called OPTIMAL with value {level['value']} above its bound {level['bound']}",
    ]


def no_changes(p: Plan) -> list[str]:
    """changes.csv gone, and the plan in force with it: the cap can be checked on nothing."""
    (p.dir / "changes.csv").unlink()
    p.changes = []
    p.info["resolve"]["old_plan"] = str(p.dir / "gone")
    return ["changes.csv"]


def unlisted_change(p: Plan) -> None:
    missed = {b["kk_id"] for b in p.backlog}
    moved = next(c for c in p.changes if c["kk_id"] not in missed and c["old_date"] != c["new_date"])
    p.changes.remove(moved)


def _booking(p: Plan, most: int | None = None) -> dict[str, str]:
    rows = [b for b in p.backlog if b["date"]]
    if most is not None:
        rows = [b for b in rows if int(b["members"]) <= most]
    assert rows, "the re-plan has backlog bookings"
    return rows[0]


def backlog_before_missed(p: Plan) -> None:
    b = _booking(p, most=p.ls.scenario.backlog.reserve_per_shift)
    appt = next(r for r in p.appts if r["kk_id"] == b["kk_id"])
    b["date"], b["shift"], b["device_id"] = appt["date"], appt["shift"], appt["device_id"]


def backlog_wrong_office(p: Plan) -> None:
    b = _booking(p, most=p.ls.scenario.backlog.reserve_per_shift)
    booked = {(x["device_id"], x["date"], x["shift"]) for x in p.backlog}
    b["device_id"], b["shift"] = next(
        (d["device_id"], str(s))
        for d in p.devices
        for s in range(1, p.ls.scenario.shifts_per_day + 1)
        if d["kecamatan"] != b["site_kecamatan"]
        and d["available_from"] <= b["date"]
        and (d["device_id"], b["date"], str(s)) not in booked
    )


def backlog_on_sunday(p: Plan) -> None:
    b = _booking(p, most=p.ls.scenario.backlog.reserve_per_shift)
    day = dt.date.fromisoformat(b["date"])
    day += dt.timedelta((6 - day.weekday()) % 7 or 7)
    b["date"] = str(day)


def backlog_over_reserve(p: Plan) -> list[str]:
    """A booking of more members than the backlog seats moved into a device-shift of its office
    that the new plan's appointments fill (a regular day after the missed slot): only the reserve
    is left there."""
    sc = p.ls.scenario
    booked: Counter[tuple[str, str, str]] = Counter()
    for r in p.appts:
        booked[(r["device_id"], r["date"], r["shift"])] += int(r["members"])
    regular = sc.device.capacity_per_day // sc.shifts_per_day - sc.backlog.reserve_per_shift
    kec = p.device_kec()
    for b in (b for b in p.backlog if b["date"] and int(b["members"]) > sc.backlog.reserve_per_shift):
        for (dev, date, shift), n in sorted(booked.items()):
            if n == regular and kec[dev] == b["site_kecamatan"] and b["missed_date"] < date <= p.last_regular():
                b["date"], b["shift"], b["device_id"] = date, shift, dev
                there = sum(
                    int(x["members"])
                    for x in p.backlog
                    if (x["device_id"], x["date"], x["shift"]) == (dev, date, shift)
                )
                return [f"{dev} {date} shift {shift} ({there} > {sc.backlog.reserve_per_shift})"]
    pytest.fail("no full device-shift to move a booking into")


def device_twice(p: Plan) -> list[str]:
    d = p.devices[0]
    p.devices.append({**d, "kecamatan": "12.71.03" if d["kecamatan"] != "12.71.03" else "12.71.01"})
    return [d["device_id"]]


def far_site(p: Plan) -> None:
    """A KK of Alpha served in Gamma, 40 km away, on a Gamma device with room that day."""
    for r in p.appts:
        if r["home_kecamatan"] == "12.71.01":
            slot = next(
                ((d, s) for d, s in p.slots("12.71.03", r["date"]) if p.free(d, r["date"], s) >= int(r["members"])),
                None,
            )
            if slot:
                r["site_kecamatan"], (r["device_id"], r["shift"]) = "12.71.03", slot
                return
    pytest.fail("no Gamma device-shift with room")


def _room_same_day(p: Plan, r: dict[str, str], need: int) -> tuple[str, str]:
    return next(
        (d, s)
        for d, s in p.slots(r["site_kecamatan"], r["date"])
        if (d, s) != (r["device_id"], r["shift"]) and p.free(d, r["date"], s) >= need
    )


def listed_twice(p: Plan) -> None:
    r = next(
        r
        for r in p.appts
        if any(p.free(d, r["date"], s) >= int(r["members"]) for d, s in p.slots(r["site_kecamatan"], r["date"]))
    )
    twin = dict(r)
    twin["device_id"], twin["shift"] = _room_same_day(p, r, int(r["members"]))
    p.appts.append(twin)
    p.summarise()


def split_family(p: Plan) -> None:
    r = next(
        r
        for r in p.appts
        if int(r["members"]) >= 2
        and any(p.free(d, r["date"], s) >= 1 for d, s in p.slots(r["site_kecamatan"], r["date"]))
    )
    twin = {**r, "members": "1"}
    twin["device_id"], twin["shift"] = _room_same_day(p, r, 1)
    r["members"] = str(int(r["members"]) - 1)
    p.appts.append(twin)


def overfill(p: Plan) -> list[str]:
    """A whole KK moved into a full device-shift of its office, the same day."""
    for r in p.appts:
        for d, s in p.slots(r["site_kecamatan"], r["date"]):
            if (d, s) != (r["device_id"], r["shift"]) and p.free(d, r["date"], s) < int(r["members"]):
                r["device_id"], r["shift"] = d, s
                sc = p.ls.scenario
                seats = sc.device.capacity_per_day // sc.shifts_for(r["site_kecamatan"]) - sc.backlog.reserve_per_shift
                return [f"{d} {r['date']} shift {s} ({seats - p.free(d, r['date'], s)} > {seats})"]
    pytest.fail("no full device-shift")


def before_available(p: Plan) -> None:
    """A KK booked on a pool device the working day before the device is ready."""
    for d in p.devices:
        ready = dt.date.fromisoformat(d["available_from"])
        day = ready - dt.timedelta(1)
        while not p.working(day):
            day -= dt.timedelta(1)
        if day >= p.ls.scenario.start:
            r = next(r for r in p.appts if r["device_id"] == d["device_id"])
            r["date"] = str(day)
            p.summarise()
            return
    pytest.fail("no device delivered after the start")


def over_operators(p: Plan) -> list[str]:
    """A KK moved to a device-shift of its office no one booked, on a day the operators already
    staff as many device-shifts as they can (the seats are there, the people are not)."""
    used: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    for r in p.appts:
        used[(r["site_kecamatan"], r["date"])].add((r["device_id"], r["shift"]))
    for (site, date), slots in sorted(used.items()):
        if len(slots) < 4:
            continue
        free = [(d, sh) for d, sh in p.slots(site, date) if (d, sh) not in slots]
        mover = next((r for r in p.appts if (r["site_kecamatan"], r["date"]) == (site, date)), None)
        if free and mover is not None:
            mover["device_id"], mover["shift"] = free[0]
            return [f"{site} {date} ({len(slots) + 1} device-shifts)"]
    pytest.fail("no day at the operators' limit with a device-shift free")


def overflow_too_far(p: Plan) -> None:
    """A family of Alpha served in Gamma (40 km; overflow_km is 3) on a Gamma device with room."""
    far_site(p)


def _near_site(p: Plan) -> None:
    """A family of Alpha served in Beta or one of Beta in Alpha, 2.5 km apart (overflow_km 3), the
    same day: allowed, so nothing is named."""
    other = {"12.71.01": "12.71.02", "12.71.02": "12.71.01"}
    for r in p.appts:
        there = other.get(r["home_kecamatan"])
        if there is None or r["site_kecamatan"] == there:
            continue
        slot = next(
            ((d, s) for d, s in p.slots(there, r["date"]) if p.free(d, r["date"], s) >= int(r["members"])), None
        )
        if slot:
            r["site_kecamatan"], (r["device_id"], r["shift"]) = there, slot
            return
    pytest.fail("no device-shift with room next door")


def kelurahan_differs(p: Plan) -> None:
    """One KK said to live in the other kelurahan of its kecamatan: its date, office and members
    stay, so no seat, window or figure moves."""
    kk = next(r for r in p.appts if r["kelurahan_code"] == "12.71.01.1001")
    kk["kelurahan_code"] = "12.71.01.1002"


def device_not_listed(p: Plan) -> None:
    """One KK booked on a device devices.csv does not have, at its own office."""
    p.appts[0]["device_id"] = p.appts[0]["site_kecamatan"] + "-D999"


def shift_outside(p: Plan) -> None:
    p.appts[0]["shift"] = "9"


def device_away(p: Plan) -> None:
    """One KK moved to a device of another kecamatan that has room in the same shift (the KK's
    own office stays its site)."""
    kec, shifts = p.device_kec(), p.ls.scenario.shifts_for
    for r in p.appts:
        for d, s in p.slots_of_any(r["date"]):
            same_seats = shifts(kec[d]) == shifts(r["site_kecamatan"])
            if (
                kec[d] != r["site_kecamatan"]
                and same_seats
                and s == r["shift"]
                and p.free(d, r["date"], s) >= int(r["members"])
            ):
                r["device_id"] = d
                return
    pytest.fail("no device of another kecamatan with room")


def before_start(p: Plan) -> None:
    """A KK moved to the working day before the start, on its own device if it was there."""
    day = p.ls.scenario.start - dt.timedelta(1)
    while not p.working(day):
        day -= dt.timedelta(1)
    last = max(r["date"] for r in p.appts)
    ready = {d["device_id"]: d["available_from"] for d in p.devices}
    kk = next(r for r in p.appts if r["date"] != last and ready[r["device_id"]] <= str(day))
    kk["date"] = str(day)
    p.summarise()


def cap_zero(p: Plan) -> list[str]:
    """The re-plan says no moved KK is later than its old date: every later move breaks it, in
    the plan in force and in changes.csv alike (the first five, in the verifier's sort order)."""
    p.info["resolve"]["max_delay"] = 0
    return sorted(_later_moves(p))[:5]


def changes_date_unreadable(p: Plan) -> None:
    """A changes.csv line whose old date is no date (the KK's own line stays as it was)."""
    missed, office = {b["kk_id"] for b in p.backlog}, {r["kk_id"] for r in p.appts}
    line = next(c for c in p.changes if c["old_date"] and c["kk_id"] in office and c["kk_id"] not in missed)
    p.changes.append({**line, "old_date": "2011-13-01"})


def _rows_and_devices(mutate: Callable[[Rows, Rows, LoadedScenario], None]) -> Callable[[Plan], None]:
    """A mutation of tests/verify/test_verify.py, with summary.json brought along."""

    def breaker(p: Plan) -> None:
        mutate(p.appts, p.devices, p.ls)
        p.summarise()

    return breaker


BREAKERS: dict[str, tuple[str, Callable[[Plan], list[str] | None]]] = {
    **{rule: ("office", _rows_and_devices(mutate)) for mutate, rule in reversed(MUTATIONS.values())},
    "device listed twice (two kecamatan)": ("office", device_twice),
    "served away from home beyond overflow_km": ("office", far_site),
    "KK listed more than once": ("office", listed_twice),
    "family split across device-shifts": ("office", split_family),
    "device-shift over its regular seats": ("office", overfill),
    "device used before available_from": ("office", before_available),
    "more device-shifts than operators can staff": ("operators", over_operators),
    "kk_id or device_id not of letters, digits, '-' and '.' (starting alphanumeric)": ("office", bad_id),
    "unknown KK": ("office", unknown_kk),
    "home_visits.csv in a plan whose scenario plans no home visits": ("office", stray_home_visits),
    "KK both visited at home and given an office seat": ("visits", visited_and_seated),
    "home_kecamatan is not the kelurahan's kecamatan": ("office", home_kecamatan),
    "available_from does not follow delivery + setup days": ("office", available_early),
    "device at an unknown kecamatan": ("office", device_unknown_kecamatan),
    "summary.json disagrees with the plan": ("office", summary_residents),
    "summary.json claims what the plan does not show": ("office", summary_claim),
    "re-plan without changes.csv": ("replan", no_changes),
    "a KK whose date changed is not in changes.csv": ("replan", unlisted_change),
    "backlog booking not after the missed appointment": ("replan", backlog_before_missed),
    "backlog booking on a device not at the KK's office then": ("replan", backlog_wrong_office),
    "backlog booking on a non-working day or after the deadline": ("replan", backlog_on_sunday),
    "backlog bookings over a device-shift's seats left free (reserve and unbooked)": (
        "replan",
        backlog_over_reserve,
    ),
    "home-visit KK given an office seat": ("visits", office_instead_of_visit),
    "home visit for a KK not flagged needs_home_visit": ("visits", visit_not_flagged),
    "unknown KK in home_visits.csv": ("visits", unknown_in_visits),
    "flagged KK neither visited nor listed as unserved": ("visits", flagged_nowhere),
    "home visit away from the KK's kecamatan or kelurahan, or before the device arrives": (
        "visits",
        visit_wrong_kelurahan,
    ),
    "more home visits in a mobile day than visits_per_day": ("visits", too_many_visits),
    "mobile day spread beyond one kelurahan or cluster_km": ("visits", spread_day),
    "home visit outside the regular working days": ("visits", visit_on_catch_up_day),
    "device on a mobile day also has office appointments": ("visits", visit_while_in_office),
    "visit order of a mobile day is not 1..n": ("visits", visit_order),
    "more portable devices out than the kecamatan has": ("visits", two_portables_out),
    "kelurahan differs from the household": ("office", kelurahan_differs),
    "device not in devices.csv": ("office", device_not_listed),
    "device used away from its kecamatan": ("office", device_away),
    "shift outside 1..shifts_per_day": ("office", shift_outside),
    "appointment before start": ("office", before_start),
    "moved KK appointed more than max_delay (0) working days later": ("replan", cap_zero),
    "changes.csv date not YYYY-MM-DD": ("replan", changes_date_unreadable),
}

# Which rule of docs/SPEC.md each check stands for (read from SPEC.md's lists: "Hard rules of a
# plan" 1-8, home visits, the re-plan's files, and summary.json's claims).
SPEC_RULE = {
    "kk_id or device_id not of letters, digits, '-' and '.' (starting alphanumeric)": "8",
    "unknown KK": "1",
    "KK missing from the plan": "1",
    "KK both visited at home and given an office seat": "1",
    "family split across device-shifts": "1",
    "KK listed more than once": "1",
    "members differ from the household": "1",
    "kelurahan differs from the household": "1",
    "home_kecamatan is not the kelurahan's kecamatan": "1",
    "device listed twice (two kecamatan)": "3",
    "available_from does not follow delivery + setup days": "3",
    "device at an unknown kecamatan": "3",
    "device not in devices.csv": "3",
    "device used away from its kecamatan": "3",
    "device used before available_from": "3",
    "appointment on a non-working day": "3",
    "more devices placed than delivered": "6",
    "shift outside 1..shifts_per_day": "2",
    "device-shift over its regular seats": "2",
    "appointment before start": "4",
    "appointment after the last regular day (catch-up days or later)": "4",
    "served away from home beyond overflow_km": "5",
    "more device-shifts than operators can staff": "7",
    "summary.json disagrees with the plan": "summary",
    "summary.json claims what the plan does not show": "summary",
    "home_visits.csv in a plan whose scenario plans no home visits": "HV",
}


def spec_rule(rule: str) -> str:
    if rule in SPEC_RULE:
        return SPEC_RULE[rule]
    home = ("home visit", "home-visit", "home_visits.csv", "mobile day", "portable", "flagged KK")
    return "home visits" if any(h in rule for h in home) else "resolve"


def said_count(p: Plan, rule: str) -> int:
    """How many rows, devices or days a breaker broke: one, except where it broke a whole id or a
    cap for everything (counted here from the files)."""
    if rule.startswith("kk_id or device_id"):  # one device id: every appointment on it
        return sum(r["device_id"].startswith("+") for r in p.appts)
    if rule.startswith("moved KK appointed more than max_delay (0)"):
        return len(_later_moves(p))
    return 2 if rule == "summary.json claims what the plan does not show" else 1


def _later_moves(p: Plan) -> set[str]:
    """Every move to a later working day, as the plan in force and changes.csv each show it
    (backlog re-bookings are not moves; a KK whose old date is unknown has none to cap)."""

    def later(old: str, new: str) -> bool:
        try:
            a, b = dt.date.fromisoformat(old), dt.date.fromisoformat(new)
        except ValueError:
            return False  # an unreadable line is a rule of its own
        return any(p.working(a + dt.timedelta(n)) for n in range(1, (b - a).days + 1))

    def after(old: str, new: str) -> int:  # working days after old up to and including new
        a, b = dt.date.fromisoformat(old), dt.date.fromisoformat(new)
        return sum(p.working(a + dt.timedelta(n)) for n in range(1, (b - a).days + 1))

    missed, office = {b["kk_id"] for b in p.backlog}, {r["kk_id"]: r["date"] for r in p.appts}
    out = {
        f"{c['kk_id']} (changes.csv: {after(c['old_date'], c['new_date'])} working days)"
        for c in p.changes
        if c["kk_id"] in office and c["kk_id"] not in missed and c["old_date"] and later(c["old_date"], c["new_date"])
    }
    before = {r["kk_id"]: r["date"] for r in _read(Path(p.info["resolve"]["old_plan"]) / "appointments.csv")}
    return out | {
        f"{k} ({after(before[k], day)} working days after its old appointment)"
        for k, day in office.items()
        if k in before and k not in missed and before[k] != day and later(before[k], day)
    }


@pytest.mark.parametrize("rule", list(BREAKERS))
def test_rule_broken_alone_is_named_alone(rule: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """The rule is named alone, as the rule of SPEC.md it stands for, with how many rows break it
    and examples naming them (a kk_id, a device, a date: never other household data)."""
    kind, breaker = BREAKERS[rule]
    _named_alone(rule, request.getfixturevalue(kind), breaker, tmp_path)


def _named_alone(rule: str, base: Base, breaker: Callable[[Plan], list[str] | None], tmp_path: Path) -> None:
    p = Plan(base, tmp_path / "broken")
    assert p.save() == set(), "the copy is clean before it is broken"
    said = breaker(p)
    assert p.save() == {rule}
    report = verify_plan(p.dir, p.ls, p.h)
    assert report.plan_dir == p.dir and report.rows == len(p.appts) and not report.ok
    (v,) = report.violations
    assert v.spec == spec_rule(rule)
    if v.spec == "8":  # an id a spreadsheet would run or a shell would read is never shown
        assert v.count == said_count(p, rule) and v.examples == []
    else:
        assert v.count == said_count(p, rule) and 1 <= len(v.examples) <= min(v.count, 5) and all(v.examples), v
    if said is not None:  # the breaker knows the words: a device, a day, the figures it broke
        assert v.examples == said


def _build_named(root: Path) -> None:
    """Deliveries of all three kinds, one of them to a named kecamatan on a day others arrive."""
    _city(root)
    deliveries = (
        "[[deliveries]]\ndate = 2011-08-08\nper_kecamatan = 1\n\n"
        '[[deliveries]]\ndate = 2011-08-08\nkecamatan = "12.71.01"\ncount = 1\n\n'
        "[[deliveries]]\ndate = 2011-08-22\npool = 2\n"
    )
    busy = "[households]\nseed = 7\nresidents = 1200\nhouseholds = 400\n"
    (root / "s.toml").write_text(scenario_text(deliveries=deliveries, households=busy))
    _solve(root / "s.toml", root / "plan")


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return _fixture("named", _build_named, tmp_path_factory)


def _one_more_device(p: Plan, kecamatan: str, like: dict[str, str]) -> None:
    """A device line nobody is booked on, delivered with ``like`` (so its available_from is right)."""
    p.devices.append({**like, "device_id": f"{kecamatan}-D099", "kecamatan": kecamatan})


def named_device_elsewhere(p: Plan) -> list[str]:
    """One more device of the 8 August deliveries, at Beta: Beta was sent one that day, Alpha two."""
    like = next(d for d in p.devices if d["delivery_date"] == "2011-08-08")
    _one_more_device(p, "12.71.02", like)
    return ["2011-08-08: 1 pool devices placed, 0 delivered"]


def named_device_twice_over(p: Plan) -> list[str]:
    """Alpha with a third device of 8 August: the per-kecamatan one and the named one are two."""
    like = next(d for d in p.devices if d["delivery_date"] == "2011-08-08")
    _one_more_device(p, "12.71.01", like)
    return ["2011-08-08: 1 pool devices placed, 0 delivered"]


def device_from_no_delivery(p: Plan) -> list[str]:
    """A pool device said to come on a day no delivery came (and ready two days after it)."""
    d = next(d for d in p.devices if d["delivery_date"] == "2011-08-22")
    d["delivery_date"], d["available_from"] = "2011-08-09", "2011-08-11"
    return ["2011-08-09: 1 devices, no such delivery"]


# More ways to break the delivery rule than BREAKERS (one per rule) holds: (base, breaker).
DELIVERY_BREAKERS = {
    "a named delivery's device elsewhere": ("named", named_device_elsewhere),
    "a named delivery counted with the per-kecamatan one": ("named", named_device_twice_over),
    "a device from no delivery": ("office", device_from_no_delivery),
}


@pytest.mark.parametrize("name", list(DELIVERY_BREAKERS))
def test_each_way_of_placing_more_than_delivered(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    kind, breaker = DELIVERY_BREAKERS[name]
    _named_alone("more devices placed than delivered", request.getfixturevalue(kind), breaker, tmp_path)


def test_a_missing_plan_folder_is_named(tmp_path: Path, office: Base) -> None:
    from ektp_opt.errors import InputError

    with pytest.raises(InputError) as exc:
        verify_plan(tmp_path / "nowhere", office.ls, office.h)
    assert exc.value.message == f"{tmp_path / 'nowhere'}: plan folder not found"


def test_every_rule_has_a_breaker(office: Base, visits: Base, replan: Base) -> None:
    """Every rule the verifier checks on these plans (and the operators' rule, checked only where a
    scenario has operators) is broken alone by a breaker here."""
    checked: set[str] = set()
    for base in (office, visits, replan):
        checked |= set(verify_plan(base.plan, base.ls, base.h).checked)
    covered = set(BREAKERS)
    checked = {c.split(" (")[0] if c.startswith("moved KK appointed") else c for c in checked}
    covered = {c.split(" (")[0] if c.startswith("moved KK appointed") else c for c in covered}
    assert checked - covered == set(), "rules without a test that breaks them alone"
    assert "more device-shifts than operators can staff" in covered


def test_overflow_is_measured_as_a_distance(overflow: Base, tmp_path: Path) -> None:
    """With overflow_km 3, a family served 2.5 km from home is in the rules; 40 km is not."""
    near = Plan(overflow, tmp_path / "near")
    _near_site(near)
    assert near.save() == set()
    far = Plan(overflow, tmp_path / "far")
    overflow_too_far(far)
    assert far.save() == {"served away from home beyond overflow_km"}


def _demoted(i: dict[str, Any]) -> list[str]:
    """What a plan called OPTIMAL must also hear once one of its levels is not."""
    return ["status OPTIMAL while not every level is proven optimal (globally)"] if i["status"] == "OPTIMAL" else []


def _level(i: dict[str, Any], name: str) -> dict[str, Any]:
    level: dict[str, Any] = i["objectives"][name]
    return level


# name: (the edit of summary.json, the exact words the verifier must say, from the summary as it was)
CLAIMS: dict[str, tuple[Callable[[dict[str, Any]], object], Callable[[dict[str, Any]], list[str]]]] = {
    "a level called OPTIMAL above its bound": (
        lambda i: _level(i, "waiting").update(bound=_level(i, "waiting")["value"] - 1, status="OPTIMAL"),
        lambda i: [
            f"objectives.waiting is called OPTIMAL with value {_level(i, 'waiting')['value']} "
            f"above its bound {_level(i, 'waiting')['value'] - 1}"
        ],
    ),
    "a bound above the value": (
        lambda i: _level(i, "waiting").update(bound=_level(i, "waiting")["value"] + 1, status="FEASIBLE"),
        lambda i: [
            f"objectives.waiting: bound {_level(i, 'waiting')['value'] + 1} and value {_level(i, 'waiting')['value']} "
            "are not 0 <= bound <= value",
            *_demoted(i),
        ],
    ),
    "a negative bound": (
        lambda i: _level(i, "waiting").update(bound=-1, status="FEASIBLE"),
        lambda i: [
            f"objectives.waiting: bound -1 and value {_level(i, 'waiting')['value']} are not 0 <= bound <= value",
            *_demoted(i),
        ],
    ),
    "a value that is not a whole number": (
        lambda i: _level(i, "completion").update(value=float(_level(i, "completion")["value"])),
        lambda i: [
            f"objectives.completion: bound {_level(i, 'completion')['bound']} and value "
            f"{float(_level(i, 'completion')['value'])} are not 0 <= bound <= value",
            f"objectives.completion is called OPTIMAL with value {float(_level(i, 'completion')['value'])} "
            f"above its bound {_level(i, 'completion')['bound']}"
            if _level(i, "completion")["status"] == "OPTIMAL"
            and _level(i, "completion")["bound"] != _level(i, "completion")["value"]
            else "",
        ],
    ),
    "a status that is neither": (
        lambda i: _level(i, "waiting").update(status="GOOD"),
        lambda i: ["objectives.waiting.status 'GOOD' is not OPTIMAL or FEASIBLE", *_demoted(i)],
    ),
    "the plan's status unknown": (
        lambda i: i.update(status="PROVEN"),
        lambda i: ["status 'PROVEN' is not OPTIMAL or FEASIBLE"],
    ),
    "OPTIMAL with a level FEASIBLE": (
        lambda i: (
            _level(i, "waiting").update(status="FEASIBLE", bound=_level(i, "waiting")["bound"] - 1),
            i.update(status="OPTIMAL"),
        ),
        lambda i: ["status OPTIMAL while not every level is proven optimal (globally)"],
    ),
    "OPTIMAL with a level proven only in its scope": (
        lambda i: (
            [lv.update(status="OPTIMAL", bound=lv["value"]) for lv in i["objectives"].values()],
            _level(i, "waiting").update(scope="given the kept appointments"),
            i.update(status="OPTIMAL"),
        ),
        lambda i: ["status OPTIMAL while not every level is proven optimal (globally)"],
    ),
    "no objectives": (lambda i: i.update(objectives={}), lambda i: ["objectives missing or empty"]),
    "a level that is no level": (
        lambda i: i["objectives"].update(waiting=3),
        lambda i: ["objectives.waiting is not a level", "objectives.waiting missing"],
    ),
    "the completion level missing": (
        lambda i: i["objectives"].pop("completion"),
        lambda i: ["objectives.completion missing"],
    ),
    "a completion the plan does not show": (
        lambda i: _level(i, "completion").update(
            value=_level(i, "completion")["value"] + 1, bound=_level(i, "completion")["value"] + 1, status="FEASIBLE"
        ),
        lambda i: [
            *_demoted(i),
            f"objectives.completion.value {_level(i, 'completion')['value'] + 1} vs "
            f"{_level(i, 'completion')['value']:,} measured on the appointments",
        ],
    ),
    "late claimed of a plan that is not": (
        lambda i: i.update(late=True),
        lambda i: [f"late True vs False (appointments end {i['completion_date']})"],
    ),
    "late not a yes or no": (
        lambda i: i.update(late="no"),
        lambda i: [f"late 'no' vs False (appointments end {i['completion_date']})"],
    ),
}


@pytest.mark.parametrize("name", list(CLAIMS))
def test_each_claim_is_checked(name: str, office: Base, tmp_path: Path) -> None:
    """summary.json's claims about the plan's quality, each broken alone: named, with the claim."""
    edit, words = CLAIMS[name]
    p = Plan(office, tmp_path / "p")
    said = [w for w in words(json.loads(json.dumps(p.info))) if w]
    edit(p.info)
    assert p.save() == {"summary.json claims what the plan does not show"}
    (v,) = verify_plan(p.dir, p.ls, p.h).violations
    assert (v.count, v.examples) == (len(said), said)


# name: (the edit of summary.json, the exact words the verifier must say, from the summary as it was)
SUMMARY: dict[str, tuple[Callable[[dict[str, Any]], object], Callable[[dict[str, Any]], list[str]]]] = {
    "residents": (
        lambda i: i.update(residents=i["residents"] + 1),
        lambda i: [f"residents {i['residents'] + 1} vs {i['residents']} in the plan"],
    ),
    "households": (
        lambda i: i.update(households=i["households"] - 1),
        lambda i: [f"households {i['households'] - 1} vs {i['households']} in the plan"],
    ),
    "completion_date": (
        lambda i: i.update(completion_date="2011-09-09"),
        lambda i: [f"completion_date 2011-09-09 vs {i['completion_date']}"],
    ),
    "kecamatan_completion": (
        lambda i: i["kecamatan_completion"].update({"12.71.01": "2011-09-09"}),
        lambda i: [f"kecamatan_completion[12.71.01] 2011-09-09 vs {i['kecamatan_completion']['12.71.01']}"],
    ),
    "kecamatan_completion missing": (
        lambda i: i.pop("kecamatan_completion"),
        lambda i: ["kecamatan_completion missing"],
    ),
    "scenario hash": (
        lambda i: i["inputs"].update(scenario_sha256="0" * 64),
        lambda i: ["scenario_sha256 does not match the scenario file"],
    ),
    "households hash": (
        lambda i: i["inputs"].update(households_sha256="0" * 64),
        lambda i: ["households_sha256 does not match the household input"],
    ),
    "no inputs": (
        lambda i: i.pop("inputs"),
        lambda i: [
            "scenario_sha256 does not match the scenario file",
            "households_sha256 does not match the household input",
        ],
    ),
}


@pytest.mark.parametrize("name", list(SUMMARY))
def test_each_summary_figure_is_checked(name: str, office: Base, tmp_path: Path) -> None:
    edit, words = SUMMARY[name]
    p = Plan(office, tmp_path / "p")
    said = words(json.loads(json.dumps(p.info)))
    edit(p.info)
    assert p.save() == {"summary.json disagrees with the plan"}
    (v,) = verify_plan(p.dir, p.ls, p.h).violations
    assert (v.count, v.examples) == (len(said), said)


@pytest.mark.parametrize(
    ("column", "value"),
    [("date", "2011-02-30"), ("shift", "0"), ("shift", "1001"), ("members", "x"), ("members", "10001")],
)
def test_a_broken_backlog_cell_is_named(column: str, value: str, replan: Base, tmp_path: Path) -> None:
    from ektp_opt.errors import InputError

    p = Plan(replan, tmp_path / "p")
    row = next(b for b in p.backlog if b["date"])
    row[column] = value
    p.save_files()
    with pytest.raises(InputError, match=f"backlog.csv: row \\d+, column {column}"):
        verify_plan(p.dir, p.ls, p.h)


# --- the backlog's edges: what the rules allow exactly at their limits ---------------------------


def _backlog_load(p: Plan, key: tuple[str, str, str]) -> int:
    return sum(int(b["members"]) for b in p.backlog if (b["device_id"], b["date"], b["shift"]) == key)


def test_a_kk_with_no_backlog_seat_is_a_warning(replan: Base, tmp_path: Path) -> None:
    """Two missed KK left without a seat before the deadline: the plan keeps the rules, and the
    report says how many are waiting."""
    p = Plan(replan, tmp_path / "p")
    for b in [b for b in p.backlog if b["date"]][:2]:
        b["date"] = b["shift"] = b["device_id"] = ""
    assert p.save() == set()
    warnings = verify_plan(p.dir, p.ls, p.h).warnings
    assert "2 KK that missed their slot have no backlog seat before the deadline" in warnings


def test_backlog_bookings_at_the_edges_of_their_rules(replan: Base, tmp_path: Path) -> None:
    """A booking on the deadline itself (a catch-up day: the whole device-shift is the backlog's)
    and one on the day its device arrives are allowed; one on the plan's last regular day with
    appointments is held to the seats no appointment holds there."""
    sc = replan.ls.scenario
    p = Plan(replan, tmp_path / "ok")
    b = _booking(p)
    deadline = str(sc.deadline)
    assert p.working(sc.deadline)
    dev = next(
        d["device_id"]
        for d in p.devices
        if d["kecamatan"] == b["site_kecamatan"] and _backlog_load(p, (d["device_id"], deadline, "1")) == 0
    )
    b["date"], b["device_id"], b["shift"] = deadline, dev, "1"
    arrives = next(d for d in p.devices if d["available_from"] > min(x["missed_date"] for x in p.backlog))
    day, device = arrives["available_from"], arrives["device_id"]

    def room(shift: str) -> int:  # the backlog's seats left in a regular device-shift
        return p.free(device, day, shift) + sc.backlog.reserve_per_shift - _backlog_load(p, (device, day, shift))

    c, shift = next(
        (x, str(s))
        for x in p.backlog
        if x["date"] and x is not b and x["site_kecamatan"] == arrives["kecamatan"] and x["missed_date"] < day
        for s in range(1, sc.shifts_for(arrives["kecamatan"]) + 1)
        if room(str(s)) >= int(x["members"])
    )
    c["date"], c["device_id"], c["shift"] = day, device, shift
    assert p.save() == set()
    # a regular day: a device-shift holds for the backlog only what its appointments leave
    q = Plan(replan, tmp_path / "last")
    last = max(r["date"] for r in q.appts if r["date"] <= q.last_regular())
    reserve = sc.backlog.reserve_per_shift
    per_shift = {k: sc.device.capacity_per_day // sc.shifts_for(k) for k in q.device_kec().values()}
    big, dev, shift = next(
        (x, d, s)
        for d in sorted({r["device_id"] for r in q.appts if r["date"] == last})
        for s in map(str, range(1, sc.shifts_for(q.device_kec()[d]) + 1))
        for x in q.backlog
        if x["date"] and x["site_kecamatan"] == q.device_kec()[d] and x["missed_date"] < last
        and q.free(d, last, s) + reserve - _backlog_load(q, (d, last, s)) < int(x["members"])
        <= per_shift[q.device_kec()[d]] - _backlog_load(q, (d, last, s))
    )  # fmt: skip
    big["date"], big["device_id"], big["shift"] = last, dev, shift
    assert q.save() == {"backlog bookings over a device-shift's seats left free (reserve and unbooked)"}


# --- home visits: each way a mobile day can be in the wrong place, and the unserved -------------

WRONG_PLACE = "home visit away from the KK's kecamatan or kelurahan, or before the device arrives"


def _hand_over(p: Plan, device: str, day: str) -> list[str]:
    """A one-visit mobile day of the device's kecamatan handed to ``device`` on ``day``."""
    kec = device[:8]
    group = next(g for (d, _day), g in p.mobile_days().items() if d.startswith(kec) and len(g) == 1)
    group[0]["device_id"], group[0]["date"] = device, day
    return [f"{device} {day}"]


def visit_before_the_device_arrives(p: Plan) -> list[str]:
    """A device delivered after the start takes a mobile day on a working day before it is ready
    (a day its kecamatan has no other mobile day)."""
    out = {(d[:8], day) for d, day in p.mobile_days()}
    for d in p.devices:
        day = p.ls.scenario.start
        while str(day) < d["available_from"]:
            if p.working(day) and (d["kecamatan"], str(day)) not in out:
                return _hand_over(p, d["device_id"], str(day))
            day += dt.timedelta(1)
    pytest.fail("no device delivered after the start")


def visit_on_an_unknown_device(p: Plan) -> list[str]:
    (_dev, day), _group = next((k, g) for k, g in p.mobile_days().items() if len(g) == 1)
    return _hand_over(p, "12.71.01-D099", day)


def visit_in_an_unknown_kelurahan(p: Plan) -> list[str]:
    (dev, day), group = next(iter(p.mobile_days().items()))
    group[0]["kelurahan_code"] = "12.71.01.9999"
    return [f"{dev} {day}"]


HOME_BREAKERS = {
    "before the device arrives": visit_before_the_device_arrives,
    "a device devices.csv lacks": visit_on_an_unknown_device,
    "a kelurahan the city lacks": visit_in_an_unknown_kelurahan,
}


@pytest.mark.parametrize("name", list(HOME_BREAKERS))
def test_each_way_a_mobile_day_is_in_the_wrong_place(name: str, visits: Base, tmp_path: Path) -> None:
    _named_alone(WRONG_PLACE, visits, HOME_BREAKERS[name], tmp_path)


def test_a_flagged_kk_no_device_reaches_is_listed_not_visited(visits: Base, tmp_path: Path) -> None:
    """A one-visit mobile day listed as unserved instead: no rule is broken, the report counts it."""
    p = Plan(visits, tmp_path / "p")
    (_dev, _day), (v,) = next((k, g) for k, g in p.mobile_days().items() if len(g) == 1)
    v["date"] = v["device_id"] = v["order"] = ""
    assert p.save() == set()
    assert verify_plan(p.dir, p.ls, p.h).warnings == [
        "1 flagged KK have no home visit: no portable device reaches them (see summary.json)"
    ]


def _build_visits_added(root: Path) -> None:
    """A plan without home visits, re-planned as of 25 August with [home_visits] added and a delay
    cap (a capped re-plan without backlog.csv): flagged KK enrolled before then keep their office
    seats, the rest are visited."""
    _city(root)
    hh = "[households]\nseed = 5\nresidents = 900\nhouseholds = 300\nhome_visit_share = 0.15\n"
    hv = "[home_visits]\nportable_per_kecamatan = 1\nvisits_per_day = 4\ncluster_km = 0.0\n"
    (root / "before.toml").write_text(scenario_text(households=hh))
    (root / "s.toml").write_text(scenario_text(households=hh, extra=hv))
    old = _solve(root / "before.toml", root / "old")
    args = ["--plan", str(old.plan), "--scenario", str(root / "s.toml"), "--as-of", "2011-08-25", "--max-delay", "40"]
    code, _o, err = run("resolve", *args, "--out", str(root / "plan"), "--workers", "1", "--quiet")
    assert code == 0, err


@pytest.fixture(scope="module")
def visits_added(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return _fixture("visits_added", _build_visits_added, tmp_path_factory)


def test_flagged_kk_enrolled_before_home_visits_began_keep_their_seat(visits_added: Base, tmp_path: Path) -> None:
    """Those seats are history, not a broken rule; the same KK booked on the as-of day itself is
    not history: a home-visit KK given an office seat."""
    p = Plan(visits_added, tmp_path / "p")
    flagged = set(p.h.kk_id[p.h.home_visit].tolist())
    before = [r for r in p.appts if r["kk_id"] in flagged]
    assert before and all(r["date"] < "2011-08-25" for r in before)
    assert p.save() == set()
    r = before[0]
    slot = next(
        (
            (d, s)
            for d, s in p.slots(r["site_kecamatan"], "2011-08-25")
            if p.free(d, "2011-08-25", s) >= int(r["members"])
        )
    )
    line = {"kk_id": r["kk_id"], "old_date": r["date"], "old_shift": r["shift"], "old_device": r["device_id"]}
    r["date"], (r["device_id"], r["shift"]) = "2011-08-25", slot
    p.changes.append(
        {**line, "new_date": r["date"], "new_shift": r["shift"], "new_device": r["device_id"], "reason": "x"}
    )
    p.summarise()
    assert p.save() == {"home-visit KK given an office seat"}


def test_the_delay_cap_without_the_plan_in_force_is_checked_on_changes(replan: Base, tmp_path: Path) -> None:
    """The plan in force gone (or never named): changes.csv alone is checked, and the report says so."""
    for gone in ("elsewhere", None):
        p = Plan(replan, tmp_path / f"p{gone}")
        if gone:
            p.info["resolve"]["old_plan"] = str(tmp_path / gone)
        else:
            del p.info["resolve"]["old_plan"]
        assert p.save() == set()
        where = tmp_path / gone if gone else p.dir / "(no old_plan)"
        assert verify_plan(p.dir, p.ls, p.h).warnings == [
            f"the plan in force ({where}) is not there: the delay cap was checked on changes.csv only"
        ]


def test_a_kk_the_plan_in_force_did_not_hold_is_no_move(replan: Base, tmp_path: Path) -> None:
    """A KK the plan in force does not list (seated there by an earlier visit, say) has no old
    date: it is not a move, and the cap has nothing to say of it."""
    p = Plan(replan, tmp_path / "p")
    old = tmp_path / "old"
    shutil.copytree(Path(p.info["resolve"]["old_plan"]), old)
    rows = _read(old / "appointments.csv")
    changed = {c["kk_id"] for c in p.changes} | {b["kk_id"] for b in p.backlog}
    kept = next(r for r in rows if r["kk_id"] not in changed)
    _write(old / "appointments.csv", [r for r in rows if r is not kept])
    p.info["resolve"]["old_plan"] = str(old)
    assert p.save() == set()


def test_an_unreadable_changes_line_stops_no_other_check(replan: Base, tmp_path: Path) -> None:
    """The unreadable line first, a cap of 0 after it: both are named, every later move counted."""
    p = Plan(replan, tmp_path / "p")
    changes_date_unreadable(p)
    p.changes.insert(0, p.changes.pop())
    cap_zero(p)
    p.save_files()
    report = verify_plan(p.dir, p.ls, p.h)
    counts = {v.rule: v.count for v in report.violations}
    assert counts == {
        "changes.csv date not YYYY-MM-DD": 1,
        "moved KK appointed more than max_delay (0) working days later": len(_later_moves(p)),
    }


def test_an_unsafe_id_among_examples_is_never_shown(office: Base, tmp_path: Path) -> None:
    """A row whose device id a spreadsheet would run breaks rule 8 and names no device of
    devices.csv: that second rule's example says "(unsafe id)", never the id."""
    p = Plan(office, tmp_path / "p")
    p.appts[0]["device_id"] = "=cmd|' /C calc'!A0"
    p.save_files()
    report = verify_plan(p.dir, p.ls, p.h)
    said = {v.rule: (v.count, v.examples) for v in report.violations}
    assert said == {
        "kk_id or device_id not of letters, digits, '-' and '.' (starting alphanumeric)": (1, []),
        "device not in devices.csv": (1, ["(unsafe id)"]),
    }


def test_backlog_bookings_are_held_to_their_device_and_seats_together(replan: Base, tmp_path: Path) -> None:
    """A booking the day before its device is ready is away from the office then; two bookings
    that fit a device-shift's backlog seats one by one but not together break the seat rule."""
    sc = replan.ls.scenario
    p = Plan(replan, tmp_path / "early")
    late = next(d for d in p.devices if d["available_from"] > min(b["missed_date"] for b in p.backlog))
    day = dt.date.fromisoformat(late["available_from"]) - dt.timedelta(1)
    while not p.working(day):
        day -= dt.timedelta(1)
    b = next(
        b for b in p.backlog if b["date"] and b["site_kecamatan"] == late["kecamatan"] and b["missed_date"] < str(day)
    )
    b["date"], b["device_id"], b["shift"] = str(day), late["device_id"], "1"
    assert p.save() == {"backlog booking on a device not at the KK's office then"}
    q = Plan(replan, tmp_path / "two")
    reserve = sc.backlog.reserve_per_shift
    keys = sorted({(r["device_id"], r["date"], r["shift"], r["site_kecamatan"]) for r in q.appts})
    pick = next(
        ((x, y), key[:3])
        for key in keys
        if key[1] <= q.last_regular() and q.free(*key[:3]) == 0
        for room in [reserve - _backlog_load(q, key[:3])]
        for x, y in itertools.combinations([b for b in q.backlog if b["date"] and b["site_kecamatan"] == key[3]], 2)
        if max(x["missed_date"], y["missed_date"]) < key[1]
        and (x["device_id"], x["date"], x["shift"]) != key[:3] != (y["device_id"], y["date"], y["shift"])
        and int(x["members"]) <= room
        and int(y["members"]) <= room < int(x["members"]) + int(y["members"])
    )
    (x, y), key = pick
    for b in (x, y):
        b["device_id"], b["date"], b["shift"] = key
    assert q.save() == {"backlog bookings over a device-shift's seats left free (reserve and unbooked)"}


# --- mobile days in clusters, a device of another kecamatan, the first household ---------------

CLUSTER_HV = (
    "[home_visits]\nportable_per_kecamatan = 1\nvisits_per_day = 8\ncluster_km = 1.0\n"
    '[home_visits.overrides]\n"12.71.03" = 2\n'
)
EARLY = "[[deliveries]]\ndate = 2011-08-08\nper_kecamatan = 2\n\n[[deliveries]]\ndate = 2011-08-22\npool = 2\n"


def _build_cluster(root: Path) -> None:
    """Mobile days may span kelurahan within 1 km (A1-A2 are 0.50 km apart, B1-B2 1.02 km);
    devices ready before the start; Gamma may send two portable devices out."""
    _city(root)
    hh = "[households]\nseed = 5\nresidents = 1200\nhouseholds = 400\nhome_visit_share = 0.2\n"
    (root / "s.toml").write_text(scenario_text(households=hh, deliveries=EARLY, extra=CLUSTER_HV))
    _solve(root / "s.toml", root / "plan")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return _fixture("cluster", _build_cluster, tmp_path_factory)


def _move_visit(p: Plan, kel_from: str, kel_to: str) -> list[str] | None:
    """One visit of a ``kel_from`` mobile day moved into a ``kel_to`` day of the same device with
    room (orders kept 1..n on both days); None when there is no such pair."""
    days = p.mobile_days()
    for (dev, date), group in days.items():
        if {v["kelurahan_code"] for v in group} != {kel_to} or len(group) >= 8:
            continue
        for (dev2, date2), other in days.items():
            if dev2 == dev and date2 != date and {v["kelurahan_code"] for v in other} == {kel_from}:
                v = max(other, key=lambda w: int(w["order"]))
                v["date"], v["order"] = date, str(len(group) + 1)
                return [f"{dev} {date}"]
    return None


def test_mobile_days_spread_only_within_cluster_km(cluster: Base, tmp_path: Path) -> None:
    """B1 and B2 (1.02 km) may not share a mobile day at cluster_km 1; A1 and A2 (0.50 km) may."""
    assert Plan(cluster, tmp_path / "clean").save() == set()
    near = Plan(cluster, tmp_path / "near")
    assert _move_visit(near, "12.71.01.1002", "12.71.01.1001") or _move_visit(near, "12.71.01.1001", "12.71.01.1002")
    assert near.save() == set()
    far = Plan(cluster, tmp_path / "far")
    said = _move_visit(far, "12.71.02.1002", "12.71.02.1001") or _move_visit(far, "12.71.02.1001", "12.71.02.1002")
    assert said is not None
    _named_alone_as_saved(far, "mobile day spread beyond one kelurahan or cluster_km", said)


def _named_alone_as_saved(p: Plan, rule: str, said: list[str]) -> None:
    assert p.save() == {rule}
    (v,) = verify_plan(p.dir, p.ls, p.h).violations
    assert (v.count, v.examples) == (len(said), said)


def test_a_mobile_day_before_the_start_is_outside_the_working_days(cluster: Base, tmp_path: Path) -> None:
    """The devices are ready on 10 August: a mobile day on 16 August (a working day before the
    start, with nothing else on it) breaks only the days rule."""
    p = Plan(cluster, tmp_path / "p")
    (dev, _day), group = next(iter(p.mobile_days().items()))
    assert not any(day == "2011-08-16" for _d, day in p.mobile_days()) and all(
        r["date"] >= "2011-08-18" for r in p.appts
    )
    for v in group:
        v["date"] = "2011-08-16"
    _named_alone_as_saved(p, "home visit outside the regular working days", [f"{dev} 2011-08-16"])


def test_a_mobile_day_on_another_kecamatans_device(visits: Base, tmp_path: Path) -> None:
    """A mobile day handed to a device of another kecamatan, free that day: its homes are not in
    that device's kecamatan (the kelurahan of every visit is right)."""
    p = Plan(visits, tmp_path / "p")
    mobile, office, kec = p.mobile_days(), p.office_days(), p.device_kec()
    for (dev, date), group in mobile.items():
        for d in p.devices:
            other = d["device_id"]
            k = d["kecamatan"]
            out = any(kec[d2] == k and day == date for d2, day in mobile)
            if k != kec[dev] and d["available_from"] <= date and (other, date) not in office and not out:
                for v in group:
                    v["device_id"] = other
                _named_alone_as_saved(p, WRONG_PLACE, [f"{other} {date}"])
                return
    pytest.fail("no device of another kecamatan free on a mobile day")


def test_two_flagged_kk_no_device_reaches(visits: Base, tmp_path: Path) -> None:
    p = Plan(visits, tmp_path / "p")
    singles = [g[0] for g in p.mobile_days().values() if len(g) == 1][:2]
    assert len(singles) == 2
    for v in singles:
        v["date"] = v["device_id"] = v["order"] = ""
    assert p.save() == set()
    assert verify_plan(p.dir, p.ls, p.h).warnings == [
        "2 flagged KK have no home visit: no portable device reaches them (see summary.json)"
    ]


def _build_first_flagged(root: Path) -> None:
    """The visits city with its households written out as a file whose first KK needs a home
    visit (the household at index 0 is where an off-by-one in the checks would hide)."""
    _city(root)
    hh = "[households]\nseed = 5\nresidents = 900\nhouseholds = 300\nhome_visit_share = 0.15\n"
    hv = "[home_visits]\nportable_per_kecamatan = 1\nvisits_per_day = 4\ncluster_km = 0.0\n"
    (root / "gen.toml").write_text(scenario_text(households=hh, extra=hv))
    ls = load_scenario(root / "gen.toml")
    h = load_population(ls)
    kel = [k.code for k in ls.admin.kelurahan]
    rows = sorted(range(len(h)), key=lambda i: not bool(h.home_visit[i]))  # a flagged KK first
    (root / "households.csv").write_text(
        "kk_id,kelurahan_code,members,needs_home_visit\n"
        + "".join(f"{h.kk_id[i]},{kel[h.kelurahan[i]]},{h.members[i]},{int(h.home_visit[i])}\n" for i in rows)
    )
    (root / "s.toml").write_text(scenario_text(households='[households]\nfile = "households.csv"\n', extra=hv))
    _solve(root / "s.toml", root / "plan")


@pytest.fixture(scope="module")
def first_flagged(tmp_path_factory: pytest.TempPathFactory) -> Base:
    return _fixture("first_flagged", _build_first_flagged, tmp_path_factory)


def test_the_first_household_visited_at_home_is_seen(first_flagged: Base, tmp_path: Path) -> None:
    """Household 0 needs a visit and has one: clean; taken out of home_visits.csv, it is named."""
    p = Plan(first_flagged, tmp_path / "p")
    first = str(p.h.kk_id[0])
    assert bool(p.h.home_visit[0]) and any(v["kk_id"] == first for v in p.visits)
    assert p.save() == set()
    _day, group = next((k, g) for k, g in p.mobile_days().items() if any(v["kk_id"] == first for v in g))
    p.visits = [v for v in p.visits if v["kk_id"] != first]
    for n, v in enumerate(sorted((v for v in group if v["kk_id"] != first), key=lambda v: int(v["order"])), 1):
        v["order"] = str(n)
    p.summarise()
    _named_alone_as_saved(p, "flagged KK neither visited nor listed as unserved", [first])


def test_earlier_capacity_holds_up_to_and_including_its_day(office: Base, tmp_path: Path) -> None:
    """device.earlier (a re-plan at a measured pace keeps past days at their planned capacity):
    its capacity rules every day up to and including ``until``, the later entry's from the day
    after the earlier's; a device-shift over those seats is named, counted here from the rows."""
    sc = office.ls.scenario
    load: Counter[tuple[str, str, str]] = Counter()
    kec_of: dict[str, str] = {}
    for r in _read(office.plan / "appointments.csv"):
        load[r["device_id"], r["date"], r["shift"]] += int(r["members"])
        kec_of[r["device_id"]] = r["site_kecamatan"]
    dates = sorted({d for _dev, d, _s in load})
    busiest = max(load.values())
    day = next(d for d in dates[1:] if max(n for (_v, d2, _s), n in load.items() if d2 == d) == busiest)
    before = dates[dates.index(day) - 1]
    reserve = sc.backlog.reserve_per_shift

    (shifts,) = {sc.shifts_for(k) for k in kec_of.values()}  # one capacity serves every device

    def capacity(seats: int) -> int:  # a day's capacity giving ``seats`` regular seats a shift
        return (seats + reserve) * shifts + shifts - 1

    low, high = capacity(busiest - 1), capacity(busiest + 5)

    def over(seats_by_day: Callable[[str], int]) -> int:
        return sum(1 for (_v, d, _s), n in load.items() if n > seats_by_day(d))

    _city(tmp_path)
    cases = [
        ([(day, low)], lambda d: busiest - 1 if d <= day else busiest + 99),
        ([(before, low)], lambda d: busiest - 1 if d <= before else busiest + 99),
        ([(before, high), (day, low)], lambda d: busiest + 5 if d <= before else busiest - 1 if d <= day else 99),
    ]
    for n, (earlier, seats_by_day) in enumerate(cases):
        text = (office.plan.parent / "s.toml").read_text() + "".join(
            f"\n[[device.earlier]]\nuntil = {until}\ncapacity_per_day = {cap}\n" for until, cap in earlier
        )
        scenario = tmp_path / f"s{n}.toml"
        scenario.write_text(text)
        p = Plan(office, tmp_path / f"plan{n}")
        p.ls = load_scenario(scenario)
        p.info["inputs"]["scenario_sha256"] = p.ls.sha256  # the plan stands for this scenario now
        assert p.save() == {"device-shift over its regular seats"}, n
        (v,) = verify_plan(p.dir, p.ls, p.h).violations
        assert v.count == over(seats_by_day) > 0, n


def test_an_appointment_on_the_last_regular_day_is_in_the_window(office: Base, tmp_path: Path) -> None:
    """The last regular day (counted here back from the deadline over the catch-up days) is the
    window's last day: a family moved onto it, where a device has seats, breaks no rule; the
    working day after it is a catch-up day, named."""
    p = Plan(office, tmp_path / "ok")
    last = p.last_regular()
    row = min(p.appts, key=lambda r: (int(r["members"]), r["kk_id"]))
    dev, shift = next(
        s for s in p.slots(row["site_kecamatan"], last) if p.free(s[0], last, s[1]) >= int(row["members"])
    )
    row["date"], row["device_id"], row["shift"] = last, dev, shift
    p.summarise()
    assert p.save() == set()
    p.info["late"] = True  # ending on the last regular day is not late: the claim is false
    p.save_files()
    (claim,) = verify_plan(p.dir, p.ls, p.h).violations
    assert claim.examples == [f"late True vs False (appointments end {last})"]
    after = dt.date.fromisoformat(last) + dt.timedelta(1)
    while not p.working(after):
        after += dt.timedelta(1)
    assert after <= office.ls.scenario.deadline
    q = Plan(office, tmp_path / "late")
    row = next(r for r in q.appts if r["kk_id"] == row["kk_id"])
    row["date"], row["device_id"], row["shift"] = str(after), dev, shift
    q.summarise()
    assert q.save() == {"appointment after the last regular day (catch-up days or later)"}
