"""Level R1 of a re-plan: where the devices go, chosen so that the fewest KK change date or shift.

A KK must leave its (kecamatan, day, shift) cell only when the cell's new seats cannot hold the
members booked there. The fewest KK that free ``excess`` members are the largest families, so each
cell's least move count is a step function of the number of devices ``n`` in service there:
``count_c(n)``. Summed over the days between two changes of the device count (a *segment*), it is
a table ``G[segment, kecamatan, n]`` and the whole level is a small CP-SAT model:

- variables: how many devices of each re-plannable pool go to each kecamatan;
- devices in service per (segment, kecamatan) = fixed devices + pools delivered by then;
- cost per (segment, kecamatan) = ``G[...][n]`` through an element constraint;
- the members that must move out fit into the free seats after the notice window (per kecamatan);
- objective: moves first, then device-days placed differently from the old plan, as one integer
  objective whose weights make it lexicographic (the second term is bounded below the first's
  unit), so ``floor(bound / weight)`` is a proven lower bound on the moves.

The tables are exact for member counts; families must also pack into device-shifts, which the
KK-level step checks, so the optimum here is a proven lower bound on the moves of any re-plan that
keeps the notice-window rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from ektp_opt.solver.cpsat import found
from ektp_opt.solver.cpsat import run as cpsat_run
from ektp_opt.solver.params import SolveOptions, make_solver

IntArray = npt.NDArray[np.int64]

# On top of the preset: CP-SAT's probing spends most of this small model's time expanding the cost
# tables (element constraints over every device count) before a search that takes a second or two.
# Medan slip, 2 workers, this machine: 7.6-8.2 s with probing, 2.1-2.8 s without, the same placement.
SPLIT_CPSAT = {"cp_model_probing_level": 0}


@dataclass(frozen=True)
class SplitInput:
    segments: list[tuple[int, int]]  # [start, end) day ranges
    fixed: IntArray  # (segment, kecamatan): devices not from a re-plannable pool
    pools: list[tuple[int, int]]  # (count, first segment in service) per re-plannable pool
    old: IntArray  # (segment, kecamatan): devices the old plan had in service
    moves: IntArray  # (segment, kecamatan, n): least KK to move with n devices
    freed: IntArray  # (segment, kecamatan, n): members those moves free
    free: IntArray  # (segment, kecamatan, n): free seats after the notice window
    max_devices: int
    hint: IntArray | None = None  # (pool, kecamatan): the old plan's placement, as a warm start


@dataclass(frozen=True)
class SplitResult:
    status: str  # OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN
    pools: IntArray  # (pool, kecamatan)
    devices: IntArray  # (segment, kecamatan)
    moves: int  # model value
    bound: int  # proven lower bound on moves
    seconds: float
    relaxed: bool = False  # found by the fluid relaxation: the largest-first rule had no placement


def _build(inp: SplitInput) -> tuple[cp_model.CpModel, list[list[Any]], list[Any], list[Any], list[Any]]:
    """The placement model's variables and rules: pool devices per kecamatan, the cost tables by
    device count; returns the model, the placement, the move and device-change terms, and per
    kecamatan the members that must move out minus the seats left free for them."""
    n_kec = inp.fixed.shape[1]
    top = inp.max_devices
    m = cp_model.CpModel()
    x = [[m.new_int_var(0, count, f"pool{p}_k{k}") for k in range(n_kec)] for p, (count, _) in enumerate(inp.pools)]
    for p, (count, _) in enumerate(inp.pools):
        m.add(sum(x[p]) == count)
        if inp.hint is not None:
            for k in range(n_kec):
                m.add_hint(x[p][k], int(inp.hint[p, k]))
    cost_terms: list[Any] = []
    diff_terms: list[Any] = []
    need: list[Any] = []
    for k in range(n_kec):
        freed_k: list[Any] = []
        free_k: list[Any] = []
        for w, (a, b) in enumerate(inp.segments):
            n = m.new_int_var(0, top, f"n_s{w}_k{k}")
            m.add(n == int(inp.fixed[w, k]) + sum(x[p][k] for p, (_, s) in enumerate(inp.pools) if s <= w))
            for table, out in ((inp.moves, cost_terms), (inp.freed, freed_k), (inp.free, free_k)):
                values = [int(v) for v in table[w, k]]
                if max(values) == min(values):
                    out.append(values[0])
                    continue
                v = m.new_int_var(min(values), max(values), "")
                m.add_element(n, values, v)
                out.append(v)
            d = m.new_int_var(0, top, f"devdiff_s{w}_k{k}")
            m.add_abs_equality(d, n - int(inp.old[w, k]))
            diff_terms.append((b - a) * d)
        need.append(sum(freed_k) - sum(free_k))
    return m, x, cost_terms, diff_terms, need


def solve_split(inp: SplitInput, options: SolveOptions, cpsat: dict[str, object], limit: float) -> SplitResult:
    n_seg, n_kec = inp.fixed.shape
    top = inp.max_devices
    m, x, cost_terms, diff_terms, need = _build(inp)
    for k in range(n_kec):
        # the members that must move out fit into the seats left free after the notice window
        m.add(need[k] <= 0)
    # One integer objective, lexicographic by its weights: device-days placed differently can
    # never outweigh one move. (Tried as two phases, moves then device-days: on Medan the
    # moves-only phase proves its optimum more slowly, the tie-break term seems to guide search.)
    weight = sum((b - a) * top for a, b in inp.segments) * n_kec + 1
    m.minimize(weight * sum(cost_terms) + sum(diff_terms))
    solver = make_solver(options, {**cpsat, **SPLIT_CPSAT}, limit)
    status = cpsat_run(solver, m)
    name = solver.status_name(status)
    if not found(status):
        empty = np.zeros((0, n_kec), dtype=np.int64)
        return SplitResult(name, empty, empty, -1, -1, solver.wall_time)
    bound, seconds = int(solver.best_objective_bound) // weight, solver.wall_time
    pools = np.array([[solver.value(v) for v in row] for row in x], dtype=np.int64).reshape(len(inp.pools), n_kec)
    devices = inp.fixed.copy()
    for p, (_, s) in enumerate(inp.pools):
        devices[s:] += pools[p]
    moves = int(sum(inp.moves[w, k, devices[w, k]] for w in range(n_seg) for k in range(n_kec)))
    return SplitResult(name, pools, devices, moves, min(bound, moves), seconds)


@dataclass(frozen=True)
class Shortfall:
    """The least members left without a seat by the last regular day, per kecamatan, over every
    placement of the pools (``short``), and the proven bound on their total: above 0, no
    placement seats everyone (the proof of a re-plan's "cannot")."""

    status: str
    short: list[int]  # per kecamatan, in the placement found
    bound: int  # proven lower bound on sum(short)


def shortfall(inp: SplitInput, options: SolveOptions, cpsat: dict[str, object], limit: float) -> Shortfall:
    """The placement model with a slack per kecamatan on its seat condition, minimising the slack."""
    n_kec = inp.fixed.shape[1]
    m, _x, _cost, _diff, need = _build(inp)
    big = int(inp.freed.sum()) + 1
    slack = [m.new_int_var(0, big, f"short_k{k}") for k in range(n_kec)]
    for k in range(n_kec):
        m.add(need[k] <= slack[k])
    m.minimize(sum(slack))
    solver = make_solver(options, {**cpsat, **SPLIT_CPSAT}, limit)
    status = cpsat_run(solver, m)
    name = solver.status_name(status)
    if not found(status):
        return Shortfall(name, [0] * n_kec, 0)
    return Shortfall(name, [int(solver.value(v)) for v in slack], int(np.ceil(solver.best_objective_bound - 1e-6)))
