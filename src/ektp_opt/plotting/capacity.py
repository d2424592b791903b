"""Pool size against completion date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from ektp_opt.atomic import write_bytes_atomic


def plot_pool_sensitivity(points: list[tuple[int, str]], deadline: dt.date, on: dt.date, out: Path, title: str) -> None:
    import io

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=120)
    xs = [p[0] for p in points]
    ys = [dt.date.fromisoformat(p[1]) for p in points]
    ax.plot(xs, ys, marker="o", color="#1f6f8b")  # type: ignore[arg-type]
    ax.axhline(
        deadline,  # type: ignore[arg-type]
        color="#c0392b",
        linestyle="--",
        label=f"deadline {deadline}",
    )
    ax.set_xlabel(f"pool devices delivered {on}")
    ax.set_ylabel("earliest completion date")
    ax.yaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    ax.set_title(f"{title}: pool size against completion")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    write_bytes_atomic(out, buf.getvalue())
