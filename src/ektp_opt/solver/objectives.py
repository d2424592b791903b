"""The objective levels of SPEC.md, as expressions over the aggregate variables, and the same
quantities measured on a finished plan. A level's "value" is always the measured one; the solver's
bound is what proves how far it can be from the best."""

from __future__ import annotations

from ortools.sat.python import cp_model

from ektp_opt.problem import ProblemData
from ektp_opt.solver.variables import AggregateVariables

LEVELS = ("completion", "waiting", "compactness", "overflow")
UNITS = {
    "completion": "working days from start to the last regular appointment (1 = start day)",
    "waiting": "sum over residents of the working-day index of their appointment (start = 1)",
    "compactness": "(kelurahan, day) pairs with appointments",
    "overflow": "residents served away from their home kecamatan",
    "moves": "KK whose date or shift changed in a re-plan (resolve's first level)",
}


def total_waiting(data: ProblemData, v: AggregateVariables) -> cp_model.LinearExpr:
    terms = [(d + 1) * served for row in v.served for d, served in enumerate(row) if not isinstance(served, int)]
    return sum(terms)  # type: ignore[return-value]


def away_residents(v: AggregateVariables) -> cp_model.LinearExpr:
    return sum(v.away.values())  # type: ignore[return-value]
