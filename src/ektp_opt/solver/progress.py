"""How the library reports progress. The library never prints; a front end (the CLI's rich
display, or nothing at all) subscribes through this small interface."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ortools.sat.python import cp_model


class Reporter:
    """Silent by default. Subclass and override to show progress."""

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        yield

    def solving(self, phase: str, objective: float, bound: float, seconds: float) -> None:
        """A new incumbent was found in ``phase``."""

    def note(self, text: str) -> None:
        """A one-line remark worth showing (never personal data)."""

    def detail(self, text: str) -> None:
        """Replace the current stage's status text (e.g. "400/1,000 runs")."""


class IncumbentCallback(cp_model.CpSolverSolutionCallback):  # type: ignore[misc]
    """Forwards each new CP-SAT incumbent, with the proven bound at that moment."""

    def __init__(self, reporter: Reporter, phase: str) -> None:
        super().__init__()
        self._reporter = reporter
        self._phase = phase

    def on_solution_callback(self) -> None:
        self._reporter.solving(self._phase, self.objective_value, self.best_objective_bound, self.wall_time)
