"""The objective levels measured on a finished plan, from its arrays alone (the solver measures its
result with it; ``plan`` and ``resolve`` use it too, from the floor below)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def plan_objectives(
    day: npt.NDArray[np.integer],
    members: npt.NDArray[np.integer],
    kelurahan: npt.NDArray[np.integer],
    site: npt.NDArray[np.integer],
    home: npt.NDArray[np.integer],
) -> dict[str, int]:
    """``day`` is the 0-based working-day index; levels use 1-based indices (start day = 1)."""
    if day.size == 0:
        return {"completion": 0, "waiting": 0, "compactness": 0, "overflow": 0}
    pairs = np.unique(kelurahan.astype(np.int64) * 1_000_000 + day.astype(np.int64)).size
    return {
        "completion": int(day.max()) + 1,
        "waiting": int(((day.astype(np.int64) + 1) * members).sum()),
        "compactness": int(pairs),
        "overflow": int(members[site != home].sum()),
    }
