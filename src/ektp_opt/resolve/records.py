"""The records a re-plan passes between its stages: what changed for a KK (``Change``), how the
moves under a cap were bounded (``CapBound``), the prepared state (``Prepared``) and the result
(``Replan``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import numpy.typing as npt

from ektp_opt.inputs.households import Households
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.problem import ProblemData
from ektp_opt.resolve.split import SplitResult
from ektp_opt.resolve.visits import VisitPlan
from ektp_opt.solver import Result, SolveOptions
from ektp_opt.solver.assign import Device

if TYPE_CHECKING:
    from ektp_opt.resolve.oldplan import OldPlan, Window
    from ektp_opt.resolve.seating import Seating


IntArray = npt.NDArray[np.int64]


KEPT_SCOPE = "given the kept appointments"


CAP_SCOPE = "within the delay cap, given the device placement and the KK whose cell lost seats"


class Mover(NamedTuple):
    """A KK that must leave its cell: who, why (the start of its changes.csv reason), and whether
    its appointment was inside the notice window."""

    kk: int  # household index
    reason: str
    forced: bool


@dataclass(frozen=True)
class Change:
    kk: int  # household index
    old: tuple[dt.date | None, int | None, str]
    new: tuple[dt.date | None, int | None, str | None]
    reason: str
    is_move: bool  # office date or shift changed (the R1 objective counts these)
    forced: bool = False  # inside the notice window
    visit: bool = False  # a home visit changed (or an office seat became one)


@dataclass(frozen=True)
class CapBound:
    """The moves of a capped re-plan: those the per-cell rule forces, plus the fewest extra KK
    that make room within the cap (bounded per kecamatan by the cap model, ``cap.py``)."""

    must: int  # KK whose cell lost seats (or whose day is gone): they move whatever the cap
    extra: int  # KK moved only to make room within the cap
    extra_bound: int  # proven lower bound on ``extra`` given the device placement
    proven: bool  # every kecamatan's model was solved to optimality


@dataclass
class Replan:
    result: Result
    changes: list[Change]
    as_of: dt.date
    notice_end: dt.date | None  # last day of the notice window
    split: SplitResult
    backlog: dict[int, tuple[dt.date, int, str] | None] = field(default_factory=dict)  # missed KK
    max_delay: int | None = None  # the cap on each moved KK's delay, working days
    cap: CapBound | None = None  # how the moves under the cap were bounded
    visits: VisitPlan | None = None  # the new home visits (None: the scenario plans none)

    @property
    def moved(self) -> int:
        return sum(c.is_move for c in self.changes if c.kk not in self.backlog)


@dataclass
class Prepared:
    """A re-plan up to the point where the movers are seated: the device placement (R1) is made
    and every KK that keeps its cell has its seat. Whatever the delay cap, this part is the same,
    so ``finish`` (one cap) and ``tradeoff.front`` (every cap) start from it."""

    ls: LoadedScenario
    data: ProblemData
    households: Households
    members: IntArray
    old: OldPlan
    win: Window
    split: SplitResult
    devices: list[Device]
    in_service: list[list[list[int]]]
    seating: Seating
    as_of: dt.date
    options: SolveOptions
    started: float
    visits: VisitPlan | None = None  # the new home visits (None: the scenario plans none)
