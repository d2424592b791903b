"""The console script ``ektp-opt``: ektp-opt's own SIGINT/SIGTERM handling around the CLI.

The handlers go in before anything heavy is imported, so that a Ctrl-C during start-up is
handled like any other. A signal that arrives after the command finished its own handling (while
click or Python wind down) still ends in 130/143 with a true message, never in click's "Aborted!"
and exit 1.
"""

from __future__ import annotations

import sys
from typing import Any

from ektp_opt.safety import interrupt


def main() -> None:
    interrupt.install()
    code: Any = 0
    try:
        try:
            from ektp_opt.cli.main import main as cli

            cli()
        except SystemExit as exc:
            code = exc.code
    except BaseException:
        # After a signal, whatever surfaced is the interrupt: a KeyboardInterrupt, or an import it
        # cut in half (pybind11 modules turn it into "ImportError: initialization failed").
        if interrupt.received() is None:
            raise
        code = None
    interrupt.settle()  # from here on a signal is ignored: the command has finished
    if interrupt.received() is not None and code not in (130, 143):
        code = interrupt.report()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
