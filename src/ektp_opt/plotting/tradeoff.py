"""The re-plan trade-off as a picture: KK moved against the cap on each moved KK's delay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from ektp_opt.plotting.save import save_png


def plot_front(front: Any, out: Path, title: str) -> None:
    """Plans (dots, the Pareto points filled) and proven bounds (line) per cap; the plan without a
    cap as a cross at its largest delay."""
    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=120)
    plan = [(p.cap, p.moves) for p in front.points if p.moves is not None]
    ax.plot([p.cap for p in front.points], [p.bound for p in front.points], "--", color="#7f8c8d",
            label="proven lower bound")  # fmt: skip
    ax.plot([c for c, _ in plan], [m for _, m in plan], "o", mfc="white", color="#1f6f8b", label="plan at that cap")
    pareto = [p for p in front.pareto if p is not front.no_cap]
    ax.plot([p.cap for p in pareto], [p.moves for p in pareto], "o", color="#1f6f8b", label="Pareto point")
    nc = front.no_cap
    ax.plot([nc.largest_delay], [nc.moves], "x", ms=10, color="#c0392b",
            label=f"no cap: {nc.moves:,} KK, up to {nc.largest_delay} working days")  # fmt: skip
    ax.set_xlabel("cap on each moved KK's delay (working days)")
    ax.set_ylabel("KK moved")
    ax.set_yscale("log")
    plain = FuncFormatter(lambda v, _pos: f"{v:,.0f}")  # mathtext is off (names are not markup)
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain)
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(title)
    ax.legend()
    save_png(fig, out)
