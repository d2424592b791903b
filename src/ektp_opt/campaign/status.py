"""``campaign status``: enrolled against planned, the backlog, and what the records say about the
field, on a day (``as_of``, default today)."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from dataclasses import field as default
from typing import Any

import numpy as np

from ektp_opt.campaign.measure import Estimate, mean_interval, pooled_mean, pooled_share, wilson
from ektp_opt.campaign.snapshot import Snapshot
from ektp_opt.inputs.scenario.model import Scenario

COME_BACK_WINDOW = 10  # calendar days a no-show is given before "did not come back" is counted


@dataclass
class Field:
    """The measured parameters (citywide) and each kecamatan's, pooled."""

    city: dict[str, Estimate]
    per_kecamatan: dict[str, dict[str, Estimate]]
    nominal: dict[str, float]


@dataclass
class Status:
    as_of: dt.date
    version: int
    residents: int
    enrolled: int
    planned_by_as_of: int
    by_date: list[dict[str, Any]]
    kecamatan: dict[str, dict[str, int]]
    kelurahan: dict[str, dict[str, int]]
    backlog: dict[str, int]
    field: Field
    returned_per_kelurahan: dict[str, int] = default(default_factory=dict)

    def json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "plan_version": self.version,
            "residents": self.residents,
            "enrolled": self.enrolled,
            "planned_by_as_of": self.planned_by_as_of,
            "by_date": self.by_date,
            "kecamatan": self.kecamatan,
            "kelurahan": self.kelurahan,
            "backlog": self.backlog,
            "parameters": {k: v.json() for k, v in self.field.city.items()},
            "nominal": self.field.nominal,
            "parameters_per_kecamatan": {
                code: {k: v.json() for k, v in est.items()} for code, est in self.field.per_kecamatan.items()
            },
            "returned_per_kelurahan": self.returned_per_kelurahan,
        }


def campaign_status(snap: Snapshot, sc: Scenario) -> Status:
    members = snap.members
    enrolled = snap.enrolled()
    as_of = snap.as_of
    returned = snap.returned()
    planned_on: Counter[dt.date] = Counter()
    for d, m in zip(snap.appt_date, members.tolist(), strict=True):
        if d is not None:
            planned_on[d] += m
    enrolled_on: Counter[dt.date] = Counter()
    for _k, d, _s, _dev, n in snap.enrolments:
        enrolled_on[d] += n
    by_date = []
    cum_p = cum_e = 0
    for d in sorted(set(planned_on) | set(enrolled_on)):
        if d > as_of:
            break
        cum_p += planned_on[d]
        cum_e += enrolled_on[d]
        by_date.append(
            {
                "date": d.isoformat(),
                "planned": planned_on[d],
                "enrolled": enrolled_on[d],
                "planned_total": cum_p,
                "enrolled_total": cum_e,
            }
        )

    past = np.array([d is not None and d < as_of for d in snap.appt_date])
    is_returned = np.array([k in returned for k in snap.kk])
    owed = past & (enrolled < members)
    kec: dict[str, dict[str, int]] = defaultdict(lambda: Counter())  # type: ignore[arg-type]
    kel: dict[str, dict[str, int]] = defaultdict(lambda: Counter())  # type: ignore[arg-type]
    for i in range(len(snap.kk)):
        for table, code in ((kec, snap.home[i]), (kel, snap.kelurahan[i])):
            row = table[code]
            row["residents"] += int(members[i])
            row["enrolled"] += int(enrolled[i])
            if past[i]:
                row["planned_by_as_of"] += int(members[i])
            if owed[i] and not is_returned[i]:
                row["backlog_kk"] += 1
                row["backlog_residents"] += int(members[i] - enrolled[i])
            if is_returned[i]:
                row["returned_kk"] += 1
    backlog = {
        "kk": int((owed & ~is_returned).sum()),
        "residents": int(((members - enrolled) * (owed & ~is_returned)).sum()),
        "no_show_kk": int((owed & ~is_returned & (enrolled == 0)).sum()),
        "partly_enrolled_kk": int((owed & ~is_returned & (enrolled > 0)).sum()),
        "returned_kk": int(is_returned.sum()),
    }
    return Status(
        as_of=as_of,
        version=snap.version,
        residents=int(members.sum()),
        enrolled=int(enrolled.sum()),
        planned_by_as_of=int((members * past).sum()),
        by_date=by_date,
        kecamatan={k: dict(sorted(v.items())) for k, v in sorted(kec.items())},
        kelurahan={k: dict(sorted(v.items())) for k, v in sorted(kel.items())},
        backlog=backlog,
        field=measure_field(snap, enrolled, returned, sc),
        returned_per_kelurahan={k: v["returned_kk"] for k, v in sorted(kel.items()) if v.get("returned_kk")},
    )


