"""Rich output for the CLI: the progress display and the tables. The library never imports it."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from ektp_opt.api import Reporter
from ektp_opt.safety import interrupt
from ektp_opt.safety.textsafe import TextTable, plain

if TYPE_CHECKING:
    from ektp_opt.api import LevelResult

LOG_WIDTH = 200  # a file or a pipe has no width: tables take what they need, up to this


def _console(stderr: bool) -> Console:
    """A terminal gets its own width; a file, a pipe or a log gets lines that are not hard-wrapped
    at 80 columns (``national verify > log`` split "national rules" from "N1-N3 hold", and the
    objectives table wrapped each description over eight lines)."""
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty() or os.environ.get("COLUMNS"):
        return Console(stderr=stderr)
    return Console(stderr=stderr, width=LOG_WIDTH, soft_wrap=True)


err = _console(stderr=True)
out = _console(stderr=False)


def set_quiet(quiet: bool) -> None:
    """``--quiet``: errors and the one closing line only (``closing``), no tables or notes."""
    out.quiet = quiet


@contextmanager
def loud() -> Iterator[None]:
    """Printed under ``--quiet`` too: the closing line, and the one screen that says why a
    deadline cannot be met (exit 4)."""
    was, out.quiet = out.quiet, False
    try:
        yield
    finally:
        out.quiet = was


def closing(text: str) -> None:
    """The one line a command ends with; printed under ``--quiet`` too."""
    with loud():
        out.print(text)


class RichReporter(Reporter):
    """One line per stage, with the live objective and bound while CP-SAT searches."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        interrupt.check()
        task = self.progress.add_task(plain(name), total=1, detail="")
        previous, self.task = self.task, task
        start = time.perf_counter()
        try:
            yield
        except BaseException:
            self.progress.update(task, detail="[red]stopped[/]")
            self.progress.remove_task(task)
            self.task = previous
            raise
        took = time.perf_counter() - start
        self.seconds[name] = self.seconds.get(name, 0.0) + took
        self.progress.update(task, completed=1, detail=f"[green]done[/] in {took:.1f} s")
        self.task = previous

    def solving(self, phase: str, objective: float, bound: float, seconds: float) -> None:
        if self.task is not None:
            self.progress.update(self.task, detail=f"{phase}: value {objective:,.0f}  bound {bound:,.0f}")

    def detail(self, text: str) -> None:
        if self.task is not None:
            self.progress.update(self.task, detail=plain(text))

    def note(self, text: str) -> None:
        self.progress.console.print(f"  [dim]{plain(text)}[/]")


@contextmanager
def progress_display(quiet: bool = False) -> Iterator[RichReporter]:
    progress = Progress(
        SpinnerColumn(finished_text="[green]✓[/]"),
        TextColumn("{task.description:<22}"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[detail]}"),
        console=err,
        disable=quiet,
        transient=False,
    )
    with progress:
        yield RichReporter(progress)


def levels_table(levels: list[LevelResult]) -> TextTable:
    from ektp_opt.api import UNITS

    t = TextTable(title="Objectives (lexicographic)", title_justify="left")
    for col in ("level", "value", "proven bound", "gap", "status", "what it counts"):
        t.add_column(col, justify="right" if col in ("value", "proven bound", "gap") else "left")
    for i, lv in enumerate(levels, 1):
        status = lv.status if lv.scope == "global" else f"{lv.status} ({lv.scope})"
        t.add_row(
            f"{i}. {lv.name}",
            f"{lv.value:,}",
            f"{lv.bound:,}",
            f"{lv.gap:.2%}",
            status,
            UNITS[lv.name],
        )
    return t
