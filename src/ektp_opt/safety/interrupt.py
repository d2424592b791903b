"""Ctrl-C and SIGTERM, handled by ektp-opt itself rather than by the solver.

The command line installs ``install()``: the first SIGINT or SIGTERM raises ``Interrupted`` (a
``KeyboardInterrupt``) in the main thread; later ones are only recorded, so that clean-up runs to
its end. CP-SAT never sees the signal (``catch_sigint_signal`` is off, see ``solver.cpsat``): its
own handler logged from inside the signal handler and could hang or abort the process. Every
CP-SAT search runs in a worker thread while the main thread waits, so the interrupt reaches the
main thread at once and stops the search through ``CpSolver.stop_search()``.

The commit of an output (the final rename or swap) runs inside ``deferred()``: a signal that
arrives during those few system calls is held and raised right after, so an output is either the
old one or the complete new one. (Blocking the signal with ``pthread_sigmask`` would not do: the
kernel hands a process signal to any thread that does not block it, such as CP-SAT's.)
``committed()`` records what was written, so that the message after an interrupt can say so
truthfully.
"""

from __future__ import annotations

import signal
import sys
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


_deferring: list[bool] = []
_installed: set[int] = set()  # the signals whose handler is ours


def _handler(signum: int, frame: FrameType | None) -> None:
    first = not _received
    _received.append(signum)
    if first and not _deferring and not _inside_import(frame):
        raise Interrupted(signum)


def _inside_import(frame: FrameType | None) -> bool:
    """Python's import machinery runs some of its code where an exception is printed as "Exception
    ignored" and dropped (a module lock's weakref callback): a signal that lands there is only
    recorded, and the next ``check()`` (before any search, write or commit) raises it."""
    return frame is not None and frame.f_code.co_filename.startswith("<frozen importlib")


def install() -> None:
    """Make SIGINT and SIGTERM raise ``Interrupted`` (main thread only; a no-op elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        return
    _received.clear()
    _committed.clear()
    for sig in _SIGNALS:
        if signal.getsignal(sig) is signal.SIG_IGN:
            continue  # started with the signal ignored (nohup, a background job): keep it so
        signal.signal(sig, _handler)
        _installed.add(sig)


def reclaim() -> None:
    """Take SIGINT and SIGTERM back after a library installed its own handlers (Ray's core dumps a
    stack and aborts on SIGTERM: exit 134 or 1 instead of 143). Only where ``install`` set ours."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in _installed:
        # Python may still name ours while the C-level handler underneath is another's: set it anew.
        signal.signal(sig, _handler)


@contextmanager
def held() -> Iterator[None]:
    """Block SIGINT and SIGTERM around a library's start-up that installs handlers of its own (Ray):
    threads it starts inherit the block, and a signal that came meanwhile is delivered when the
    block ends, to ``reclaim``-ed handlers. Main thread only; elsewhere a plain block."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def check() -> None:
    """Raise ``Interrupted`` if a signal came: a checkpoint before long or irreversible steps (a
    CP-SAT search, an output's commit). The handler raises at once, but an exception raised inside
    an import can be swallowed by C code; the checkpoint makes sure it is not lost."""
    if _received and not _deferring:
        raise Interrupted(_received[0])


def settle() -> None:
    """The command is over and its exit code decided: ignore SIGINT and SIGTERM from now on, so
    that Python's own shutdown (which restores the default handlers) is not killed half-way. A
    signal that came before this call is still seen by ``received()``."""
    if threading.current_thread() is threading.main_thread():
        for sig in _SIGNALS:
            signal.signal(sig, signal.SIG_IGN)


def received() -> int | None:
    """The first signal received since ``install()``, if any."""
    return _received[0] if _received else None


def outcome() -> tuple[int, str]:
    """The exit code (130 SIGINT, 143 SIGTERM) and the one-line message after an interrupt."""
    code = 143 if received() == signal.SIGTERM else 130
    written = [str(p).encode("unicode_escape").decode("ascii") for p in _committed]
    if written:
        return code, f"interrupted after writing {', '.join(written)} (complete); nothing else was written"
    return code, "interrupted; nothing was written, earlier outputs are untouched"


def report() -> int:
    """Say on stderr (plainly: rich or numpy may be half-imported) what the interrupt left, and
    return the exit code to end with."""
    code, message = outcome()
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()
    return code


def committed(path: Path) -> None:
    _committed.append(path)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for the few calls inside (an output's commit): a signal that
    arrives meanwhile is raised as ``Interrupted`` when the block ends, after the commit."""
    before = len(_received)
    _deferring.append(True)
    try:
        yield
    finally:
        _deferring.pop()
    if not _deferring and before == 0 and _received:
        raise Interrupted(_received[0])