def measure_field(snap: Snapshot, enrolled: np.ndarray, returned: set[str], sc: Scenario) -> Field:
    """The field parameters (see measure.py for the intervals). The pace is measured on the
    device-shifts the plan had filled (booked to their regular seats): an idle device-shift says
    how many families came, not how fast a device enrols."""
    capacity_per_day = sc.device.capacity_per_day
    booked: Counter[tuple[str, dt.date, int]] = Counter()
    for i, d in enumerate(snap.appt_date):
        if d is not None:
            booked[(snap.appt_device[i], d, int(snap.appt_shift[i]))] += int(snap.members[i])
    dev_kec = {d: k for d, k, _deliv, _a in snap.devices}
    status_of = {(d, day, s): st for d, day, s, st, _r in snap.device_shifts}
    served: Counter[tuple[str, dt.date, int]] = Counter()
    first_day: dict[str, dt.date] = {}
    for k, day, s, dev, n in snap.enrolments:
        served[(dev, day, s)] += n
        first_day[k] = min(first_day.get(k, day), day)
    # residents per device-shift that was up, per device-day (times the kecamatan's shifts)
    pace: dict[str, list[float]] = defaultdict(list)
    up_keys = {k for k, st in status_of.items() if st == "up"} | {k for k in served if status_of.get(k) != "down"}
    for key in up_keys:
        kec = dev_kec.get(key[0])
        if kec is None or key[1] >= snap.as_of:
            continue
        regular = sc.device.capacity_on(key[1]) // snap.kecamatan[kec] - sc.backlog.reserve_per_shift
        if booked[key] >= regular:
            pace[kec].append(served[key] * snap.kecamatan[kec])
    down: Counter[str] = Counter()
    shifts_seen: Counter[str] = Counter()
    for (dev, day, _s), st in status_of.items():
        kec = dev_kec.get(dev)
        if kec is not None and day < snap.as_of:
            shifts_seen[kec] += 1
            down[kec] += st == "down"
    # no-shows: KK whose appointment (before as_of, letter not returned, device-shift not down)
    # saw no enrolment of theirs that day or before
    no_show: Counter[str] = Counter()
    invited: Counter[str] = Counter()
    came: Counter[str] = Counter()
    old_enough: Counter[str] = Counter()
    days_back: dict[str, list[float]] = defaultdict(list)
    for i, k in enumerate(snap.kk):
        d = snap.appt_date[i]
        if d is None or d >= snap.as_of or k in returned:
            continue
        if status_of.get((snap.appt_device[i], d, int(snap.appt_shift[i]))) == "down":
            continue
        kec = snap.appt_site[i]
        invited[kec] += 1
        first = first_day.get(k)
        if first is not None and first <= d:
            continue
        no_show[kec] += 1
        if (snap.as_of - d).days >= COME_BACK_WINDOW:
            old_enough[kec] += 1
            if first is not None:
                came[kec] += 1
        if first is not None:
            days_back[kec].append(float((first - d).days))
    all_pace = np.array([x for v in pace.values() for x in v], dtype=np.float64)
    city = {
        "residents_per_device_day": mean_interval(all_pace),
        "down_share": wilson(sum(down.values()), sum(shifts_seen.values())),
        "no_show": wilson(sum(no_show.values()), sum(invited.values())),
        "came_back": wilson(sum(came.values()), sum(old_enough.values())),
        "days_to_come_back": mean_interval(np.array([x for v in days_back.values() for x in v], dtype=np.float64)),
    }
    sd = float(all_pace.std(ddof=1)) if len(all_pace) > 1 else 0.0
    back_all = np.array([x for v in days_back.values() for x in v], dtype=np.float64)
    back_sd = float(back_all.std(ddof=1)) if len(back_all) > 1 else 0.0
    per = {}
    for code in sorted(snap.kecamatan):
        per[code] = {
            "residents_per_device_day": pooled_mean(
                np.array(pace.get(code, []), dtype=np.float64), city["residents_per_device_day"], sd
            ),
            "down_share": pooled_share(down[code], shifts_seen[code], city["down_share"]),
            "no_show": pooled_share(no_show[code], invited[code], city["no_show"]),
            "came_back": pooled_share(came[code], old_enough[code], city["came_back"]),
            "days_to_come_back": pooled_mean(
                np.array(days_back.get(code, []), dtype=np.float64), city["days_to_come_back"], back_sd
            ),
        }
    nominal = {"residents_per_device_day": float(capacity_per_day), "down_share": 0.0, "no_show": 0.0}
    return Field(city, per, nominal)


def finite(x: float) -> float | None:
    return None if math.isnan(x) else x
