"""CP-SAT's incumbents, forwarded to the library's progress interface (``ektp_opt.progress``)."""

from __future__ import annotations

from ortools.sat.python import cp_model

from ektp_opt.progress import Reporter


class IncumbentCallback(cp_model.CpSolverSolutionCallback):  # type: ignore[misc]
    """Forwards each new CP-SAT incumbent, with the proven bound at that moment."""

    def __init__(self, reporter: Reporter, phase: str) -> None:
        super().__init__()
        self._reporter = reporter
        self._phase = phase

    def on_solution_callback(self) -> None:
        self._reporter.solving(self._phase, self.objective_value, self.best_objective_bound, self.wall_time)
