"""Pool size against completion date: the picture a budget meeting asks for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from ektp_opt.plotting.save import save_png


def plot_pool_sensitivity(
    points: Sequence[tuple[int, dt.date]],
    deadline: dt.date,
    on: dt.date,
    out: Path,
    title: str,
    current: int,
) -> None:
    """One curve (proven earliest completion per pool size), the deadline, and the scenario's
    own pool marked, so the gap between "what we have" and "what we need" is visible."""
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    xs = [p[0] for p in points]
    ys = [mdates.date2num(p[1]) for p in points]
    ax.plot(xs, ys, marker="o", color="#1f6f8b", label="earliest completion (proven)")
    ax.axhline(mdates.date2num(deadline), color="#c0392b", linestyle="--", label=f"deadline {deadline}")
    ok = [p for p in points if p[1] <= deadline]
    if ok:
        least = min(ok, key=lambda p: p[0])
        ax.annotate(
            f"{least[0]} devices meet it",
            (least[0], mdates.date2num(least[1])),
            xytext=(12, 24),
            textcoords="offset points",
            arrowprops={"arrowstyle": "->"},
        )
    mine = [p for p in points if p[0] == current]
    if mine:
        ax.plot([current], [mdates.date2num(mine[0][1])], "s", color="#e67e22", ms=9, label=f"scenario: {current}")
    ax.set_xlabel(f"pool devices delivered {on}")
    ax.set_ylabel("earliest completion date")
    ax.yaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    ax.set_title(f"{title}: pool size against completion")
    ax.grid(alpha=0.3)
    ax.legend()
    save_png(fig, out)
