"""ProblemData against its own definition (issue #26): the days, seats, devices in service,
operator limits, sites and residents the planner works from, computed here again from the
scenario's values with this file's own calendar, seat and distance arithmetic (SPEC.md, "Input: a
scenario"), never with ektp_opt's helpers. Random scenarios of the tiny city cover every kind of
delivery, shift overrides, operators with overrides, overflow, catch-up days and families that do
not fit."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ektp_opt.errors import InputError
from ektp_opt.inputs.population import load_population
from ektp_opt.inputs.scenario import load_scenario
from ektp_opt.problem import build_problem
from tests.conftest import KECAMATAN, KELURAHAN, scenario_text

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KEC = [line.split(",") for line in KECAMATAN.splitlines()[1:]]  # code, name, population, lat, lon
KEL = [line.split(",") for line in KELURAHAN.splitlines()[1:]]  # code, kecamatan, name, lat, lon
START, DEADLINE = dt.date(2011, 8, 18), dt.date(2011, 9, 10)
HOLIDAYS = (dt.date(2011, 8, 17), dt.date(2011, 8, 29), dt.date(2011, 8, 30))


@dataclass(frozen=True)
class Delivery:
    date: dt.date
    kind: str  # "per_kecamatan", "kecamatan" or "pool"
    count: int
    kecamatan: str = ""

    def toml(self) -> str:
        if self.kind == "kecamatan":
            return f'[[deliveries]]\ndate = {self.date}\nkecamatan = "{self.kecamatan}"\ncount = {self.count}\n'
        return f"[[deliveries]]\ndate = {self.date}\n{self.kind} = {self.count}\n"


@dataclass(frozen=True)
class Case:
    shifts: int
    override: dict[str, int]
    capacity: int
    reserve: int
    setup: int
    catch_up: int
    deliveries: tuple[Delivery, ...]
    operators: tuple[int, int, dict[str, int]] | None  # per kecamatan, shifts per operator, overrides
    overflow_km: float
    residents: int
    households: int


codes = st.sampled_from([k[0] for k in KEC])
deliveries = st.builds(
    Delivery,
    date=st.dates(dt.date(2011, 8, 1), DEADLINE),
    kind=st.sampled_from(["per_kecamatan", "kecamatan", "pool"]),
    count=st.integers(0, 3),
    kecamatan=codes,
)
cases = st.builds(
    Case,
    shifts=st.sampled_from([4, 5]),
    override=st.dictionaries(codes, st.sampled_from([4, 5]), max_size=2),
    capacity=st.integers(30, 130),
    reserve=st.integers(0, 3),
    setup=st.integers(0, 3),
    catch_up=st.integers(0, 3),
    # the first before the holiday of 17 August, which must lie inside the campaign's horizon
    deliveries=st.tuples(
        deliveries.filter(lambda d: d.date <= dt.date(2011, 8, 17)), *[st.none() | deliveries] * 3
    ).map(lambda ds: tuple(d for d in ds if d is not None)),
    operators=st.none() | st.tuples(st.integers(0, 3), st.integers(1, 5), st.dictionaries(codes, st.integers(0, 4))),
    overflow_km=st.sampled_from([0.0, 2.0, 3.0, 50.0]),
    residents=st.integers(60, 240),
    households=st.integers(30, 60),
)


def _text(c: Case) -> str:
    head = scenario_text().split("[calendar]")[0]
    head = head.replace("shifts_per_day = 4", f"shifts_per_day = {c.shifts}")
    head = head.replace("overflow_km = 0.0", f"overflow_km = {c.overflow_km}")
    extra = ""
    if c.override:
        extra += "[shifts_override]\n" + "".join(f'"{k}" = {n}\n' for k, n in c.override.items())
    if c.operators is not None:
        per, shifts, over = c.operators
        extra += f"[operators]\nper_kecamatan = {per}\nshifts_per_operator = {shifts}\n"
        if over:
            extra += "[operators.overrides]\n" + "".join(f'"{k}" = {n}\n' for k, n in over.items())
    return scenario_text(
        head=head,
        device=f"[device]\ncapacity_per_day = {c.capacity}\nsetup_days = {c.setup}\n",
        backlog=f"[backlog]\nreserve_per_shift = {c.reserve}\ncatch_up_days = {c.catch_up}\nlate_rate = 0.1\n",
        deliveries="\n".join(d.toml() for d in c.deliveries),
        households=f"[households]\nseed = 3\nresidents = {c.residents}\nhouseholds = {c.households}\n",
        extra=extra,
    )


def working(day: dt.date) -> bool:
    return WEEK[day.weekday()] != "sun" and day not in HOLIDAYS


def first_service(delivery: dt.date, setup: int) -> dt.date:
    """``setup`` working days strictly between delivery and first service (SPEC.md, device)."""
    day, passed = delivery, -1
    while passed < setup:
        day += dt.timedelta(1)
        passed += working(day)
    return day


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of 6,371 km (the haversine formula)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(c=cases)
def test_problem_data_is_the_scenario_counted_again(c: Case, tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("city")
    (root / "kecamatan.csv").write_text(KECAMATAN)
    (root / "kelurahan.csv").write_text(KELURAHAN)
    (root / "s.toml").write_text(_text(c))
    ls = load_scenario(Path(root / "s.toml"))
    h = load_population(ls)
    kec_codes = [k[0] for k in KEC]
    shifts = {k: c.override.get(k, c.shifts) for k in kec_codes}
    seats = {k: c.capacity // shifts[k] - c.reserve for k in kec_codes}
    kel_kec = {k[0]: k[1] for k in KEL}
    home = [KEL[i][0] for i in h.kelurahan.tolist()]  # households name kelurahan by their row in the CSV
    fits = all(m <= seats[kel_kec[kel]] for m, kel in zip(h.members.tolist(), home, strict=True))
    bookable = [START + dt.timedelta(n) for n in range((DEADLINE - START).days + 1)]
    bookable = [d for d in bookable if working(d)]
    regular = len(bookable) - c.catch_up
    if not fits:
        with pytest.raises(InputError, match="do not fit in one device-shift"):
            build_problem(ls, h)
        return
    data = build_problem(ls, h)
    days = bookable[:regular]
    n = len(days)
    assert list(data.days) == days and data.regular_days == regular and data.last_regular_day == days[-1]
    assert list(data.kecamatan_codes) == kec_codes and list(data.kelurahan_codes) == [k[0] for k in KEL]
    assert data.shifts.tolist() == [shifts[k] for k in kec_codes]
    assert data.seats.tolist() == [seats[k] for k in kec_codes]
    if c.operators is None:
        limit = {k: -1 for k in kec_codes}
    else:
        per, per_op, over = c.operators
        limit = {k: over.get(k, per) * per_op for k in kec_codes}
    assert data.slot_limit.tolist() == [limit[k] for k in kec_codes]

    def first_day(d: Delivery) -> int:
        ready = first_service(d.date, c.setup)
        return next((i for i, day in enumerate(days) if day >= ready), n)

    fixed = np.zeros((len(kec_codes), n), dtype=np.int64)
    pooled = np.zeros(n, dtype=np.int64)
    for d in c.deliveries:
        f = first_day(d)
        if d.kind == "per_kecamatan":
            fixed[:, f:] += d.count
        elif d.kind == "kecamatan":
            fixed[kec_codes.index(d.kecamatan), f:] += d.count
        else:
            pooled[f:] += d.count
    assert data.fixed_devices().tolist() == fixed.tolist()
    assert [data.fixed_devices_at(k, d) for k in range(len(kec_codes)) for d in range(n)] == fixed.ravel().tolist()
    most = np.array([(fixed[k] + pooled) * shifts[code] for k, code in enumerate(kec_codes)])
    for k, code in enumerate(kec_codes):
        if limit[code] >= 0:
            most[k] = np.minimum(most[k], limit[code])
    assert data.max_slots().tolist() == most.tolist()
    per_device = [seats[k] * shifts[k] for k in kec_codes]
    best_fixed, best_pooled = data.best_case_seats()
    assert best_fixed.tolist() == [
        sum(int(fixed[k, d]) * per_device[k] for k in range(len(kec_codes))) for d in range(n)
    ]
    assert best_pooled.tolist() == (pooled * max(per_device)).tolist()
    assert sum(b.count for b in data.pools) == sum(d.count for d in c.deliveries if d.kind == "pool")
    starts = {0, n} | {first_day(d) for d in c.deliveries if d.count > 0 and first_day(d) < n}
    assert data.capacity_breaks(n) == sorted(starts)
    for kel, sites in zip(KEL, data.sites, strict=True):
        near = [(kec_codes.index(kel[1]), 0.0)]
        for k, office in enumerate(KEC):
            far = km(float(kel[3]), float(kel[4]), float(office[3]), float(office[4]))
            if office[0] != kel[1] and c.overflow_km > 0 and far <= c.overflow_km:
                near.append((k, far))
        assert [s for s, _ in sites] == [s for s, _ in near]
        assert [d for _, d in sites] == pytest.approx([d for _, d in near], abs=5e-4)
    residents = {k[0]: 0 for k in KEL}
    for m, kel in zip(h.members.tolist(), home, strict=True):
        residents[kel] += m
    assert data.kelurahan_residents.tolist() == list(residents.values())
    by_kec = [sum(r for kel, r in residents.items() if kel_kec[kel] == k) for k in kec_codes]
    assert data.kecamatan_residents.tolist() == by_kec
