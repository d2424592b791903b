"""Solver options and the parameter presets kept in ``models/presets.toml``."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ortools.sat.python import cp_model

from ektp_opt.errors import InputError

PHASES = ("completion", "waiting", "uniqueness", "compactness", "overflow")


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float = 60.0
    workers: int = field(default_factory=default_workers)
    seed: int = 0
    preset: str = "default"
    log: bool = False


def presets_path() -> Path:
    env = os.environ.get("EKTP_OPT_PRESETS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "models" / "presets.toml"


def load_preset(name: str) -> tuple[dict[str, Any], dict[str, float]]:
    path = presets_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, None, "solver presets file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, None, f"not valid TOML ({exc})") from None
    if name not in data:
        raise InputError(path, name, f"no such preset (have: {', '.join(sorted(data))})")
    preset = data[name]
    budget = {k: float(v) for k, v in preset.get("budget", {}).items()}
    missing = [p for p in PHASES if p not in budget]
    if missing:
        raise InputError(path, f"{name}.budget", f"missing share(s): {', '.join(missing)}")
    return dict(preset.get("cpsat", {})), budget


def make_solver(options: SolveOptions, cpsat: dict[str, Any], time_limit: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    p = solver.parameters
    for key, value in cpsat.items():
        try:
            setattr(p, key, value)
        except (AttributeError, TypeError, ValueError) as exc:
            raise InputError(presets_path(), key, f"not a CP-SAT parameter ({exc})") from None
    p.num_workers = options.workers
    p.random_seed = options.seed
    p.max_time_in_seconds = max(0.05, time_limit)
    p.log_search_progress = options.log
    return solver
