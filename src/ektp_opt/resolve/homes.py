"""Home visits in a re-plan: which KK change side when the scenario adds or drops [home_visits],
the plan in force's mobile days, and one change line per KK whose visit changed.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import numpy as np

from ektp_opt.errors import InputError
from ektp_opt.inputs.households import Households
from ektp_opt.inputs.scenario import LoadedScenario
from ektp_opt.plan.files import HOME_VISITS
from ektp_opt.problem import ProblemData
from ektp_opt.resolve.oldplan import OldPlan
from ektp_opt.resolve.records import Change, Prepared


def old_visit_groups(old: OldPlan) -> list[tuple[dt.date | None, str, list[int]]]:
    """The plan in force's mobile days as (date, device, KK in route order); each KK it left
    unserved as a group of its own (re-planned alone, in case a device now reaches it)."""
    days: dict[tuple[dt.date, str], list[int]] = defaultdict(list)
    alone: list[tuple[dt.date | None, str, list[int]]] = []
    for kk, date, dev in old.visit_rows:
        if date is None:
            alone.append((None, "", [kk]))
        else:
            days[(date, dev)].append(kk)
    return [(date, dev, kks) for (date, dev), kks in days.items()] + alone  # the file's order


def visit_groups(
    old_plan: Path,
    ls: LoadedScenario,
    data: ProblemData,
    households: Households,
    old: OldPlan,
    full: ProblemData,
    as_of: dt.date,
) -> list[tuple[dt.date | None, str, list[int]]] | None:
    """When the scenario adds or drops [home_visits], who changes side (updates ``old`` in place).
    Adding: the flagged KK leave their future office seats for visits grouped as the planner
    groups them (returned, to be given days). Dropping: the visited KK need office seats
    (``old.why``). None when the plan in force's visits are to be kept or re-planned (or none)."""
    spec = ls.scenario.home_visits
    had = (old_plan / HOME_VISITS).exists()
    if spec is None and had:
        done = [kk for kk, date, _dev in old.visit_rows if date is not None and date < as_of]
        if done:
            raise InputError(
                ls.path, "home_visits", f"missing, but {len(done)} home visits of {old_plan} happened before as-of"
            )
        for kk, date, dev in old.visit_rows:
            old.visited[kk] = False
            old.site[kk] = int(data.kelurahan_kecamatan[households.kelurahan[kk]])
            old.date[kk] = date or as_of
            old.device[kk] = dev
            old.day[kk] = -1
            old.why[kk] = "home visits dropped from the scenario: an office seat instead"
        old.visit_days.clear()  # no device leaves the office for a visit any more
        return None
    if spec is None or had or full.home_visits is None:
        return None
    # Flagged KK whose office appointment is past were enrolled there: they stay (SPEC.md).
    came = {kk for kk in np.flatnonzero(households.home_visit).tolist() if old.date[kk] < as_of}
    groups: list[tuple[dt.date | None, str, list[int]]] = []
    for m in full.home_visits.days:
        kks = [kk for kk in m.kk if kk not in came]
        if kks:
            groups.append((None, "", kks))
    groups += [(None, "", [kk]) for kks in full.home_visits.unserved.values() for kk in kks if kk not in came]
    for _d, _dev, kks in groups:
        old.visited[kks] = True
    return groups


def visit_changes(prep: Prepared) -> list[Change]:
    """One line per KK whose home visit changed, or who left an office seat for a visit."""
    if prep.visits is None:
        return []
    old = prep.old
    at_home = {kk for kk, _date, _dev in old.visit_rows}  # the plan in force's visits
    out = []
    for kk, date, dev, new_date, new_dev, reason in prep.visits.changes:
        if kk not in at_home:  # an office seat that became a visit ([home_visits] added)
            before: tuple[dt.date | None, int | None, str] = (old.date[kk], int(old.shift[kk]), old.device[kk])
        else:
            before = (date, None, dev)
        out.append(Change(kk, before, (new_date, None, new_dev or None), reason, False, visit=True))
    return out
