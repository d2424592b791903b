"""The textbook model: one Boolean per (KK, device, day, shift), the same rules, the same
lexicographic objectives, solved level by level with CP-SAT.

It is the referee the decomposition is tested against on tiny cities, and the baseline of the
scaling study. Its size is counted before anything is built: past ``max_booleans`` it is not
attempted, and the result says how big it would have been.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from ektp_opt.inputs.households import Households
from ektp_opt.problem import ProblemData
from ektp_opt.solver.cpsat import found, make_solver
from ektp_opt.solver.cpsat import run as cpsat_run


@dataclass
class MonolithicResult:
    booleans: int  # x variables the model has (or would have had)
    built: bool
    build_seconds: float = 0.0
    levels: dict[str, dict[str, object]] = field(default_factory=dict)  # value, bound, status, seconds
    note: str = ""

    @property
    def status(self) -> str:
        if not self.built:
            return "NOT_BUILT"
        statuses = [str(lv["status"]) for lv in self.levels.values()]
        if not statuses or statuses[0] not in ("OPTIMAL", "FEASIBLE"):
            return statuses[0] if statuses else "UNKNOWN"
        return "OPTIMAL" if all(s == "OPTIMAL" for s in statuses) else "FEASIBLE"


def _devices(data: ProblemData) -> list[tuple[int, int, int]]:
    """(kecamatan, first_day, pool index or -1): fixed devices, and every pool device at every
    kecamatan it could be sent to (the model chooses which exist)."""
    out = [(b.kecamatan, b.first_day, -1) for b in data.batches if b.kecamatan is not None for _ in range(b.count)]
    for p, b in enumerate(data.pools):
        out += [(k, b.first_day, p) for k in range(data.n_kec) for _ in range(b.count)]
    return out


def count_booleans(data: ProblemData, h: Households) -> int:
    horizon = data.regular_days
    per_kec = [0] * data.n_kec
    for k, first, _p in _devices(data):
        per_kec[k] += max(0, horizon - max(first, 0)) * int(data.shifts[k])
    kk_per_kel = np.bincount(h.kelurahan, minlength=data.n_kel).tolist()
    return int(sum(int(n) * sum(per_kec[s] for s, _km in data.sites[kel]) for kel, n in enumerate(kk_per_kel)))


def solve_monolithic(
    data: ProblemData,
    h: Households,
    time_limit: float = 60.0,
    workers: int = 8,
    max_booleans: int = 3_000_000,
) -> MonolithicResult:
    """Each level gets an equal share of ``time_limit``; a level that ends without a solution
    ends the run (the next level would have nothing to fix)."""
    n_bool = count_booleans(data, h)
    if n_bool > max_booleans:
        return MonolithicResult(n_bool, False, note=f"{n_bool:,} Booleans is past the {max_booleans:,} cap")
    start = time.perf_counter()
    m = cp_model.CpModel()
    horizon = data.regular_days
    devices = _devices(data)
    placed: dict[int, cp_model.IntVar] = {}
    chains: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    for di, (k, _first, p) in enumerate(devices):
        if p >= 0:
            y = m.new_bool_var(f"pool{p}_{k}_{di}")
            chain = chains.setdefault((p, k), [])
            if chain:  # symmetry: the j-th copy at a kecamatan only if the (j-1)-th is there
                m.add_implication(y, chain[-1])
            chain.append(y)
            placed[di] = y
    for p, b in enumerate(data.pools):
        m.add(sum(y for (q, _k), chain in chains.items() if q == p for y in chain) <= b.count)

    members = h.members.tolist()
    kel = h.kelurahan.tolist()
    x: dict[tuple[int, int, int, int], cp_model.IntVar] = {}
    for i in range(len(h)):
        sites = {s for s, _ in data.sites[kel[i]]}
        for di, (k, first, _p) in enumerate(devices):
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
        k = devices[di][0]
        m.add(sum(mm * v for mm, v in items) <= int(data.seats[k]))
        any_use = m.new_bool_var("")
        for _mm, v in items:
            m.add_implication(v, any_use)
            if di in placed:
                m.add_implication(v, placed[di])
        used_slot.setdefault((k, d), []).append(any_use)
    for (k, _d), uses in used_slot.items():
        if data.slot_limit[k] >= 0:
            m.add(sum(uses) <= int(data.slot_limit[k]))

    t_var = m.new_int_var(0, horizon, "T")
    waiting = []
    pair: dict[tuple[int, int], cp_model.IntVar] = {}
    away = []
    for (i, di, d, _s), v in x.items():
        m.add(d + 1 <= t_var).only_enforce_if(v)
        waiting.append(members[i] * (d + 1) * v)
        key = (kel[i], d)
        if key not in pair:
            pair[key] = m.new_bool_var("")
        m.add_implication(v, pair[key])
        if devices[di][0] != int(data.kelurahan_kecamatan[kel[i]]):
            away.append(members[i] * v)
    result = MonolithicResult(n_bool, True, time.perf_counter() - start)

    levels = [("completion", t_var), ("waiting", sum(waiting)), ("compactness", sum(pair.values()))]
    if any(len(s) > 1 for s in data.sites):
        levels.append(("overflow", sum(away)))
    for name, expr in levels:
        m.minimize(expr)
        solver = make_solver(max(0.1, time_limit / len(levels)), workers)
        code = cpsat_run(solver, m)
        name_s = solver.status_name(code)
        ok = found(code)
        result.levels[name] = {
            "value": round(solver.objective_value) if ok else None,
            "bound": round(solver.best_objective_bound) if ok else None,
            "status": name_s,
            "seconds": round(solver.wall_time, 2),
        }
        if not ok:
            break
        m.add(expr <= round(solver.objective_value))
        m.clear_hints()
        for v in x.values():
            m.add_hint(v, solver.value(v))
    return result
