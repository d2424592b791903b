"""ProblemData against its own definition (issue #26): the days, seats, devices in service,
operator limits, sites and residents the planner works from, computed here again from the
scenario's values with this file's own calendar, seat and distance arithmetic (SPEC.md, "Input: a
scenario"), never with ektp_opt's helpers. Random scenarios of the tiny city cover every kind of
delivery, shift overrides, operators with overrides, overflow, catch-up days and families that do
not fit."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
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
    """Great-circle distance on a sphere of the mean radius, 6,371.0088 km (the haversine formula)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


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
        assert [d for _, d in sites] == [round(d, 3) for _, d in near]  # metres, as the planner rounds
    residents = {k[0]: 0 for k in KEL}
    for m, kel in zip(h.members.tolist(), home, strict=True):
        residents[kel] += m
    assert data.kelurahan_residents.tolist() == list(residents.values())
    by_kec = [sum(r for kel, r in residents.items() if kel_kec[kel] == k) for k in kec_codes]
    assert data.kecamatan_residents.tolist() == by_kec


@pytest.mark.parametrize("portable", [1, 2])
def test_home_visit_days_take_devices_from_the_office(tiny_city: Callable[..., Path], portable: int) -> None:
    """With [home_visits]: the office has its named devices less those out on a mobile day; the
    capacity changes on the days the mobile count changes; the visited KK are not office
    residents; and the mobile days are what the home-visit planner makes of the named devices
    counted here (two deliveries per kecamatan, so the counts add up)."""
    from ektp_opt.problem.homevisit import plan_home_visits

    deliveries = (
        "".join(f"[[deliveries]]\ndate = {d}\nper_kecamatan = 1\n\n" for d in ("2011-08-10", "2011-08-24"))
        + "[[deliveries]]\ndate = 2011-08-22\npool = 1\n"
    )
    hh = "[households]\nseed = 5\nresidents = 900\nhouseholds = 300\nhome_visit_share = 0.2\n"
    hv = f"[home_visits]\nportable_per_kecamatan = {portable}\nvisits_per_day = 3\ncluster_km = 0.0\n"
    ls = load_scenario(tiny_city("s.toml", deliveries=deliveries, households=hh, extra=hv))
    h = load_population(ls)
    data = build_problem(ls, h)
    n, regular = data.n_days, data.regular_days
    first = [next((i for i, day in enumerate(data.days) if day >= first_service(d, 1)), n)
             for d in (dt.date(2011, 8, 10), dt.date(2011, 8, 24))]  # fmt: skip
    named = np.array([[sum(d >= f for f in first) for d in range(n)]] * len(KEC), dtype=np.int64)
    assert ls.scenario.home_visits is not None
    mobile = plan_home_visits(ls.scenario.home_visits, h, ls.admin, named[:, :regular], regular).mobile
    assert data.mobile is not None and data.mobile.tolist() == mobile.tolist() and mobile.any()
    office = named.copy()
    office[:, :regular] -= mobile
    assert data.fixed_devices().tolist() == office.tolist()
    assert [data.fixed_devices_at(k, d) for k in range(len(KEC)) for d in range(n)] == office.ravel().tolist()
    changes = {d for d in range(1, regular) if (mobile[:, d] != mobile[:, d - 1]).any()}
    pool = next((i for i, day in enumerate(data.days) if day >= first_service(dt.date(2011, 8, 22), 1)), n)
    starts = {0, n, pool, *first} | changes | ({regular} if regular < n else set())
    assert data.capacity_breaks(n) == sorted(s for s in starts if s <= n)
    home = [KEL[i][0] for i in h.kelurahan.tolist()]
    office_people = {k[0]: 0 for k in KEL}
    for m, kel, visited in zip(h.members.tolist(), home, h.home_visit.tolist(), strict=True):
        office_people[kel] += 0 if visited else m
    assert data.kelurahan_residents.tolist() == list(office_people.values())


def test_a_horizon_past_the_last_regular_day_counts_working_days_on(tiny_city: Callable[..., Path]) -> None:
    """extend_to: the bookable days go on past the last regular day, working days only."""
    ls = load_scenario(tiny_city("s.toml"))
    h = load_population(ls)
    data = build_problem(ls, h, extend_to=dt.date(2011, 9, 30))
    regular = [d for d in (START + dt.timedelta(n) for n in range((DEADLINE - START).days + 1)) if working(d)][:-2]
    after = [regular[-1] + dt.timedelta(n) for n in range(1, (dt.date(2011, 9, 30) - regular[-1]).days + 1)]
    assert list(data.days) == regular + [d for d in after if working(d)]
    assert data.regular_days == len(regular) and data.last_regular_day == regular[-1]
    assert list(build_problem(ls, h, extend_to=regular[-1]).days) == regular  # not past it: nothing added


