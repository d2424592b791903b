"""What every command shares: exit-code mapping and the default scenario."""

from __future__ import annotations

import errno
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from ektp_opt.errors import EktpError, ExitCode, InfeasibleError
from ektp_opt.safety import interrupt

if TYPE_CHECKING:
    from ektp_opt.api import LoadedScenario

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str, code: ExitCode) -> None:
    from ektp_opt.cli.console import err
    from ektp_opt.safety.textsafe import plain

    err.print(f"[bold red]error:[/] {plain(message)}", highlight=False, soft_wrap=True)
    sys.exit(int(code))


def interrupted_exit() -> None:
    """Exit 130 (SIGINT) or 143 (SIGTERM), saying truthfully what was written before the stop.

    Plain ``sys.stderr``, no rich: the interrupt may have cut an import (numpy, rich) in half,
    and importing it again here would fail."""
    sys.exit(interrupt.report())


def guarded(fn: F) -> F:
    """Map every failure to its exit code; no traceback unless --debug."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return fn(*args, **kwargs)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            if interrupt.received() is not None:
                interrupted_exit()
            raise
        except KeyboardInterrupt:
            interrupted_exit()
        except BaseException as exc:
            # After a signal, whatever surfaced (an import cut in half, a solver stopped early)
            # is the interrupt, not a bug.
            if interrupt.received() is not None:
                interrupted_exit()
            if isinstance(exc, SystemExit):
                raise
            if isinstance(exc, EktpError):
                if debug:
                    raise
                _fail(exc.message, exc.exit_code)
            if isinstance(exc, OSError) and exc.errno in (errno.ENAMETOOLONG, errno.ELOOP):
                # A path the user gave that the system cannot open: bad input, named, not a bug.
                name = str(exc.filename or "a path")
                shown = name if len(name) <= 200 else f"{name[:120]}...{name[-60:]} ({len(name.encode()):,} bytes)"
                why = (
                    "is too long (at most 255 bytes a name, 4,096 bytes a path)"
                    if exc.errno == errno.ENAMETOOLONG
                    else "is a loop of symbolic links"
                )
                _fail(f"{shown}: {why}", ExitCode.INPUT)
            if isinstance(exc, MemoryError):
                _fail("out of memory", ExitCode.INTERNAL)
            if debug:
                raise
            # a bug: say so plainly, keep data out of it
            _fail(f"internal error ({type(exc).__name__}); rerun with --debug and report it", ExitCode.INTERNAL)
        return None

    return wrapper  # type: ignore[return-value]


def scenario_arg(path: Path | None) -> LoadedScenario:
    """A scenario file, or the name of one shipped with ektp-opt, or the default, loaded."""
    from ektp_opt.api import load_named_scenario

    return load_named_scenario(path)


def write_diagnosis(out: Path, diagnosis: Any) -> Path:
    from ektp_opt.api import write_diagnosis as write

    return write(out, diagnosis)


def diagnosis_exit(out: Path, exc: InfeasibleError, progress: Any) -> NoReturn:
    """The deadline cannot be met: write OUT/diagnosis.json, show it, and end with exit 4."""
    written = write_diagnosis(out, exc.diagnosis)
    progress.stop()
    print_diagnosis(exc.diagnosis)
    raise InfeasibleError(f"{exc.message}; diagnosis in {written}") from None


def print_diagnosis(diagnosis: Any) -> None:
    """The one screen that says why the deadline cannot be met; shown under --quiet too."""
    from ektp_opt.cli.console import loud
    from ektp_opt.cli.console import out as con
    from ektp_opt.cli.tables import diagnosis_panel

    with loud():
        con.print(diagnosis_panel(diagnosis))


class Range(click.FloatRange):
    """A float range that also refuses nan and infinity (click's own lets nan through)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        rv = super().convert(value, param, ctx)
        if rv != rv or rv in (float("inf"), float("-inf")):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return rv


SEED = click.IntRange(0, 2**31 - 1)  # CP-SAT's random_seed is a 32-bit int

# Options several commands share, written once so their meaning and ranges cannot drift.
workers_option = click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="CP-SAT workers [default: CPU cores, at most 8]. Use 1 for byte-identical reruns.",
)


def _quiet(_ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    from ektp_opt.cli.console import set_quiet

    set_quiet(value)
    return value


quiet_option = click.option(
    "--quiet",
    is_flag=True,
    callback=_quiet,
    expose_value=True,
    help="Errors and one closing line only: no progress display, no tables.",
)
json_option = click.option(
    "--json", "json_out", type=click.Path(path_type=Path), default=None, help="Write every figure as JSON here."
)
plan_scenario_option = click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Scenario the plan was made for [default: the one named in summary.json].",
)


def chart_option(what: str) -> Callable[[F], F]:
    return click.option("--chart", type=click.Path(path_type=Path), default=None, help=f"PNG to write: {what}.")
