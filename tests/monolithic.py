"""The referee for the decomposition: the library's textbook model, which must prove each level."""

from __future__ import annotations

from ektp_opt.baselines.monolithic import solve_monolithic as textbook
from ektp_opt.inputs.households import Households
from ektp_opt.problem import ProblemData


def solve_monolithic(data: ProblemData, h: Households, time_limit: float = 60.0) -> dict[str, int]:
    ref = textbook(data, h, time_limit=time_limit * 4, workers=8, max_booleans=10**9)
    for name, lv in ref.levels.items():
        if lv["status"] != "OPTIMAL":
            raise AssertionError(f"monolithic {name} not proven: {lv['status']}")
    return {name: int(str(lv["value"])) for name, lv in ref.levels.items()}
