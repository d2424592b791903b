"""What a solve returns: per-level value, proven bound and status, plus the plan itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["OPTIMAL", "FEASIBLE", "INFEASIBLE", "UNKNOWN"]


def claimed(value: int, bound: int, proven: bool = True) -> Status:
    """The one rule for calling a level OPTIMAL: its bound is proven and the plan's own value meets
    it (a minimisation: the value is never below the bound). Everything else is FEASIBLE."""
    return "OPTIMAL" if proven and value <= bound else "FEASIBLE"


@dataclass
class LevelResult:
    """One lexicographic level. ``value`` is measured on the plan; ``bound`` is proven: no plan
    that is as good on every earlier level can do better than it. ``scope`` says what the bound
    is conditional on, when it is not global."""

    name: str
    value: int
    bound: int
    status: Status
    seconds: float
    scope: str = "global"
    note: str = ""

    @property
    def gap(self) -> float:
        if self.value == self.bound:
            return 0.0
        return abs(self.value - self.bound) / max(1, abs(self.value))

    def as_dict(self) -> dict[str, object]:
        return {
            "value": self.value,
            "bound": self.bound,
            "gap": round(self.gap, 6),
            "status": self.status,
            "scope": self.scope,
            "seconds": round(self.seconds, 3),
            **({"note": self.note} if self.note else {}),
        }


@dataclass
class Timings:
    stages: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.stages[name] = self.stages.get(name, 0.0) + seconds


def overall_status(levels: list[LevelResult]) -> Status:
    if any(lv.status == "INFEASIBLE" for lv in levels):
        return "INFEASIBLE"
    if levels and all(lv.status == "OPTIMAL" and lv.scope == "global" for lv in levels):
        return "OPTIMAL"
    return "FEASIBLE"
