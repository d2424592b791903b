"""The forecast fan: residents enrolled so far and, from as-of, the P10-P90 band and the median of
the runs, against the deadline and the whole population."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import matplotlib.ticker
from matplotlib.figure import Figure


def forecast_figure(
    past: Sequence[tuple[dt.date, int]],
    days: Sequence[dt.date],
    fan: dict[str, list[int]],
    residents: int,
    deadline: dt.date,
    title: str,
    planned: Sequence[tuple[dt.date, int]] = (),
) -> Figure:
    """Enrolled so far, the plan in force (``planned``: cumulative residents by day) and the fan;
    ``plotting.save`` makes it a PNG file or bytes."""
    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=120)
    until = [i for i, d in enumerate(days) if d <= deadline + dt.timedelta(days=60)] or [0]
    x = mdates.date2num([days[i] for i in until])
    ax.fill_between(
        x,
        [fan["p10"][i] for i in until],
        [fan["p90"][i] for i in until],
        color="#1f6f8b",
        alpha=0.25,
        linewidth=0,
        label="forecast P10-P90",
    )
    ax.plot(x, [fan["p50"][i] for i in until], color="#1f6f8b", label="forecast median")
    if planned:
        ax.plot(
            mdates.date2num([d for d, _n in planned]),
            [n for _d, n in planned],
            color="#95a5a6",
            linestyle="--",
            label="plan in force",
        )
    if past:
        ax.plot(mdates.date2num([d for d, _n in past]), [n for _d, n in past], color="#2c3e50", label="enrolled")
    ax.axhline(residents, color="#7f8c8d", linestyle=":", label=f"all {residents:,} residents")
    ax.axvline(mdates.date2num(deadline), color="#c0392b", linestyle="--", label=f"deadline {deadline}")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %y"))
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    ax.set_ylabel("residents enrolled")
    ax.set_title(f"{title}: forecast from the records")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return fig
