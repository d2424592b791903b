"""How the library reports progress. The library never prints; a front end (the CLI's rich
display, or nothing at all) subscribes through this small interface.

It lives outside ``solver`` so that a command that never solves (``campaign status``) does not
load OR-Tools to say how far it got.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class Reporter:
    """Silent by default. Subclass and override to show progress."""

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        yield

    def solving(self, phase: str, objective: float, bound: float, seconds: float) -> None:
        """A new incumbent was found in ``phase``."""

    def note(self, text: str) -> None:
        """A one-line remark worth showing (never personal data)."""

    def detail(self, text: str) -> None:
        """Replace the current stage's status text (e.g. "400/1,000 runs")."""
