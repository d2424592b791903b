"""The textbook model: one Boolean per (KK, device, day, shift), lexicographic by CP-SAT.

Only for tiny instances: it is the referee the decomposition is held against.
"""

from __future__ import annotations

from ortools.sat.python import cp_model

from ektp_opt.households import Households
from ektp_opt.problem import ProblemData


def solve_monolithic(data: ProblemData, h: Households, time_limit: float = 60.0) -> dict[str, int]:
    m = cp_model.CpModel()
    horizon = data.regular_days
    # Candidate devices per kecamatan: fixed ones, plus every pool device that could go there.
    devices: list[tuple[int, int, cp_model.IntVar | None]] = []  # (kecamatan, first_day, placed)
    pool_vars: dict[int, list[cp_model.IntVar]] = {}
    for b in data.batches:
        if b.kecamatan is not None:
            devices += [(b.kecamatan, b.first_day, None)] * b.count
    for p, b in enumerate(data.pools):
        for k in range(data.n_kec):
            prev = None
            for j in range(b.count):
                y = m.new_bool_var(f"pool{p}_{k}_{j}")
                if prev is not None:
                    m.add_implication(y, prev)
                prev = y
                pool_vars.setdefault(p, []).append(y)
                devices.append((k, b.first_day, y))
    for p, b in enumerate(data.pools):
        m.add(sum(pool_vars.get(p, [])) <= b.count)

    x: dict[tuple[int, int, int, int], cp_model.IntVar] = {}
    members = h.members.tolist()
    kel = h.kelurahan.tolist()
    for i in range(len(h)):
        sites = {s for s, _ in data.sites[kel[i]]}
        for di, (k, first, _y) in enumerate(devices):
            if k not in sites:
                continue
            for d in range(max(first, 0), horizon):
                for s in range(int(data.shifts[k])):
                    x[(i, di, d, s)] = m.new_bool_var("")
    by_kk: dict[int, list[cp_model.IntVar]] = {}
    by_slot: dict[tuple[int, int, int], list[tuple[int, cp_model.IntVar]]] = {}
    for (i, di, d, s), v in x.items():
        by_kk.setdefault(i, []).append(v)
        by_slot.setdefault((di, d, s), []).append((members[i], v))
    for i in range(len(h)):
        m.add_exactly_one(by_kk.get(i, []))
    used_slot: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    for (di, d, _s), items in by_slot.items():
        k, _first, y = devices[di]
        m.add(sum(mm * v for mm, v in items) <= int(data.seats[k]))
        any_use = m.new_bool_var("")
        for _mm, v in items:
            m.add_implication(v, any_use)
            if y is not None:
                m.add_implication(v, y)
        used_slot.setdefault((k, d), []).append(any_use)
    for (k, _d), uses in used_slot.items():
        if data.slot_limit[k] >= 0:
            m.add(sum(uses) <= int(data.slot_limit[k]))

    T = m.new_int_var(0, horizon, "T")
    waiting = []
    pair: dict[tuple[int, int], cp_model.IntVar] = {}
    away = []
    for (i, di, d, _s), v in x.items():
        m.add(d + 1 <= T).only_enforce_if(v)
        waiting.append(members[i] * (d + 1) * v)
        key = (kel[i], d)
        if key not in pair:
            pair[key] = m.new_bool_var("")
        m.add_implication(v, pair[key])
        if devices[di][0] != int(data.kelurahan_kecamatan[kel[i]]):
            away.append(members[i] * v)

    out: dict[str, int] = {}
    levels = [("completion", T), ("waiting", sum(waiting)), ("compactness", sum(pair.values()))]
    if any(len(s) > 1 for s in data.sites):
        levels.append(("overflow", sum(away)))
    for name, expr in levels:
        m.minimize(expr)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = time_limit
        solver.parameters.num_workers = 8
        status = solver.solve(m)
        if status != cp_model.OPTIMAL:
            raise AssertionError(f"monolithic {name} not proven: {solver.status_name(status)}")
        out[name] = round(solver.objective_value)
        m.add(expr <= out[name])
        m.clear_hints()
        for v in x.values():
            m.add_hint(v, solver.value(v))
    return out
