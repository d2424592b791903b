"""Whole devices shared out in proportion to weights (largest remainder, Hamilton's method)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


def largest_remainder(weights: npt.NDArray[np.number[Any]], n: int) -> npt.NDArray[np.int64]:
    """``n`` items split in proportion to ``weights``: each gets the floor of its share, and the
    items left over go to the largest remainders (ties to the lower index)."""
    share = weights * n / max(1.0, float(weights.sum()))
    take = np.floor(share).astype(np.int64)
    for k in np.argsort(-(share - take), kind="stable")[: n - int(take.sum())]:
        take[k] += 1
    return take
