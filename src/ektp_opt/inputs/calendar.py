"""Working-day arithmetic: the one calendar the planner uses.

Dates are kept as ``datetime.date`` at the edges and as integer working-day indices inside the
model, so that "day 7" means the 8th working day from ``start`` and the model never sees Sundays
or holidays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def is_workday(day: dt.date, workdays: frozenset[int], holidays: frozenset[dt.date]) -> bool:
    """True when ``day`` is a weekday in ``workdays`` (0 = Monday) and not a holiday."""
    return day.weekday() in workdays and day not in holidays


def working_days(
    first: dt.date, last: dt.date, workdays: frozenset[int], holidays: frozenset[dt.date]
) -> list[dt.date]:
    """All working days in ``[first, last]``, in order."""
    out: list[dt.date] = []
    day = first
    while day <= last:
        if is_workday(day, workdays, holidays):
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def nth_working_day_after(day: dt.date, n: int, workdays: frozenset[int], holidays: frozenset[dt.date]) -> dt.date:
    """The ``n``-th working day strictly after ``day`` (n >= 1)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    seen = 0
    cur = day
    while True:
        cur += dt.timedelta(days=1)
        if is_workday(cur, workdays, holidays):
            seen += 1
            if seen == n:
                return cur


def available_from(
    delivery: dt.date, setup_days: int, workdays: frozenset[int], holidays: frozenset[dt.date]
) -> dt.date:
    """First service day of a device: ``setup_days`` working days lie strictly between delivery
    and first service, so a device delivered on a Monday with one setup day serves from Wednesday.
    With ``setup_days = 0`` it serves from the next working day: the delivery day itself goes to
    unpacking."""
    return nth_working_day_after(delivery, setup_days + 1, workdays, holidays)


def index_on_or_after(days: Sequence[dt.date], day: dt.date) -> int:
    """Index of the first element of sorted ``days`` that is >= ``day`` (len(days) if none)."""
    lo, hi = 0, len(days)
    while lo < hi:
        mid = (lo + hi) // 2
        if days[mid] < day:
            lo = mid + 1
        else:
            hi = mid
    return lo


def weekday_set(names: Iterable[str]) -> frozenset[int]:
    """Map ``["mon", ...]`` to weekday numbers; callers validate the names first."""
    return frozenset(WEEKDAYS.index(name) for name in names)
