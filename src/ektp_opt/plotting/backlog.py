"""Backlog over time with percentile bands: does the queue of late KK drain before the deadline?"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import numpy.typing as npt

from ektp_opt.plotting.save import save_png

COLOURS = ("#1f6f8b", "#e67e22", "#8e44ad", "#27ae60", "#c0392b")


def plot_backlog(
    days: Sequence[dt.date],
    last_regular_day: dt.date,
    series: Sequence[tuple[str, npt.NDArray[np.int64]]],
    out: Path,
    title: str,
) -> None:
    """One median line and a 5-95 % band per late rate; (run, day) arrays of residents waiting."""
    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=120)
    x = mdates.date2num(list(days))
    for (label, runs), colour in zip(series, COLOURS * 4, strict=False):
        lo, mid, hi = np.percentile(runs, [5, 50, 95], axis=0)
        ax.fill_between(x, lo, hi, color=colour, alpha=0.25, linewidth=0)
        ax.plot(x, mid, color=colour, label=f"{label} (median, 5-95 % band)")
    ax.axvline(mdates.date2num(last_regular_day), color="#7f8c8d", linestyle=":", label="catch-up days begin")
    ax.axvline(x[-1], color="#c0392b", linestyle="--", label=f"deadline {days[-1]}")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.set_ylabel("residents waiting in the backlog")
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    ax.set_title(f"{title}: backlog of late arrivals")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    save_png(fig, out)
