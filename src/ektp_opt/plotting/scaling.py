"""Log-log picture of the scaling study: time and peak memory against residents, per method,
with the fitted exponent of ektp-opt's time."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ektp_opt.plotting.save import save_png

STYLE = {"ektp": ("#1f6f8b", "o", "ektp-opt"), "monolithic": ("#c0392b", "s", "monolithic CP-SAT"),
         "queue": ("#7f8c8d", "^", "office queue")}  # fmt: skip


def plot_scaling(results: dict[str, Any], out: Path) -> None:
    fig, (t_ax, m_ax) = plt.subplots(1, 2, figsize=(11, 4.6), dpi=120)
    for method, (colour, marker, label) in STYLE.items():
        runs = [r for r in results["runs"] if r.get("method") == method and "total_seconds" in r]
        runs = [r for r in runs if r.get("status") not in ("NOT_BUILT", "ERROR", "TIMEOUT")]
        if not runs:
            continue
        xs = [r["residents"] for r in runs]
        t_ax.plot(xs, [r["total_seconds"] for r in runs], marker=marker, color=colour, label=label)
        m_ax.plot(xs, [r["peak_rss_mib"] for r in runs], marker=marker, color=colour, label=label)
    slope = results["fit"].get("time_exponent_from_200k")
    ours = sorted(
        (r["residents"], r["total_seconds"])
        for r in results["runs"]
        if r.get("method") == "ektp" and "total_seconds" in r
    )
    if slope is not None and ours:
        x0, y0 = ours[-1]
        xs = [min(x for x, _ in ours if x >= 200_000), x0]  # the range the exponent was fitted on
        t_ax.plot(xs, [y0 * math.pow(x / x0, slope) for x in xs], ":", color="#1f6f8b", label=f"fit: time ~ n^{slope}")
    for ax, what in ((t_ax, "end-to-end seconds"), (m_ax, "peak memory (MiB)")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("residents")
        ax.set_ylabel(what)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    t_ax.axhline(60, color="#e67e22", linestyle="--", linewidth=0.8)
    t_ax.axhline(600, color="#e67e22", linestyle="--", linewidth=0.8)
    m_ax.axhline(8192, color="#e67e22", linestyle="--", linewidth=0.8)
    fig.suptitle(f"Scaling on {results['machine']['cpus']} CPUs, time limit {results['time_limit']:.0f} s")
    save_png(fig, out)
