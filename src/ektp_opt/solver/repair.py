"""Exact KK seating when the greedy packing falls short (FORMULATION.md §6b).

The greedy steps of ``assign.py`` are exact in practice on a Medan-shaped city, where one in nine
KK has a single member. Where families are large and quotas small (overflow splits a kelurahan's
day across offices), they can leave a family that fits no device-shift: it is carried to the next
day, and the written plan misses the completion and waiting the aggregate proved.

This model decides the same thing by counts, which keeps it small: how many KK *of each size* each
kelurahan sends to each office and day (``x``), and how many of each size sit in each device-shift
(``y``). In the first attempt the residents each office serves on each day are fixed to the aggregate's,
so a solution has exactly the proven completion and waiting; it prefers few (kelurahan, day) pairs,
then few residents away from home; failing that, the kelurahan may shift a family to a
neighbouring day and the model takes the least waiting it can (completion stays within the proven
day: no day past it exists in the model). A solution is turned into KK by walking order. When CP-SAT
finds none in its time, the greedy plan stands and its measured values are reported as they are.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from ektp_opt.inputs.households import Households
from ektp_opt.problem import ProblemData
from ektp_opt.solver.assign import Assignment, Device, office_slots, place_devices
from ektp_opt.solver.compact import Quota
from ektp_opt.solver.cpsat import found, make_solver
from ektp_opt.solver.cpsat import run as cpsat_run
from ektp_opt.solver.params import SolveOptions


def exact_assignment(
    data: ProblemData,
    households: Households,
    split: npt.NDArray[np.int64],
    quotas: Quota,
    options: SolveOptions,
    time_limit: float,
    relax: bool = True,
) -> Assignment | None:
    """An assignment with the aggregate's residents per office and day, or None if none found:
    first with the compactness level's own quotas (then every level keeps its value), else with
    the quotas free (only when ``relax``: the greedy plan missed the completion itself)."""
    half = max(0.5, time_limit / 2)
    kept = _exact(data, households, split, quotas, options, half, True)
    if kept is not None or not relax:
        return kept
    return _exact(data, households, split, quotas, options, half, False)


def _exact(
    data: ProblemData,
    households: Households,
    split: npt.NDArray[np.int64],
    quotas: Quota,
    options: SolveOptions,
    time_limit: float,
    keep_quotas: bool,
) -> Assignment | None:
    devices = place_devices(data, split)
    served: dict[tuple[int, int], int] = {kd: sum(q for _l, q in items) for kd, items in quotas.items()}
    served = {kd: v for kd, v in served.items() if v > 0}
    office = ~households.home_visit if data.home_visits is not None else np.ones(len(households), dtype=bool)
    count: dict[tuple[int, int], int] = defaultdict(int)  # (kelurahan, size) -> KK
    for kel, size in zip(households.kelurahan[office].tolist(), households.members[office].tolist(), strict=True):
        count[(kel, size)] += 1
    # With keep_quotas, every kelurahan keeps its days, offices and residents per day; without,
    # it may also use the day before or after each of its days (a family too large for a day's
    # last seats moves to a neighbouring day that another kelurahan's smaller family leaves), and
    # an office's day holds at most its seats rather than exactly the aggregate's residents.
    days_of_kel: dict[int, set[int]] = defaultdict(set)
    for (_k, d), items in quotas.items():
        for kel, q in items:
            if q > 0:
                days_of_kel[kel].update((d,) if keep_quotas else (d - 1, d, d + 1))

    m = cp_model.CpModel()
    x: dict[tuple[int, int, int, int], cp_model.IntVar] = {}
    for (kel, size), n in count.items():
        for k, _km in data.sites[kel]:
            for d in sorted(days_of_kel.get(kel, ())):
                if (k, d) in served:
                    x[(kel, size, k, d)] = m.new_int_var(0, n, "")
    per_kk: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
    for (kel, size, _k, _d), v in x.items():
        per_kk[(kel, size)].append(v)
    for key, n in count.items():
        m.add(sum(per_kk[key]) == n)
    by_cell: dict[tuple[int, int], list[tuple[int, int, cp_model.IntVar]]] = defaultdict(list)
    for (kel, size, k, d), v in x.items():
        by_cell[(k, d)].append((kel, size, v))
    y: dict[tuple[int, int, int], list[tuple[int, cp_model.IntVar]]] = {}
    for (k, d), total in served.items():
        cell = by_cell.get((k, d), [])
        if keep_quotas:
            m.add(sum(s * v for _l, s, v in cell) == total)
        slots = office_slots(data, devices, k, d)
        sizes = sorted({s for _l, s, _v in cell})
        per_size = {s: [v for _l, s2, v in cell if s2 == s] for s in sizes}
        loads = []
        in_slots: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        for j in range(len(slots)):
            ys = [(s, m.new_int_var(0, int(data.seats[k]) // s, "")) for s in sizes]
            y[(k, d, j)] = ys
            for s, v in ys:
                in_slots[s].append(v)
            load = sum(s * v for s, v in ys)
            m.add(load <= int(data.seats[k]))
            loads.append(load)
        for i in range(1, len(loads)):  # identical slots: fill them in order (symmetry)
            m.add(loads[i - 1] >= loads[i])
        for s in sizes:
            m.add(sum(in_slots[s]) == sum(per_size[s]))
    # Prefer few (kelurahan, day) pairs, then few residents away from home; hint the greedy quotas.
    pair: dict[tuple[int, int], cp_model.IntVar] = {}
    for (kel, size, _k, d), v in x.items():
        if (kel, d) not in pair:
            pair[(kel, d)] = m.new_bool_var("")
        m.add(v <= count[(kel, size)] * pair[(kel, d)])
    if keep_quotas:  # first try: the very quotas the compactness level chose
        per_quota: dict[tuple[int, int, int], list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        for (kel, size, k, d), v in x.items():
            per_quota[(kel, k, d)].append((size, v))
        wanted = {(kel, k, d): q for (k, d), items in quotas.items() for kel, q in items}
        for key3, terms in per_quota.items():
            m.add(sum(size * v for size, v in terms) == wanted.get(key3, 0))
    home = data.kelurahan_kecamatan
    away = sum(size * v for (kel, size, k, _d), v in x.items() if k != int(home[kel]))
    residents = sum(s * n for (_l, s), n in count.items())
    if keep_quotas:
        m.minimize((1 + residents) * sum(pair.values()) + away)
    else:  # least waiting first (the proven value when reachable), then pairs, then away
        waiting = sum(size * (d + 1) * v for (_kel, size, _k, d), v in x.items())
        m.minimize((1 + residents) * (1 + len(pair)) * waiting + (1 + residents) * sum(pair.values()) + away)
    solver = make_solver(max(0.5, time_limit), options.workers, options.seed)
    if not found(cpsat_run(solver, m)):
        return None
    return _materialise(data, households, devices, office, x, y, solver)


def _materialise(
    data: ProblemData,
    households: Households,
    devices: list[Device],
    office: npt.NDArray[np.bool_],
    x: dict[tuple[int, int, int, int], cp_model.IntVar],
    y: dict[tuple[int, int, int], list[tuple[int, cp_model.IntVar]]],
    solver: cp_model.CpSolver,
) -> Assignment:
    """KK by walking order (lingkungan, then card order) to the earliest (office, day) first."""
    n = len(households)
    order = np.lexsort((np.arange(n), households.lingkungan, households.kelurahan))
    queue: dict[tuple[int, int], list[int]] = defaultdict(list)  # (kelurahan, size) -> KK in walking order
    for i in order[office[order]].tolist():
        queue[(int(households.kelurahan[i]), int(households.members[i]))].append(i)
    for q in queue.values():
        q.reverse()  # pop() then yields walking order
    cell_kk: dict[tuple[int, int, int], list[int]] = defaultdict(list)  # (office, day, size) -> KK
    for (kel, size, k, d), v in sorted(x.items(), key=lambda kv: (kv[0][3], kv[0][2], kv[0][0], kv[0][1])):
        for _ in range(solver.value(v)):
            cell_kk[(k, d, size)].append(queue[(kel, size)].pop())
    site = np.full(n, -1, dtype=np.int32)
    day = np.full(n, -1, dtype=np.int32)
    shift = np.zeros(n, dtype=np.int8)
    device = np.full(n, -1, dtype=np.int32)
    slots_of: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for (k, d, j), ys in sorted(y.items()):
        slots = slots_of.setdefault((k, d), office_slots(data, devices, k, d))
        s_no, dev_i = slots[j]
        for size, v in ys:
            for _ in range(solver.value(v)):
                i = cell_kk[(k, d, size)].pop()
                site[i], day[i], shift[i], device[i] = k, d, s_no, dev_i
    return Assignment(site, day, shift, device, devices, carried=0)
