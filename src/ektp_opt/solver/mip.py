"""The one MIP layer: a SCIP model (bundled with OR-Tools' linear solver wrapper), solved in a
worker thread so that Ctrl-C stops it (``InterruptSolve``) as ``cpsat.run`` does for CP-SAT.

Used where the LP bound settles a model that CP-SAT proves only slowly: the city's level 2 without
overflow, and the national master's covering and waiting models. SCIP's relative gap is set to 0,
so a reported optimum is an optimum; bounds are read back with a safety margin (``bound``).
"""

from __future__ import annotations

import math
import threading
from typing import Any

from ektp_opt.safety import interrupt
from ektp_opt.solver.result import Status


def make_mip(limit: float, nodes: int | None = None, settings: dict[str, object] | None = None) -> Any:
    """A SCIP model stopped by ``limit`` seconds, or by ``nodes`` branch-and-bound nodes: a limit
    in nodes stops at the same point on any machine and under any load (SCIP is deterministic on
    one thread), so the answer is the same whatever runs beside it; the seconds are then a safety
    net set well above what the nodes take. ``settings``: SCIP parameters for one kind of model
    (name -> value), where measured to pay."""
    from ortools.linear_solver import pywraplp

    solver = pywraplp.Solver.CreateSolver("SCIP")
    solver.SetTimeLimit(int(max(1.0, limit) * 1000))
    # SCIP would take over SIGINT while it solves (and swallow Ctrl-C): ektp-opt handles signals.
    params = "misc/catchctrlc = FALSE\n"
    if nodes is not None:
        params += f"limits/nodes = {int(nodes)}\n"
    for name, value in (settings or {}).items():
        params += f"{name} = {value}\n"
    solver.SetSolverSpecificParametersAsString(params)
    return solver


def solve(solver: Any, gap: float = 0.0) -> Status:
    """Solve to a zero gap (or the relative ``gap`` asked for, when a caller reports the bound
    beside the value), interruptibly; our status name for SCIP's answer."""
    from ortools.linear_solver import pywraplp

    params = pywraplp.MPSolverParameters()
    params.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, gap)
    box: dict[str, int] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["code"] = solver.Solve(params)
        finally:
            done.set()

    interrupt.check()
    thread = threading.Thread(target=work, name="scip", daemon=True)
    thread.start()
    try:
        while not done.wait(0.1):
            pass
    except BaseException:
        # Stop until it has stopped: an interrupt that lands before SCIP starts is lost, so repeat.
        solver.InterruptSolve()
        while not done.wait(0.2):
            solver.InterruptSolve()
        raise
    thread.join()
    return {  # type: ignore[return-value]
        pywraplp.Solver.OPTIMAL: "OPTIMAL",
        pywraplp.Solver.FEASIBLE: "FEASIBLE",
        pywraplp.Solver.INFEASIBLE: "INFEASIBLE",
    }.get(box.get("code", -1), "UNKNOWN")


def bound(solver: Any, constant: float = 0.0) -> int:
    """SCIP's proven lower bound (minimisation) as an integer never above it: floating-point
    tolerances are taken off before rounding up."""
    best = solver.Objective().BestBound() + constant
    return math.ceil(best - 1e-6 - 1e-9 * abs(best))