@pytest.mark.parametrize("catch_up", [18, 19, 25])
def test_catch_up_days_must_leave_a_regular_day(tiny_city: Callable[..., Path], catch_up: int) -> None:
    """The tiny campaign has 19 working days: 18 catch-up days leave one regular day."""
    backlog = f"[backlog]\nreserve_per_shift = 2\ncatch_up_days = {catch_up}\nlate_rate = 0.1\n"
    path = tiny_city("s.toml", backlog=backlog)
    ls = load_scenario(path)
    h = load_population(ls)
    if catch_up < 19:
        assert build_problem(ls, h).regular_days == 19 - catch_up
        return
    with pytest.raises(InputError) as exc:
        build_problem(ls, h)
    assert str(exc.value) == (
        f"{path}: backlog.catch_up_days: {catch_up} catch-up days leave no regular day "
        "(19 working days from start to deadline)"
    )


def test_a_family_too_big_for_a_device_shift_is_named(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    """Seats 48 // 5 - 2 = 7 a device-shift: the first KK of more than 7 (in the household file's
    order) is named, with how many there are."""
    households = tmp_path / "households.csv"
    households.write_text(
        "kk_id,kelurahan_code,members\nA1,12.71.01.1001,3\nA2,12.71.01.1001,9\nA3,12.71.02.1001,8\nA4,12.71.02.1002,7\n"
    )
    head = scenario_text().split("[calendar]")[0].replace("shifts_per_day = 4", "shifts_per_day = 5")
    ls = load_scenario(tiny_city("s.toml", head=head, households='[households]\nfile = "households.csv"\n'))
    with pytest.raises(InputError) as exc:
        build_problem(ls, load_population(ls))
    assert str(exc.value) == (
        f"{households}: kk_id A2: 9 members do not fit in one device-shift (7 regular seats); 2 KK are too big. "
        "Fewer shifts or fewer backlog seats would fit them"
    )


def test_a_home_visit_problem_extended_past_the_last_regular_day(tiny_city: Callable[..., Path]) -> None:
    """extend_to on a scenario with home visits: mobile days stay on regular days, so past them the
    office has every named device, and the capacity breaks where the mobile days end. The problem
    keeps the scenario's deadline, numbers its batches by delivery, stores whole numbers, and is
    frozen."""
    deliveries = (
        "[[deliveries]]\ndate = 2011-08-10\nper_kecamatan = 1\n\n"
        '[[deliveries]]\ndate = 2011-08-12\nkecamatan = "12.71.02"\ncount = 1\n\n'
        "[[deliveries]]\ndate = 2011-08-22\npool = 1\n"
    )
    hh = "[households]\nseed = 5\nresidents = 900\nhouseholds = 300\nhome_visit_share = 0.2\n"
    hv = "[home_visits]\nportable_per_kecamatan = 1\nvisits_per_day = 3\ncluster_km = 0.0\n"
    ls = load_scenario(tiny_city("s.toml", deliveries=deliveries, households=hh, extra=hv))
    h = load_population(ls)
    data = build_problem(ls, h, extend_to=dt.date(2011, 9, 30))
    n, regular = data.n_days, data.regular_days
    assert data.mobile is not None and data.mobile.shape[1] == regular < n
    assert data.deadline == DEADLINE
    assert [(b.delivery_index, b.kecamatan, b.count) for b in data.batches] == [
        (0, 0, 1),
        (0, 1, 1),
        (0, 2, 1),
        (1, 1, 1),
        (2, None, 1),
    ]
    named = np.zeros((len(KEC), n), dtype=np.int64)
    for b in data.batches:
        if b.kecamatan is not None:
            for d in range(b.first_day, n):
                named[b.kecamatan, d] += b.count
    office = named.copy()
    office[:, :regular] -= data.mobile
    assert data.fixed_devices().dtype == np.int64 and data.fixed_devices().tolist() == office.tolist()
    assert [data.fixed_devices_at(k, d) for k in range(len(KEC)) for d in range(n)] == office.ravel().tolist()
    assert regular in data.capacity_breaks(n) and data.capacity_breaks(n)[-1] == n
    assert data.kelurahan_residents.dtype == np.int64
    fixed, pooled = data.best_case_seats()
    assert fixed.dtype == pooled.dtype == np.int64
    frozen = (data.kelurahan_kecamatan, data.kelurahan_residents, data.shifts, data.seats, data.slot_limit, data.mobile)
    assert not any(a.flags.writeable for a in frozen)


def test_no_pool_device_goes_on_a_home_visit(tiny_city: Callable[..., Path]) -> None:
    """A pool arrives with the first named devices, before the start: portable devices are among a
    kecamatan's named ones only, so with one named device each, at most one is out a day, even
    where two may go."""
    deliveries = "[[deliveries]]\ndate = 2011-08-10\nper_kecamatan = 1\n\n[[deliveries]]\ndate = 2011-08-10\npool = 3\n"
    hh = "[households]\nseed = 5\nresidents = 900\nhouseholds = 300\nhome_visit_share = 0.2\n"
    hv = "[home_visits]\nportable_per_kecamatan = 2\nvisits_per_day = 3\ncluster_km = 0.0\n"
    ls = load_scenario(tiny_city("s.toml", deliveries=deliveries, households=hh, extra=hv))
    data = build_problem(ls, load_population(ls))
    assert data.pools and data.pools[0].first_day == 0
    assert data.mobile is not None and data.mobile.any() and data.mobile.max() == 1


def test_pools_of_two_days_add_up(tiny_city: Callable[..., Path]) -> None:
    """Two pools, 1 device ready on the start and 2 from 24 August: the best case has 1, then 3
    pool devices, each where a device yields most seats."""
    deliveries = (
        "[[deliveries]]\ndate = 2011-08-10\nper_kecamatan = 1\n\n[[deliveries]]\ndate = 2011-08-10\npool = 1\n\n"
        "[[deliveries]]\ndate = 2011-08-22\npool = 2\n"
    )
    ls = load_scenario(tiny_city("s.toml", deliveries=deliveries))
    data = build_problem(ls, load_population(ls))
    ready = first_service(dt.date(2011, 8, 22), ls.scenario.device.setup_days)
    best = max(ls.scenario.seats_per_device_shift(k[0]) * ls.scenario.shifts_for(k[0]) for k in KEC)
    _fixed, pooled = data.best_case_seats()
    assert pooled.tolist() == [best * (1 + 2 * (day >= ready)) for day in data.days]


def test_an_office_within_a_short_overflow_distance(tmp_path: Path) -> None:
    """A kelurahan of Alpha about 0.5 km from Beta's office: a neighbour with overflow_km 0.9, and
    with overflow_km set to exactly its distance (within means at most), not with 0.4."""
    from ektp_opt.inputs.admin import haversine_km

    near = KELURAHAN.replace("12.71.01.1002,12.71.01,A2,3.505,98.603", "12.71.01.1002,12.71.01,A2,3.5155,98.61")
    (tmp_path / "kecamatan.csv").write_text(KECAMATAN)
    (tmp_path / "kelurahan.csv").write_text(near)
    far = haversine_km(3.5155, 98.61, 3.52, 98.61)
    assert 0.4 < far < 0.9
    for overflow, beta in ((0.9, True), (far, True), (0.4, False)):
        head = scenario_text().split("[calendar]")[0].replace("overflow_km = 0.0", f"overflow_km = {overflow!r}")
        (tmp_path / "s.toml").write_text(scenario_text(head=head))
        ls = load_scenario(tmp_path / "s.toml")
        data = build_problem(ls, load_population(ls))
        assert [k for k, _km in data.sites[1]] == ([0, 1] if beta else [0]), overflow


def test_visited_families_only_in_the_first_kelurahan(tiny_city: Callable[..., Path]) -> None:
    """Flagged KK in the first kelurahan only: it alone has fewer office residents; the last
    kelurahan, with no one visited, keeps all of its own."""
    import dataclasses

    hv = "[home_visits]\nportable_per_kecamatan = 1\nvisits_per_day = 3\ncluster_km = 0.0\n"
    ls = load_scenario(tiny_city("s.toml", extra=hv))
    h = load_population(ls)
    flagged = (h.kelurahan == 0) & (np.arange(len(h)) % 2 == 0)
    h = dataclasses.replace(h, home_visit=flagged)
    data = build_problem(ls, h)
    office = [0] * len(KEL)
    for kel, m, visited in zip(h.kelurahan.tolist(), h.members.tolist(), flagged.tolist(), strict=True):
        office[kel] += 0 if visited else m
    assert data.kelurahan_residents.tolist() == office and flagged.any()
