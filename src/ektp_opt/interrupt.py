"""Ctrl-C and SIGTERM, handled by ektp-opt itself rather than by the solver.

The command line installs ``install()``: the first SIGINT or SIGTERM raises ``Interrupted`` (a
``KeyboardInterrupt``) in the main thread; later ones are only recorded, so that clean-up runs to
its end. CP-SAT never sees the signal (``catch_sigint_signal`` is off, see ``solver.cpsat``): its
own handler logged from inside the signal handler and could hang or abort the process. Every
CP-SAT search runs in a worker thread while the main thread waits, so the interrupt reaches the
main thread at once and stops the search through ``CpSolver.stop_search()``.

The commit of an output (the final rename or swap) runs inside ``deferred()``: the signals are
blocked for those few system calls and delivered right after, so an output is either the old one
or the complete new one. ``committed()`` records what was written, so that the message after an
interrupt can say so truthfully.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_received: list[int] = []
_committed: list[Path] = []


class Interrupted(KeyboardInterrupt):
    """The user or the system asked ektp-opt to stop."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _handler(signum: int, frame: FrameType | None) -> None:
    first = not _received
    _received.append(signum)
    if first:
        raise Interrupted(signum)


def install() -> None:
    """Make SIGINT and SIGTERM raise ``Interrupted`` (main thread only; a no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        return
    _received.clear()
    _committed.clear()
    for sig in _SIGNALS:
        signal.signal(sig, _handler)


def received() -> int | None:
    """The first signal received since ``install()``, if any."""
    return _received[0] if _received else None


def committed(path: Path) -> None:
    _committed.append(path)


def committed_paths() -> list[Path]:
    return list(_committed)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for the few calls inside (an output's commit)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
