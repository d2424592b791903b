"""The one CP-SAT layer every model uses: solver set-up (``make_solver``), an interruptible search
(``run``), and the mapping of CP-SAT's status codes to ours (``status``, ``found``).

Running one search so that Ctrl-C stops it within a second:

The search runs in a worker thread; the main thread waits for it and so stays free to receive the
interrupt (see ``ektp_opt.safety.interrupt``). On any exception in the main thread (``KeyboardInterrupt``
included) the search is stopped through CP-SAT's documented ``stop_search()`` and joined before the
exception goes on, so no solver thread outlives its caller.
"""

from __future__ import annotations

import atexit
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


_live: set[Search] = set()  # searches whose thread may still be running


@atexit.register
def _stop_live() -> None:
    """At exit, stop every search still running. A signal that lands between a search's start and
    the ``try`` of the code that would stop it (for one: the uniqueness check starts inside
    ``solve_aggregate``, and ``solve`` guards it only once that returns) leaves CP-SAT running in
    a daemon thread, and the process aborts as Python finalises ("terminate called without an
    active exception": seen once in CI, Ctrl-C 0.9 s into a Medan solve)."""
    for search in list(_live):
        search.stop()


class Search:
    """One CP-SAT search in its own thread, started at once. ``wait`` returns its status code;
    ``stop`` ends it (through ``stop_search``) and returns once the thread is done. Several may
    run together (``run_many``) or beside other work (the uniqueness check during compaction).
    One still running at exit is stopped then (``_stop_live``)."""

    def __init__(self, solver: cp_model.CpSolver, model: cp_model.CpModel, callback: Any = None) -> None:
        solver.parameters.catch_sigint_signal = False  # ektp-opt handles signals, never the solver
        interrupt.check()  # a signal whose first raise was swallowed (inside an import) stops here
        self.solver = solver
        self._box: dict[str, Any] = {}
        self.done = threading.Event()
        self._cancelled = threading.Event()

        def work() -> None:
            try:
                if not self._cancelled.is_set():
                    self._box["status"] = solver.solve(model, callback)
                else:
                    self._box["status"] = cp_model.UNKNOWN
            except BaseException as exc:  # handed to the waiting thread
                self._box["error"] = exc
            finally:
                _live.discard(self)
                self.done.set()

        self._thread = threading.Thread(target=work, name="cp-sat", daemon=True)
        self._thread.start()
        if not self.done.is_set():
            _live.add(self)  # after the start: ``stop`` waits for ``done``, which only a started thread sets

    def wait(self) -> Any:
        # Wait on an Event, not on Thread.join: in Python 3.11 a join cut by KeyboardInterrupt can
        # leave the thread marked as stopped while CP-SAT still runs (the process then aborts at exit).
        try:
            while not self.done.wait(0.1):
                pass
        except BaseException:
            self.stop()
            raise
        return self.result()

    def result(self) -> Any:
        self._thread.join()
        if "error" in self._box:
            raise self._box["error"]
        return self._box["status"]

    def stop(self) -> None:
        """Stop until it has stopped: a stop that lands before the search begins is repeated."""
        self._cancelled.set()
        self.solver.stop_search()
        while not self.done.wait(0.2):
            self.solver.stop_search()


def run(solver: cp_model.CpSolver, model: cp_model.CpModel, callback: Any = None) -> Any:
    """``solver.solve(model, callback)``, interruptible. Returns CP-SAT's status code."""
    return Search(solver, model, callback).wait()


def run_many(jobs: list[tuple[cp_model.CpSolver, cp_model.CpModel]], threads: int) -> list[Any]:
    """Independent searches, at most ``threads`` at a time; status codes in the jobs' order. On an
    interrupt every running search is stopped before the exception goes on."""
    codes: list[Any] = [None] * len(jobs)
    waiting = list(range(len(jobs)))
    running: dict[int, Search] = {}
    try:
        while waiting or running:
            while waiting and len(running) < max(1, threads):
                i = waiting.pop(0)
                running[i] = Search(*jobs[i])
            finished = [i for i, search in running.items() if search.done.is_set()]
            if not finished:
                next(iter(running.values())).done.wait(0.02)
            for i in finished:
                codes[i] = running.pop(i).result()
    except BaseException:
        for search in running.values():
            search.stop()
        raise
    return codes
