"""The four pictures of the plan report. Each takes a Plan and returns PNG bytes, so the
report can embed them and a test can count them."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
from matplotlib.axes import Axes

from ektp_opt.plan.view import Plan
from ektp_opt.plotting.save import png_bytes


def _deadline_lines(ax: Axes, view: Plan, x: np.ndarray) -> None:
    ax.axvline(x[view.regular_days - 1], color="#7f8c8d", linestyle=":", label="last regular day")
    ax.axvline(x[-1], color="#c0392b", linestyle="--", label=f"deadline {view.days[-1]}")


def cumulative(view: Plan) -> bytes:
    """Residents enrolled by each day, citywide (left) and as a share per kecamatan (right)."""
    x = mdates.date2num(list(view.days))
    per = np.zeros((len(view.kecamatan), len(view.days)), dtype=np.int64)
    np.add.at(per, (view.site, view.day), view.members)
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.4), dpi=110)
    a.plot(x, per.sum(axis=0).cumsum(), color="#1f6f8b", label="enrolled (planned)")
    a.axhline(int(view.members.sum()), color="#27ae60", linewidth=0.8, label="all residents")
    _deadline_lines(a, view, x)
    a.set_title("Citywide: residents enrolled")
    a.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    share = per.cumsum(axis=1) / np.maximum(per.sum(axis=1, keepdims=True), 1)
    for k in range(len(view.kecamatan)):
        b.plot(x, 100 * share[k], linewidth=0.9, alpha=0.8)
    _deadline_lines(b, view, x)
    b.set_title(f"Per kecamatan: % of residents enrolled ({len(view.kecamatan)} lines)")
    for ax in (a, b):
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
        ax.grid(alpha=0.3)
    a.legend(fontsize=8, loc="upper left")
    return png_bytes(fig)


def devices(view: Plan, names: dict[str, str]) -> bytes:
    x = mdates.date2num(list(view.days))
    counts = view.devices_in_service()
    fig, ax = plt.subplots(figsize=(12, 4.8), dpi=110)
    colours = plt.get_cmap("tab20")(np.linspace(0, 1, len(view.kecamatan)))
    ax.stackplot(x, counts, colors=colours, step="post",
                 labels=[f"{c} {names.get(c, '')}" for c in view.kecamatan])  # fmt: skip
    _deadline_lines(ax, view, x)
    ax.set_title("Devices in service per kecamatan (stacked)")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.legend(fontsize=6, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3)
    return png_bytes(fig)


def utilisation(view: Plan, seats: Callable[[str], int]) -> bytes:
    """Booked residents over regular seats of the devices in service, kecamatan x regular day."""
    regular = view.regular_days
    booked = np.zeros((len(view.kecamatan), regular), dtype=np.int64)
    inside = view.day < regular
    np.add.at(booked, (view.site[inside], view.day[inside]), view.members[inside])
    cap = view.devices_in_service()[:, :regular] * np.array([seats(c) for c in view.kecamatan])[:, None]
    share = np.where(cap > 0, booked / np.maximum(cap, 1), np.nan)
    fig, ax = plt.subplots(figsize=(12, 0.28 * len(view.kecamatan) + 1.6), dpi=110)
    im = ax.imshow(share * 100, aspect="auto", cmap="viridis", vmin=0, vmax=100, interpolation="nearest")
    ax.set_yticks(range(len(view.kecamatan)), view.kecamatan, fontsize=7)
    ticks = list(range(0, regular, max(1, regular // 12)))
    ax.set_xticks(ticks, [view.days[t].strftime("%d %b") for t in ticks], fontsize=8)
    ax.set_title("Seat utilisation: booked / regular seats of devices in service (%); blank = no device in service")
    fig.colorbar(im, ax=ax, fraction=0.025, pad=0.01)
    return png_bytes(fig)


def gantt(view: Plan) -> bytes:
    """One bar per kelurahan from its first to its last appointment, grouped by kecamatan."""
    n_kel = len(view.kelurahan)
    first = np.full(n_kel, len(view.days), dtype=np.int64)
    last = np.full(n_kel, -1, dtype=np.int64)
    np.minimum.at(first, view.kel, view.day)
    np.maximum.at(last, view.kel, view.day)
    rows = [i for i in range(n_kel) if last[i] >= 0]
    fig, ax = plt.subplots(figsize=(12, 0.13 * len(rows) + 1.5), dpi=110)
    x = mdates.date2num(list(view.days))
    colours = plt.get_cmap("tab20")
    kec_of = {code: k for k, code in enumerate(view.kecamatan)}
    for y, i in enumerate(rows):
        k = kec_of.get(view.kelurahan[i][:8], 0)
        ax.barh(y, x[last[i]] - x[first[i]] + 1, left=x[first[i]], height=0.8, color=colours(k % 20))
    ax.set_yticks(range(len(rows)), [view.kelurahan[i] for i in rows], fontsize=5)
    ax.invert_yaxis()
    _deadline_lines(ax, view, x)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.set_title("Kelurahan windows: first to last appointment (colour = kecamatan)")
    ax.grid(alpha=0.3, axis="x")
    return png_bytes(fig)
