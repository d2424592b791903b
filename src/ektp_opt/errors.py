"""Error types and the exit codes that scripts can rely on.

Every failure a user can cause ends in one of these exceptions; the CLI turns each into a
one-line message and its own exit code, never a traceback.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitCode(IntEnum):
    """Process exit codes. Documented in the README; never renumber one."""

    OK = 0
    INTERNAL = 1  # a bug in ektp-opt: please report it
    USAGE = 2  # bad command-line usage (click's own code)
    INPUT = 3  # a scenario, households or plan file is broken
    INFEASIBLE = 4  # the deadline (or a resolve --max-delay cap) cannot be met; diagnosis.json says what is missing
    VERIFY_FAILED = 5  # a plan breaks a hard rule
    NO_SOLUTION = 6  # the time limit ran out before any plan was found
    INTERRUPTED = 130  # Ctrl-C (SIGINT)
    TERMINATED = 143  # SIGTERM


class EktpError(Exception):
    """Base class: an error with a user-facing one-line message and an exit code."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable with every field, so an error raised in a Ray worker reaches the driver whole
        # (Ray could not rebuild InputError from its message alone: "UnserializableException").
        return _rebuild, (type(self), self.__dict__)


def _rebuild(cls: type[EktpError], fields: dict[str, Any]) -> EktpError:
    err = cls.__new__(cls)
    Exception.__init__(err, fields.get("message", ""))
    err.__dict__.update(fields)
    return err


class InputError(EktpError):
    """A broken input file. The message names the file, the row or field, and the reason."""

    exit_code = ExitCode.INPUT

    def __init__(self, path: object, where: str | None, reason: str) -> None:
        location = f"{path}" if where is None else f"{path}: {where}"
        super().__init__(f"{location}: {reason}")
        self.path = str(path)
        self.where = where
        self.reason = reason


def invalid(path: object, exc: Any, prefix: tuple[object, ...] = ()) -> InputError:
    """A pydantic ValidationError as one InputError: the first problem, its field path written
    as the user wrote it (``prefix`` first), pydantic's "Value error, " dropped."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in (*prefix, *err["loc"])) or None
    return InputError(path, where, str(err["msg"]).removeprefix("Value error, "))


class InfeasibleError(EktpError):
    """The scenario cannot meet its deadline; carries the diagnosis for the caller to write."""

    exit_code = ExitCode.INFEASIBLE

    def __init__(self, message: str, diagnosis: Any = None, proof: Any = None) -> None:
        super().__init__(message)
        self.diagnosis = diagnosis  # a results.Diagnosis once diagnosed (api.plan_city), else None
        self.proof = proof  # a results.Proof: the model that proved it, where it binds, what fixes it


class DelayCapError(InfeasibleError):
    """No re-plan keeps every moved KK within the asked delay cap; the diagnosis
    (results.CapDiagnosis) names the smallest cap that can be met."""


class NoSolutionError(EktpError):
    """The solver stopped (time limit) without any feasible plan."""

    exit_code = ExitCode.NO_SOLUTION


class VerificationError(EktpError):
    """A plan breaks at least one hard rule."""

    exit_code = ExitCode.VERIFY_FAILED
