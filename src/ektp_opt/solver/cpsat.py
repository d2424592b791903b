"""Running one CP-SAT search so that Ctrl-C stops it within a second.

The search runs in a worker thread; the main thread waits for it and so stays free to receive the
interrupt (see ``ektp_opt.interrupt``). On any exception in the main thread (``KeyboardInterrupt``
included) the search is stopped through CP-SAT's documented ``stop_search()`` and joined before the
exception goes on, so no solver thread outlives its caller.
"""

from __future__ import annotations

import threading
from typing import Any

from ortools.sat.python import cp_model


def run(solver: cp_model.CpSolver, model: cp_model.CpModel, callback: Any = None) -> Any:
    """``solver.solve(model, callback)``, interruptible. Returns CP-SAT's status code."""
    solver.parameters.catch_sigint_signal = False  # ektp-opt handles signals, never the solver
    box: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["status"] = solver.solve(model, callback)
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc
        finally:
            done.set()

    thread = threading.Thread(target=work, name="cp-sat", daemon=True)
    thread.start()
    # Wait on an Event, not on Thread.join: in Python 3.11 a join cut by KeyboardInterrupt can
    # leave the thread marked as stopped while CP-SAT still runs (the process then aborts at exit).
    try:
        while not done.wait(0.1):
            pass
    except BaseException:
        solver.stop_search()
        while not done.wait(0.1):
            pass
        raise
    finally:
        if done.is_set():
            thread.join()
    if "error" in box:
        raise box["error"]
    return box["status"]
