"""What a kk_id or device_id may look like: letters and digits with inner ``-`` or ``.``.

An id starts with a letter or a digit, so that no id is ever read as a spreadsheet formula
(``=HYPERLINK(...)``) or as a command-line option (``-cmd``), and holds no comma, quote or space, so
that it is one CSV cell as it stands.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9.\-]{0,63}"
_ID = re.compile(rf"^{ID_PATTERN}$")


def is_id(text: str) -> bool:
    return _ID.match(text) is not None


def bad_ids(values: npt.NDArray[np.str_]) -> npt.NDArray[np.bool_]:
    """Mask of the values that are not ids (vectorised over the distinct values)."""
    uniq, inverse = np.unique(values, return_inverse=True)
    ok = np.array([is_id(str(v)) for v in uniq.tolist()], dtype=bool)
    return ~ok[inverse] if len(values) else np.zeros(0, dtype=bool)
