"""Charts are written atomically, like every other output, and closed so memory does not grow."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ektp_opt.safety.atomic import write_bytes_atomic


def png_bytes(fig: Figure) -> bytes:
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": "ektp-opt"})  # see safety/atomic.py
    plt.close(fig)
    return buf.getvalue()


def save_png(fig: Figure, out: Path) -> None:
    write_bytes_atomic(out, png_bytes(fig))
