"""What would put the campaign back on track (``campaign forecast --target-p P``).

Four levers, each searched alone for the least amount that lifts P(on time) to the target, then the
cheapest mix; every candidate is judged by the forecast itself (the same fitted field, the same
seed, so that two candidates differ only by the lever: common random numbers), from the day the
lever can start (as-of plus a lead time: devices must be shipped, staff told):

- **extra devices**: N more devices, placed where the runs leave most families owed at the deadline
  (largest remainders), working every shift of every working day from the start; the families still
  to come are booked again as a re-plan would, as early as the plan's own rate per device-shift
  allows at the new count (forecast.rebooked);
- **catch-up days**: the first N non-working days (Sundays, holidays) from the start opened as
  working days for every device in service (no new bookings: the queue and the families coming back);
- **longer days**: one more shift a day in every kecamatan that works fewer than five (bookings
  likewise);
- **home-visit teams**: N mobile teams, each visiting ``visits_per_team_day`` families owed a seat
  a day (those away, including those who would never come on their own).

Cost is counted in device-days of work from the start to the deadline (an extra device for a day, a
catch-up day per device in service, a fifth shift as a fifth of a device-day, a team for a day), the
one unit the four share; the cheapest mix adds, step by step, the lever step with the most gain in
P(on time) per device-day (where P(on time) is flat at 0, the fewest days late on average: more
devices alone do not fetch the stragglers, teams alone do not move the bookings, together they may).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_SHIFTS = 5
VISITS_PER_TEAM_DAY = 12  # families a mobile team visits in a day (the home-visit section's default)


@dataclass(frozen=True)
class Levers:
    """Extra capacity from day index ``start`` (of the forecast's calendar) on."""

    devices: tuple[int, ...] = ()  # extra devices per kecamatan, in the forecast's kecamatan order
    catch_up_days: int = 0
    extra_shift: bool = False
    home_teams: int = 0
    start: int = 0

    @property
    def none(self) -> bool:
        return not any(self.devices) and not self.catch_up_days and not self.extra_shift and not self.home_teams


@dataclass(frozen=True)
class Option:
    """One lever (or the mix) as a registry would read it."""

    lever: str
    enough: bool  # reaches the target within the search's bounds
    amount: int
    start: dt.date
    device_days: float
    p_on_time: float
    completion: dict[str, str]
    where: dict[str, int] = field(default_factory=dict)  # extra devices per kecamatan
    dates: list[str] = field(default_factory=list)  # catch-up days opened
    parts: dict[str, int] = field(default_factory=dict)  # the mix's amount of each lever

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"enough": self.enough}
        if self.lever != "mix":
            out["amount"] = self.amount
        out |= {
            "from": self.start.isoformat(),
            "device_days": round(self.device_days, 1),
            "p_on_time": round(self.p_on_time, 4),
            "completion": self.completion,
        }
        if self.where:
            out["where"] = self.where
        if self.dates:
            out["dates"] = self.dates
        if self.parts:
            out["parts"] = self.parts
        return out


def allocate(total: int, weights: np.ndarray) -> tuple[int, ...]:
    """``total`` devices over the kecamatan by largest remainders of ``weights`` (all zero: evenly)."""
    w = np.asarray(weights, dtype=np.float64)
    if total <= 0:
        return tuple(0 for _ in w)
    if w.sum() <= 0:
        w = np.ones_like(w)
    share = total * w / w.sum()
    base = np.floor(share).astype(int)
    rest = total - int(base.sum())
    order = np.argsort(-(share - base), kind="stable")
    base[order[:rest]] += 1
    return tuple(int(x) for x in base)


LEVERS = ("devices", "catch_up_days", "extra_shift", "home_teams")
UNAVAILABLE = {
    "devices": "no working day left before the deadline",
    "catch_up_days": "no non-working day left before the deadline",
    "extra_shift": "every kecamatan already works 5 shifts",
    "home_teams": "no working day left before the deadline",
}
SEARCH_RUNS = 300  # runs each candidate is judged on (the chosen ones again on all the runs)
MIX_STEPS = 5  # the mix adds a lever in steps of a fifth of what it needs alone
MIX_ROUNDS = 30


def subset(prep: Any, runs: int) -> Any:
    """The same prepared forecast on its first ``runs`` runs (a quicker judge for the search)."""
    import dataclasses

    if runs >= prep.queue.shape[0]:
        return prep
    par = type(prep.par)(*(getattr(prep.par, f.name)[:runs] for f in dataclasses.fields(prep.par)))
    return dataclasses.replace(prep, par=par, queue=prep.queue[:runs], away=prep.away[:runs], lost=prep.lost[:runs])


