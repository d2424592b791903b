"""What a re-plan adds to a plan folder: changes.csv (SPEC.md), backlog.csv for KK re-booked after
a missed appointment, and reinvite.csv, the invitation rounds a kelurahan office must send again."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from ektp_opt.inputs.households import Households
from ektp_opt.plan.files import HOME_VISIT_COLUMNS, HOME_VISITS
from ektp_opt.plan.replan_files import BacklogRow, ChangeRow, ReinviteRow, write_replan_rows
from ektp_opt.resolve import Replan
from ektp_opt.resolve.capped import working_days_after
from ektp_opt.safety.csvwrite import csv_text


def change_rows(rp: Replan, households: Households) -> list[ChangeRow]:
    ordered = sorted(
        rp.changes, key=lambda c: (c.old[0] or dt.date.min, c.old[1] or 0, c.old[2], households.kk_id[c.kk])
    )
    return [ChangeRow(households.kk_id[c.kk], *c.old, *c.new, c.reason) for c in ordered]


def backlog_rows(rp: Replan, households: Households) -> list[BacklogRow]:
    data, a = rp.result.problem, rp.result.assignment
    rows = []
    for i, spot in sorted(rp.backlog.items(), key=lambda kv: households.kk_id[kv[0]]):
        date, shift, device = spot if spot is not None else (None, None, None)
        rows.append(
            BacklogRow(
                households.kk_id[i],
                data.kelurahan_codes[households.kelurahan[i]],
                data.kecamatan_codes[a.site[i]],
                data.days[a.day[i]],
                date,
                shift,
                device,
                households.members[i],
            )
        )
    return rows


def reinvite_rows(rp: Replan, households: Households) -> list[ReinviteRow]:
    """(kelurahan, new date, KK, residents) for every KK whose date or shift changed."""
    data = rp.result.problem
    count: Counter[tuple[str, str]] = Counter()
    people: Counter[tuple[str, str]] = Counter()
    for c in rp.changes:
        if c.is_move and c.new[0] is not None:
            key = (data.kelurahan_codes[households.kelurahan[c.kk]], c.new[0].isoformat())
            count[key] += 1
            people[key] += int(households.members[c.kk])
    return [ReinviteRow(kel, date, n, people[(kel, date)]) for (kel, date), n in sorted(count.items())]


def home_visits_csv(rp: Replan, households: Households) -> str:
    """The re-plan's home visits in the planner's format (plan/files.py): unserved KK last, with
    an empty date."""
    assert rp.visits is not None
    kel = rp.result.problem.kelurahan_codes
    rows = sorted(rp.visits.rows, key=lambda r: r[1] is None)  # the plan in force's order, unserved last
    return csv_text(
        HOME_VISIT_COLUMNS,
        (
            (households.kk_id[kk], date, dev if date else "", kel[households.kelurahan[kk]], order if date else "")
            for kk, date, dev, order in rows
        ),
    )


def write_replan_files(folder: Path, rp: Replan, households: Households) -> None:
    if rp.visits is not None:
        (folder / HOME_VISITS).write_text(home_visits_csv(rp, households), encoding="utf-8")
    write_replan_rows(folder, change_rows(rp, households), reinvite_rows(rp, households), backlog_rows(rp, households))


def move_stats(rp: Replan, households: Households) -> dict[str, Any]:
    """Where the moves fall (per kecamatan and kelurahan), how far (working days), and why."""
    data = rp.result.problem
    per_kec: dict[str, list[int]] = defaultdict(list)
    forced: Counter[str] = Counter()
    per_kel: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for c in rp.changes:
        if not c.is_move or c.new[0] is None:
            continue
        kec = data.kecamatan_codes[data.kelurahan_kecamatan[households.kelurahan[c.kk]]]
        per_kec[kec].append(working_days_after(data.days, c.old[0] or c.new[0], c.new[0]))
        forced[kec] += c.forced
        per_kel[data.kelurahan_codes[households.kelurahan[c.kk]]] += 1
        reasons[c.reason.split(": ", 1)[-1]] += 1
    kec_rows = []
    for kec in sorted(per_kec):
        s = np.array(per_kec[kec])
        kec_rows.append(
            {
                "kecamatan": kec,
                "moved": int(s.size),
                "forced": forced[kec],
                "later": int((s > 0).sum()),
                "earlier": int((s < 0).sum()),
                "mean_days_later": round(float(s.mean()), 1),
                "max_days_later": int(s.max()),
                "kelurahan": len({k for k in per_kel if k.startswith(kec + ".")}),
            }
        )
    return {"per_kecamatan": kec_rows, "per_kelurahan": dict(per_kel.most_common()), "reasons": dict(reasons)}
