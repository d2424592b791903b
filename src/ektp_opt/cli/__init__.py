"""The ``ektp-opt`` command line: a thin layer over the library (``ektp_opt.api``).

``entry`` is the console script (signal handling first, then the click group in ``main``);
``commands`` holds the longer commands, ``console`` the progress display and ``tables`` the rich
tables. ``main`` is loaded on first use so that ``entry`` installs its handlers before anything
heavy is imported.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "main":
        from ektp_opt.cli.main import main

        return main
    raise AttributeError(f"module 'ektp_opt.cli' has no attribute {name!r}")