def what_puts_it_back(prep: Any, base: Any, target: float, lead_days: int = 10) -> dict[str, Any]:
    """Each lever alone, the least amount that reaches P(on time) >= ``target``, and the cheapest
    mix (module docstring); every option with the forecast it gives on all the runs. ``base``: the
    runs without levers (``forecast.simulate(prep)``, which the caller has made already)."""
    from ektp_opt.campaign.forecast import simulate, summarise

    days = prep.days
    now = round(base.p_on_time(prep.deadline_index), 4)
    if prep.deadline_index < 0:  # as-of is past the deadline: nothing can change P(on time) now
        return {"target_p": target, "lead_days": lead_days, "deadline_passed": True, "p_on_time_now": now}
    start = next((t for t, d in enumerate(days) if d >= prep.snap.as_of + dt.timedelta(days=lead_days)), len(days) - 1)
    start = min(start, max(prep.deadline_index, 0))
    judge = subset(prep, SEARCH_RUNS)
    weights = base.owed_at_deadline
    window = range(start, prep.deadline_index + 1)
    working_left = int(prep.working[start : prep.deadline_index + 1].sum())
    closed = [t for t in window if not prep.working[t]]
    in_service = prep.devices.sum(axis=0)

    def levers_of(parts: dict[str, int]) -> Levers:
        return Levers(
            devices=allocate(parts.get("devices", 0), weights),
            catch_up_days=parts.get("catch_up_days", 0),
            extra_shift=bool(parts.get("extra_shift", 0)),
            home_teams=parts.get("home_teams", 0),
            start=start,
        )

    left = slice(start, prep.deadline_index + 1)
    device_days = prep.devices[:, left][:, prep.working[left]].sum(axis=1)  # per kecamatan, to the deadline
    shift_days = float((device_days / prep.shifts)[prep.shifts < MAX_SHIFTS].sum())  # a fifth shift's work

    def cost(parts: dict[str, int]) -> float:
        return (
            parts.get("devices", 0) * working_left
            + float(sum(in_service[t] for t in closed[: parts.get("catch_up_days", 0)]))
            + (shift_days if parts.get("extra_shift", 0) else 0.0)
            + parts.get("home_teams", 0) * working_left
        )

    memo: dict[tuple[tuple[str, int], ...], tuple[float, float]] = {}

    def judged(parts: dict[str, int]) -> tuple[float, float]:
        """P(on time), and the runs' mean days late (0 for a run on time) under ``parts``."""
        key = tuple(sorted((k, v) for k, v in parts.items() if v))
        if key not in memo:
            out = simulate(judge, levers_of(parts))
            late = np.maximum(out.last_served.max(axis=1) - prep.deadline_index, 0)
            memo[key] = (out.p_on_time(prep.deadline_index), float(late.mean()))
        return memo[key]

    def p_of(parts: dict[str, int]) -> float:
        return judged(parts)[0]

    def merit(parts: dict[str, int]) -> float:
        """What the mix climbs: P(on time), and, where that is flat at 0, fewer days late."""
        p, late = judged(parts)
        return p - late / 10_000.0

    caps = {
        "devices": max(10, 3 * int(prep.devices[:, start].sum()) if prep.devices.size else 10),
        "catch_up_days": len(closed),
        "extra_shift": 1 if (prep.shifts < MAX_SHIFTS).any() else 0,
        "home_teams": max(10, 5 * int(prep.devices[:, start].sum()) if prep.devices.size else 10),
    }

    def least(lever: str) -> tuple[int, bool]:
        cap = caps[lever]
        if cap == 0:
            return 0, False
        if p_of({lever: cap}) < target:
            return cap, False
        lo, hi = 0, 1
        while hi < cap and p_of({lever: hi}) < target:
            lo, hi = hi, min(cap, hi * 2)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if p_of({lever: mid}) < target else (lo, mid)
        return hi, True

    start_day = days[start] if days else prep.snap.as_of

    def option(name: str, parts: dict[str, int], enough: bool) -> Option:
        lv = levers_of(parts)
        fc = summarise(prep, simulate(prep, lv))
        where = {c: n for c, n in zip(prep.codes, lv.devices, strict=True) if n} if parts.get("devices") else {}
        opened = [days[t].isoformat() for t in closed[: parts.get("catch_up_days", 0)]]
        return Option(
            lever=name,
            enough=enough and fc.p_on_time >= target,
            amount=sum(parts.values()) if name != "mix" else 0,
            start=start_day,
            device_days=cost(parts),
            p_on_time=fc.p_on_time,
            completion=fc.completion,
            where=where,
            dates=opened,
            parts={k: v for k, v in parts.items() if v} if name == "mix" else {},
        )

    result: dict[str, Any] = {
        "target_p": target,
        "lead_days": lead_days,
        "from": start_day.isoformat(),
        "p_on_time_now": now,
    }
    if result["p_on_time_now"] >= target:  # nothing to add: say so rather than search noise
        result["already"] = True
        return result
    result["already"] = False
    alone: dict[str, int] = {}
    for lever in LEVERS:
        amount, enough = least(lever)
        alone[lever] = amount
        result[lever] = (
            option(lever, {lever: amount}, enough).json()
            if caps[lever]
            else {"available": False, "why": UNAVAILABLE[lever]}
        )
    # the cheapest mix: greedy, the step with the most P(on time) per device-day first
    parts = {lever: 0 for lever in LEVERS}
    step = {lever: max(1, alone[lever] // MIX_STEPS) for lever in LEVERS}
    for _ in range(MIX_ROUNDS):
        if p_of(parts) >= target:
            break
        now = merit(parts)
        best, best_gain = None, 0.0
        for lever in LEVERS:
            if parts[lever] + step[lever] > caps[lever]:
                continue
            trial = {**parts, lever: parts[lever] + step[lever]}
            gain = (merit(trial) - now) / max(cost(trial) - cost(parts), 1e-9)
            if gain > best_gain:
                best, best_gain = lever, gain
        if best is None:
            break
        parts[best] += step[best]
    cheapest_alone = min(
        (lv for lv in LEVERS if caps[lv] and result[lv]["enough"]),
        key=lambda lv: result[lv]["device_days"],
        default=None,
    )
    if cheapest_alone is not None and (p_of(parts) < target or cost(parts) > result[cheapest_alone]["device_days"]):
        parts = {lever: (alone[lever] if lever == cheapest_alone else 0) for lever in LEVERS}
    result["mix"] = option("mix", parts, p_of(parts) >= target).json()
    return result
