"""``campaign status``: enrolled against planned, the backlog, and what the records say about the
field, on a day (``as_of``). Vectorised over the households (Medan: 650 k KK)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field as default
from typing import Any

import numpy as np
import numpy.typing as npt

from ektp_opt.campaign.measure import Z90, Estimate, mean_interval, pooled_mean, pooled_share, wilson
from ektp_opt.campaign.snapshot import DeviceShifts, Snapshot
from ektp_opt.inputs.scenario.model import Scenario


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


def _sums(
    labels: tuple[npt.NDArray[np.str_], npt.NDArray[np.intp]], columns: dict[str, npt.NDArray[np.int64]]
) -> dict[str, dict[str, int]]:
    """Per label that occurs (labels: distinct values and each row's position), the sum of each column."""
    values, inv = labels
    present = np.bincount(inv, minlength=len(values)) > 0
    sums = {
        name: np.bincount(inv, weights=col, minlength=len(values)).astype(np.int64) for name, col in columns.items()
    }
    return {
        str(code): {name: int(sums[name][i]) for name in sorted(columns)}
        for i, code in enumerate(values.tolist())
        if present[i]
    }


def campaign_status(snap: Snapshot, sc: Scenario) -> Status:
    members, enrolled = snap.members, snap.enrolled
    as_of = np.datetime64(snap.as_of)
    has = ~np.isnat(snap.appt_day)
    past = has & (snap.appt_day < as_of)
    owed = past & (enrolled < members) & ~snap.returned
    planned_on: dict[dt.date, int] = {}
    if has.any():
        day_codes, inv = np.unique(snap.appt_day[has], return_inverse=True)
        per = np.bincount(inv, weights=members[has]).astype(np.int64)
        planned_on = {d: int(n) for d, n in zip(day_codes.astype(object).tolist(), per.tolist(), strict=True)}
    by_date = []
    cum_p = cum_e = 0
    for d in sorted(set(planned_on) | set(snap.enrolled_per_day)):
        if d > snap.as_of:
            break
        p, e = planned_on.get(d, 0), snap.enrolled_per_day.get(d, 0)
        cum_p += p
        cum_e += e
        by_date.append(
            {"date": d.isoformat(), "planned": p, "enrolled": e, "planned_total": cum_p, "enrolled_total": cum_e}
        )
    columns = {
        "residents": members,
        "enrolled": enrolled,
        "planned_by_as_of": members * past,
        "backlog_kk": owed.astype(np.int64),
        "backlog_residents": (members - enrolled) * owed,
        "returned_kk": snap.returned.astype(np.int64),
    }
    kel = _sums(snap.groups["kelurahan"], columns)
    backlog = {
        "kk": int(owed.sum()),
        "residents": int(((members - enrolled) * owed).sum()),
        "no_show_kk": int((owed & (enrolled == 0)).sum()),
        "partly_enrolled_kk": int((owed & (enrolled > 0)).sum()),
        "returned_kk": int(snap.returned.sum()),
    }
    return Status(
        as_of=snap.as_of,
        version=snap.version,
        residents=int(members.sum()),
        enrolled=int(enrolled.sum()),
        planned_by_as_of=int((members * past).sum()),
        by_date=by_date,
        kecamatan=_sums(snap.groups["home"], columns),
        kelurahan=kel,
        backlog=backlog,
        field=measure_field(snap, sc),
        returned_per_kelurahan={k: v["returned_kk"] for k, v in kel.items() if v["returned_kk"]},
    )


def device_shift_keys(ds: DeviceShifts, names: npt.NDArray[np.str_]) -> npt.NDArray[np.int64]:
    """One integer per device-shift (device, day, shift); -1 for a device not in ``names`` (sorted)."""
    pos = np.searchsorted(names, ds.device).clip(max=max(len(names) - 1, 0))
    dev = np.where(names[pos] == ds.device, pos, -1) if len(names) else np.full(len(ds.device), -1)
    day = ds.day.astype(np.int64)
    return np.where(dev >= 0, (dev * 1_000_000 + day) * 32 + ds.shift, -1)


def _index(values: npt.NDArray[np.str_], value: str) -> int:
    """``value``'s position among the sorted distinct ``values`` (-1: not among them)."""
    j = int(np.searchsorted(values, value))
    return j if j < len(values) and values[j] == value else -1


def _at(
    keys: npt.NDArray[np.int64], values: npt.NDArray[np.int64], wanted: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """The value at each wanted key (0 where a key has none); ``keys`` distinct."""
    if not len(keys):
        return np.zeros(len(wanted), dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    k, v = keys[order], values[order]
    pos = np.searchsorted(k, wanted).clip(max=len(k) - 1)
    return np.where(k[pos] == wanted, v[pos], 0)


def measure_field(snap: Snapshot, sc: Scenario) -> Field:
    """The field parameters (see measure.py for the intervals). The pace is measured on the
    device-shifts the plan had filled (booked to their regular seats): an idle device-shift says
    how many families came, not how fast a device enrols."""
    as_of = np.datetime64(snap.as_of)
    names = sorted(
        {d for d, _k, _a, _b in snap.devices} | set(snap.served.device.tolist()) | set(snap.recorded.device.tolist())
    )
    code = np.array(names, dtype=str)
    kec_of = {d: k for d, k, _a, _b in snap.devices}
    has = ~np.isnat(snap.appt_day)
    akeys = device_shift_keys(DeviceShifts(snap.appt_device, snap.appt_day, snap.appt_shift, snap.members), code)
    bk, binv = np.unique(akeys[has], return_inverse=True)
    booked = np.bincount(binv, weights=snap.members[has]).astype(np.int64)
    skeys = device_shift_keys(snap.served, code)
    rkeys = device_shift_keys(snap.recorded, code)
    down_keys = rkeys[snap.recorded.value == "down"]
    # pace: up device-shifts before as-of (recorded up, or with enrolments and not recorded down)
    up_keys = np.union1d(rkeys[snap.recorded.value == "up"], np.setdiff1d(skeys, down_keys))
    up_keys = up_keys[up_keys >= 0]
    # each up device-shift's kecamatan, day, residents served and booked (vectorised: Medan has
    # tens of thousands a week)
    dev_kec = np.array([kec_of.get(d, "") for d in names], dtype=object)
    dev_i, rest = np.divmod(up_keys, 32 * 1_000_000)
    day_i = (rest // 32).astype("datetime64[D]")
    kec = dev_kec[dev_i] if len(up_keys) else np.zeros(0, dtype=object)
    keep = (kec != "") & (day_i < as_of)
    up_keys, kec, day_i = up_keys[keep], kec[keep], day_i[keep]
    served_up = _at(skeys, snap.served.value.astype(np.int64), up_keys)
    booked_up = _at(bk, booked, up_keys)
    shifts_up = np.array([snap.kecamatan[k] for k in kec.tolist()], dtype=np.int64)
    per_day = {d: sc.device.capacity_on(d) for d in set(day_i.astype(object).tolist())}
    capacity_up = np.array([per_day[d] for d in day_i.astype(object).tolist()], dtype=np.int64)
    regular = capacity_up // np.maximum(shifts_up, 1) - sc.backlog.reserve_per_shift
    filled = booked_up >= regular
    pace: dict[str, list[float]] = {}
    full: dict[str, list[bool]] = {}  # did the filled device-shift enrol all its regular seats?
    for k in sorted(set(kec[filled].tolist())):
        mine = filled & (kec == k)
        pace[k] = (served_up[mine] * shifts_up[mine]).astype(np.float64).tolist()
        full[k] = (served_up[mine] >= regular[mine]).tolist()
    # down share per kecamatan
    rec_before = snap.recorded.day < as_of
    rec_kec = np.array([kec_of.get(d, "") for d in snap.recorded.device.tolist()], dtype=str)
    down = {k: int(((rec_kec == k) & rec_before & (snap.recorded.value == "down")).sum()) for k in snap.kecamatan}
    seen = {k: int(((rec_kec == k) & rec_before).sum()) for k in snap.kecamatan}
    # no-shows: booked before as-of, letter not returned, device-shift not down, no enrolment by the day
    invited = has & (snap.appt_day < as_of) & ~snap.returned & ~np.isin(akeys, down_keys)
    came_by_day = ~np.isnat(snap.first_enrolled) & (snap.first_enrolled <= snap.appt_day)
    missed = invited & ~came_by_day
    gap = (snap.first_enrolled - snap.appt_day).astype(np.int64)
    with_gap = missed & ~np.isnat(snap.first_enrolled)

    sites, site_of = snap.groups["site"]

    def per(mask: npt.NDArray[np.bool_]) -> dict[str, int]:
        counts = np.bincount(site_of, weights=mask, minlength=len(sites))
        return {str(c): int(n) for c, n in zip(sites.tolist(), counts.tolist(), strict=True)}

    missed_at, invited_at = per(missed), per(invited)

    all_pace = np.array([x for v in pace.values() for x in v], dtype=np.float64)
    age = (as_of - snap.appt_day).astype(np.int64)
    back_city, days_city = coming_back(missed, with_gap, gap, age)
    city = {
        "residents_per_device_day": mean_interval(all_pace),
        "filled_shifts_served_whole": wilson(sum(sum(v) for v in full.values()), sum(len(v) for v in full.values())),
        "down_share": wilson(sum(down.values()), sum(seen.values())),
        "no_show": wilson(int(missed.sum()), int(invited.sum())),
        "came_back": back_city,
        "days_to_come_back": days_city,
        "letters_returned": wilson(int(snap.returned.sum()), int(snap.lettered.sum())),
    }
    pace_sd = float(all_pace.std(ddof=1)) if len(all_pace) > 1 else 0.0
    per_kec = {}
    homes, home_of = snap.groups["home"]
    for k in sorted(snap.kecamatan):
        here = site_of == _index(sites, k)  # booked at this kecamatan's office
        lives = home_of == _index(homes, k)  # lives in this kecamatan
        back_k, days_k = coming_back(missed & here, with_gap & here, gap, age, city["came_back"])
        per_kec[k] = {
            "residents_per_device_day": pooled_mean(
                np.array(pace.get(k, []), dtype=np.float64), city["residents_per_device_day"], pace_sd
            ),
            "filled_shifts_served_whole": pooled_share(
                sum(full.get(k, [])), len(full.get(k, [])), city["filled_shifts_served_whole"]
            ),
            "down_share": pooled_share(down[k], seen[k], city["down_share"]),
            "no_show": pooled_share(missed_at.get(k, 0), invited_at.get(k, 0), city["no_show"]),
            "came_back": back_k,
            "days_to_come_back": days_k,
            "letters_returned": pooled_share(
                int((snap.returned & lives).sum()), int((snap.lettered & lives).sum()), city["letters_returned"]
            ),
        }
    nominal = {"residents_per_device_day": float(sc.device.capacity_per_day), "down_share": 0.0, "no_show": 0.0}
    return Field(city, per_kec, nominal)


def cure_fit(
    missed: npt.NDArray[np.bool_], came: npt.NDArray[np.bool_], gap: npt.NDArray[np.int64], age: npt.NDArray[np.int64]
) -> tuple[float, float]:
    """The share of families that missed who come back at all, and the mean days they take, fitted
    together (a cure model, by EM): a family back after ``gap`` days is a returner; one not back
    after ``age`` days is either one who never comes, or a returner not back yet, in the
    proportions the current fit gives. Fitting one without the other confounds them: early in a
    campaign "few are back" reads as "they come slowly" or "most never come" alike.
    Delays are exponential (the field's geometric working days, in calendar days)."""
    n_missed = int(missed.sum())
    n_came = int(came.sum())
    if n_came == 0 or n_missed == 0:
        return float("nan"), float("nan")
    waited = age[missed & ~came].clip(min=0).astype(np.float64)
    time_back = float(gap[came].clip(min=1).sum())
    # start inside (0, 1): a share of exactly 1 is a fixed point of the EM (every family not back
    # "must" be a returner), whatever the data say
    share, mean = min(max(n_came / n_missed, 0.05), 0.95), (time_back + float(waited.sum())) / n_came
    for _ in range(200):
        still = share * np.exp(-waited / mean)
        w = still / (1.0 - share + still)  # each family not back: the chance it is a returner
        new_share = (n_came + float(w.sum())) / n_missed
        new_mean = (time_back + float((w * waited).sum())) / n_came
        if abs(new_share - share) < 1e-7 and abs(new_mean - mean) < 1e-6 * mean:
            share, mean = new_share, new_mean
            break
        share, mean = new_share, new_mean
    return min(1.0, share), mean


def coming_back(
    missed: npt.NDArray[np.bool_],
    came: npt.NDArray[np.bool_],
    gap: npt.NDArray[np.int64],
    age: npt.NDArray[np.int64],
    city: Estimate | None = None,
) -> tuple[Estimate, Estimate]:
    """(came_back, days_to_come_back) from one ``cure_fit``.

    The share: a Wilson interval on the families whose fate is known by now (back, or missed long
    enough ago that a returner would very likely be back); before any return, the city's figure
    (or nothing). The mean calendar days a returner takes: its 90 % interval from the number of
    returns; families not back yet count as waiting so far (right-censored), where a mean of the
    returns alone would say "soon" early in a campaign, when only the quick ones are back."""
    share, mean = cure_fit(missed, came, gap, age)
    n = int(came.sum())
    if not np.isfinite(share):
        none = Estimate(float("nan"), float("nan"), float("nan"), 0)
        return (city if city is not None else Estimate(float("nan"), 0.0, 1.0, 0)), none
    settled = float((1.0 - np.exp(-age[missed & ~came].clip(min=0) / mean)).sum()) + float(n)
    est = wilson(share * settled, settled)
    half = Z90 * mean / np.sqrt(n)
    return (
        Estimate(share, est.low, est.high, int(missed.sum())),
        Estimate(mean, max(0.0, mean - half), mean + half, n),
    )
