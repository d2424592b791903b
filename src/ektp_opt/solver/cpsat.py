"""The one CP-SAT layer every model uses: solver set-up (``make_solver``), an interruptible search
(``run``), and the mapping of CP-SAT's status codes to ours (``status``, ``found``).

Running one search so that Ctrl-C stops it within a second:

The search runs in a worker thread; the main thread waits for it and so stays free to receive the
interrupt (see ``ektp_opt.safety.interrupt``). On any exception in the main thread (``KeyboardInterrupt``
included) the search is stopped through CP-SAT's documented ``stop_search()`` and joined before the
exception goes on, so no solver thread outlives its caller.
"""

from __future__ import annotations

import threading
from typing import Any

from ortools.sat.python import cp_model

from ektp_opt.errors import InputError
from ektp_opt.safety import interrupt
from ektp_opt.solver.result import Status


def make_solver(
    time_limit: float,
    workers: int = 1,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    log: bool = False,
) -> cp_model.CpSolver:
    """A CpSolver with the preset's parameters, the worker count and seed, and a time limit."""
    solver = cp_model.CpSolver()
    p = solver.parameters
    for key, value in (params or {}).items():
        try:
            setattr(p, key, value)
        except (AttributeError, TypeError, ValueError) as exc:
            raise InputError("solver presets", key, f"not a CP-SAT parameter ({exc})") from None
    p.num_workers = workers
    p.random_seed = seed
    p.max_time_in_seconds = max(0.05, time_limit)
    p.log_search_progress = log
    return solver


def status(code: object) -> Status:
    """CP-SAT's status code as ektp-opt reports it."""
    return {
        cp_model.OPTIMAL: "OPTIMAL",
        cp_model.FEASIBLE: "FEASIBLE",
        cp_model.INFEASIBLE: "INFEASIBLE",
    }.get(code, "UNKNOWN")  # type: ignore[call-overload,return-value]


def found(code: object) -> bool:
    """Did the search end with a solution (proven optimal or not)?"""
    return code in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def run(solver: cp_model.CpSolver, model: cp_model.CpModel, callback: Any = None) -> Any:
    """``solver.solve(model, callback)``, interruptible. Returns CP-SAT's status code."""
    solver.parameters.catch_sigint_signal = False  # ektp-opt handles signals, never the solver
    interrupt.check()  # a signal whose first raise was swallowed (inside an import) stops here
    box: dict[str, Any] = {}
    done = threading.Event()
    cancelled = threading.Event()

    def work() -> None:
        try:
            if not cancelled.is_set():
                box["status"] = solver.solve(model, callback)
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=work, name="cp-sat", daemon=True)
    # Wait on an Event, not on Thread.join: in Python 3.11 a join cut by KeyboardInterrupt can
    # leave the thread marked as stopped while CP-SAT still runs (the process then aborts at exit).
    try:
        thread.start()
        while not done.wait(0.1):
            pass
    except BaseException:
        cancelled.set()
        solver.stop_search()
        # Stop until it has stopped: a stop that lands before the search begins is repeated.
        while not done.wait(0.2):
            solver.stop_search()
        raise
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["status"]
