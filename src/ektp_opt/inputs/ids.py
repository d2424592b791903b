"""What a kk_id or device_id may look like: letters and digits with inner ``-`` or ``.``.

An id starts with a letter or a digit, so that no id is ever read as a spreadsheet formula
(``=HYPERLINK(...)``) or as a command-line option (``-cmd``), and holds no comma, quote or space, so
that it is one CSV cell as it stands.
"""

from __future__ import annotations

import re

ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9.\-]{0,63}"
_ID = re.compile(rf"^{ID_PATTERN}$")


def is_id(text: str) -> bool:
    return _ID.match(text) is not None
