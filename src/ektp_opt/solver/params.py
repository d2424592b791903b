"""Solver options and the parameter presets (``presets.toml`` beside this file, package data)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ortools.sat import sat_parameters_pb2
from ortools.sat.python import cp_model
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ektp_opt.errors import InputError, invalid
from ektp_opt.inputs.csvread import read_text


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float = 60.0
    workers: int = field(default_factory=default_workers)
    seed: int = 0
    preset: str = "default"
    log: bool = False


class Budget(BaseModel):
    """Shares of ``--time-limit`` per lexicographic phase; what a phase leaves flows on."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    completion: float = Field(ge=0, le=1)
    waiting: float = Field(ge=0, le=1)
    uniqueness: float = Field(ge=0, le=1)
    compactness: float = Field(ge=0, le=1)
    overflow: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _check(self) -> Budget:
        if sum(self.model_dump().values()) > 1.0 + 1e-9:
            raise ValueError("the shares add up to more than the whole time limit")
        return self


class Compaction(BaseModel):
    """Level 3 (compact kelurahan days): whether a kecamatan whose sequential fill stays above its
    component bound gets a CP-SAT search. Off, the fill is kept and the bound reported beside it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    search: bool = True


class Preset(BaseModel):
    """One named set of CP-SAT parameters and phase budgets (``presets.toml``, package data)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    cpsat: dict[str, bool | int | float | str] = Field(default_factory=dict)
    budget: Budget
    compaction: Compaction = Field(default_factory=Compaction)

    @model_validator(mode="after")
    def _known_parameters(self) -> Preset:
        probe = sat_parameters_pb2.SatParameters()
        for key, value in self.cpsat.items():
            if key in ("num_workers", "random_seed"):
                raise ValueError(f"{key} comes from --workers/--seed, not from a preset")
            try:
                setattr(probe, key, value)
            except (AttributeError, TypeError, ValueError) as exc:
                raise ValueError(f"{key} is not a CP-SAT parameter of that type ({exc})") from None
        return self


def cpsat_parameters(preset: Preset) -> dict[str, object]:
    """The preset's CP-SAT parameters, as the solver layer sets them (a fresh dict)."""
    return dict(preset.cpsat)


def presets_path() -> Path:
    env = os.environ.get("EKTP_OPT_PRESETS")
    if env:
        return Path(env)
    return Path(str(resources.files("ektp_opt.solver") / "presets.toml"))


def load_presets(path: Path | None = None) -> dict[str, Preset]:
    """Every preset of the file, validated; a bad one is an InputError naming the file and key."""
    path = path or presets_path()
    try:
        data = tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, None, f"not valid TOML ({exc})") from None
    out = {}
    for name in data:
        try:
            out[name] = Preset.model_validate(_resolved(data, name, path))
        except ValidationError as exc:
            raise invalid(path, exc, (name,)) from None
    return out


def _resolved(data: dict[str, Any], name: str, path: Path, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    """Preset ``name`` with ``extends = "BASE"`` filled in from BASE, table by table (its own keys
    win): a preset that differs from another in one setting says only that setting, and follows
    the other's tuning when it changes."""
    body = dict(data[name])
    base_name = body.pop("extends", None)
    if base_name is None:
        return body
    if not isinstance(base_name, str) or base_name not in data or base_name in (*seen, name):
        raise InputError(path, f"{name}.extends", f"not another preset of this file ({base_name!r})")
    base = _resolved(data, base_name, path, (*seen, name))
    for key, value in body.items():
        base[key] = {**base[key], **value} if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return base


def load_preset(name: str) -> Preset:
    """The named preset, validated (its CP-SAT parameters and its time budget)."""
    presets = load_presets()
    if name not in presets:
        raise InputError(presets_path(), name, f"no such preset (have: {', '.join(sorted(presets))})")
    return presets[name]


def make_solver(options: SolveOptions, cpsat: dict[str, Any], time_limit: float) -> cp_model.CpSolver:
    """The solver for one phase of a solve: the preset's parameters with the run's options."""
    from ektp_opt.solver.cpsat import make_solver as build

    return build(time_limit, options.workers, options.seed, cpsat, options.log)
