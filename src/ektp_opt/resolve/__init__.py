"""Plan again after a change, keeping every promise that can be kept (SPEC.md, "Planning again").

Order of decisions, each with a proven bound (models/FORMULATION.md, "resolve"):

1. Level R1, fewest KK whose date or shift changes: ``split.solve_split`` places the devices of
   the pools not yet delivered; its optimum is a lower bound on the moves. When it has no
   placement, its fluid relaxation either gives one or proves the "cannot" (``placement``).
2. KK level: in each (kecamatan, day, shift) the largest families leave only when the seats do not
   hold everyone; the rest keep their seat (their device when it is still there).
   Home visits are kept where still possible and re-planned otherwise (``homes``, ``visits``)
   before this step, so the device-days they take are out of the office.
3. Movers get the earliest free seats after the notice window, kelurahan by kelurahan; where whole
   families do not fit, the kecamatan is seated again exactly (``repack``). That fill is what the
   completion, waiting and compactness bounds are measured against. With a cap on each move's delay
   (``--max-delay``), the fewest extra KK make room within it instead (``capping``: ``cap.py``
   bounds them, ``capped.py`` seats them), unless that fill already keeps it.
4. KK that missed a past appointment (``--attendance``) are booked into backlog seats after the
   notice window, then into catch-up days, never into a regular seat someone else holds.

The stages, one module each: ``oldplan`` (the plan in force, the window), ``placement`` (R1),
``homes`` (home visits), ``seating``, ``capping``, ``backlog``, ``measure``, with their records in
``records``; ``pipeline`` puts them together (``prepare`` then ``finish``). This module only
re-exports what the rest of ektp-opt uses.
"""

from __future__ import annotations

from ektp_opt.resolve.capping import cap_diagnosis, kecamatan_movers, seat_capped, smallest_caps
from ektp_opt.resolve.measure import delays, move_delays, summary_extra
from ektp_opt.resolve.oldplan import check_old_plan, read_attendance
from ektp_opt.resolve.pipeline import finish, prepare, resolve
from ektp_opt.resolve.records import CAP_SCOPE, KEPT_SCOPE, CapBound, Change, Prepared, Replan
from ektp_opt.resolve.seating import move_reason, over_operators

__all__ = [
    "CAP_SCOPE",
    "KEPT_SCOPE",
    "CapBound",
    "Change",
    "Prepared",
    "Replan",
    "cap_diagnosis",
    "check_old_plan",
    "delays",
    "finish",
    "kecamatan_movers",
    "move_delays",
    "move_reason",
    "over_operators",
    "prepare",
    "read_attendance",
    "resolve",
    "seat_capped",
    "smallest_caps",
    "summary_extra",
]
