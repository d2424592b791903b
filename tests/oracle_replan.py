"""The referee for a re-plan's "cannot": an exact family-level model with the past fixed.

Written from SPEC.md ("Planning again"), not from ``ektp_opt.resolve``: it reads the changed
scenario's TOML and CSV files, the plan in force's appointments.csv and devices.csv, and does its
own calendar and seat arithmetic. It asks one question: is there any re-plan that keeps

- every appointment before as-of (they happened: they need nothing more);
- every appointment inside the notice window in its cell (office, day, shift) on some device in
  service there, or moves it to a day after the window (the rule's choice of *which* KK leave a
  cell is not imposed: any subset may, so this model allows at least every plan the rule does);
- every other KK at its office on a regular working day after the window;
- seats per device-shift (capacity / shifts - reserve), devices only from their first service day
  (delivery + setup working days), pools delivered before as-of where the plan in force put their
  devices (the rest of such a pool, and later pools, anywhere), and the operators' limit of
  device-shifts a day (rule 7)?

A city whose re-plan ektp-opt refuses with exit 4 must get INFEASIBLE here. Cities without home
visits. Families of one size with the same choices are interchangeable for the seats, so the
model counts them per device-shift (exact, and small enough for cities of tens of thousands).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import tomllib
from collections import defaultdict
from pathlib import Path

from ortools.sat.python import cp_model

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def replan_exists(scenario: Path, old_plan: Path, as_of: dt.date, notice_days: int, seconds: float = 60.0) -> str:
    """ "FEASIBLE", "INFEASIBLE" or "UNKNOWN" (time out)."""
    sc = tomllib.loads(scenario.read_text(encoding="utf-8"))
    codes = [r["code"] for r in _rows(scenario.parent / sc["kecamatan"])]
    workdays = {DAYS.index(d) for d in sc["calendar"]["workdays"]}
    holidays = set(sc["calendar"].get("holidays", []))

    def working(day: dt.date) -> bool:
        return day.weekday() in workdays and day not in holidays

    days: list[dt.date] = []
    day = sc["start"]
    while day <= sc["deadline"]:
        if working(day):
            days.append(day)
        day += dt.timedelta(days=1)
    days = days[: len(days) - sc.get("backlog", {}).get("catch_up_days", 0)]  # regular days only
    index = {d: i for i, d in enumerate(days)}
    setup = sc["device"].get("setup_days", 0)

    def first_day(delivery: dt.date) -> int:
        seen, cur = 0, delivery
        while seen < setup + 1:
            cur += dt.timedelta(days=1)
            seen += working(cur)
        return next((i for i, d in enumerate(days) if d >= cur), len(days))

    shifts = {c: sc.get("shifts_override", {}).get(c, sc["shifts_per_day"]) for c in codes}
    reserve = sc.get("backlog", {}).get("reserve_per_shift", 0)
    seats = {c: sc["device"]["capacity_per_day"] // shifts[c] - reserve for c in codes}
    ops = sc.get("operators")
    limit = {
        c: (ops.get("overrides", {}).get(c, ops["per_kecamatan"]) * ops["shifts_per_operator"]) if ops else None
        for c in codes
    }

    # Devices: (kecamatan, first day) fixed, and pool devices whose kecamatan is to be chosen.
    old_devices = _rows(old_plan / "devices.csv")
    fixed: list[tuple[str, int]] = []
    named: dict[tuple[str, dt.date], int] = defaultdict(int)
    free_pools: list[tuple[int, int]] = []  # (count, first day)
    for d in sc["deliveries"]:
        when = d["date"]
        if "per_kecamatan" in d:
            for c in codes:
                fixed += [(c, first_day(when))] * d["per_kecamatan"]
                named[(c, when)] += d["per_kecamatan"]
        elif "kecamatan" in d:
            fixed += [(d["kecamatan"], first_day(when))] * d["count"]
            named[(d["kecamatan"], when)] += d["count"]
    for d in sc["deliveries"]:
        if "pool" not in d:
            continue
        when, count = d["date"], d["pool"]
        if when < as_of:  # delivered: where the plan in force put its devices
            placed = 0
            for c in codes:
                there = sum(1 for r in old_devices if r["kecamatan"] == c and r["delivery_date"] == str(when))
                n = max(0, there - named[(c, when)])
                fixed += [(c, first_day(when))] * n
                placed += n
            count -= placed
        if count > 0:
            free_pools.append((count, first_day(when)))

    a = next((i for i, d in enumerate(days) if d >= as_of), len(days))
    w_end = min(len(days), a + notice_days)
    # Families of one size with the same choices are alike for the seats, so the model counts them:
    # per kecamatan, the KK free to go anywhere after the window; per window cell, those that may
    # also stay in it.
    free_kk: dict[tuple[str, int], int] = defaultdict(int)  # (kecamatan, members) -> KK
    window: dict[tuple[str, int, int, int], int] = defaultdict(int)  # (kecamatan, day, shift, members) -> KK
    for row in _rows(old_plan / "appointments.csv"):
        old_date = dt.date.fromisoformat(row["date"])
        if old_date < as_of:
            continue  # happened
        c, m, own = row["site_kecamatan"], int(row["members"]), index.get(old_date, -1)
        if a <= own < w_end:
            window[(c, own, int(row["shift"]), m)] += 1
        else:
            free_kk[(c, m)] += 1
    model = cp_model.CpModel()
    # Devices per kecamatan: (first day, existence literal or None for a fixed one).
    devices: dict[str, list[tuple[int, cp_model.IntVar | None]]] = defaultdict(list)
    for c, first in fixed:
        devices[c].append((first, None))
    for count, first in free_pools:
        exist = []
        for c in codes:
            chain = [model.new_bool_var("") for _ in range(count)]
            for x, y in itertools.pairwise(chain):
                model.add_implication(y, x)
            exist += chain
            devices[c] += [(first, x) for x in chain]
        model.add(sum(exist) == count)

    load: dict[tuple[str, int, int, int], list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    to_seat: dict[tuple[str, int], list[object]] = defaultdict(list)  # (kecamatan, members) -> count terms
    for (c, m), n in free_kk.items():
        to_seat[(c, m)].append(n)
    for (c, d, s, m), n in window.items():
        stays = []
        for j, (first, _exist) in enumerate(devices[c]):
            if first <= d:
                y = model.new_int_var(0, n, "")
                load[(c, d, s, j)].append((m, y))
                stays.append(y)
        model.add(sum(stays) <= n)
        to_seat[(c, m)].append(n - sum(stays))
    for (c, m), terms in to_seat.items():
        places = []
        for d in range(w_end, len(days)):
            for s in range(1, shifts[c] + 1):
                for j, (first, _exist) in enumerate(devices[c]):
                    if first <= d and m <= seats[c]:
                        y = model.new_int_var(0, seats[c] // m, "")
                        load[(c, d, s, j)].append((m, y))
                        places.append(y)
        model.add(sum(places) == sum(terms))
    per_day: dict[tuple[str, int], list[cp_model.IntVar]] = defaultdict(list)
    for (c, d, _s, j), items in load.items():
        used = model.new_bool_var("")
        model.add(sum(m * y for m, y in items) <= seats[c] * used)
        exist = devices[c][j][1]
        if exist is not None:
            model.add_implication(used, exist)
        per_day[(c, d)].append(used)
    for (c, _d), used_list in per_day.items():
        if limit[c] is not None:
            model.add(sum(used_list) <= limit[c])
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = 2
    code = solver.solve(model)
    return {cp_model.OPTIMAL: "FEASIBLE", cp_model.FEASIBLE: "FEASIBLE", cp_model.INFEASIBLE: "INFEASIBLE"}.get(
        code, "UNKNOWN"
    )
