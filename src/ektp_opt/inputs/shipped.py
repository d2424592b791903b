"""The scenarios shipped inside the package, so that `ektp-opt solve --out DIR` works from any
folder after a plain install, and a scenario may be named (``medan-10k``) instead of given as a file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ektp_opt.inputs.scenario import LoadedScenario, load_scenario

DEFAULT_SCENARIO = Path(str(resources.files("ektp_opt") / "data" / "medan" / "medan-2011.toml"))
SHIPPED = DEFAULT_SCENARIO.parent


def shipped_scenarios() -> list[str]:
    return sorted(p.stem for p in SHIPPED.glob("*.toml"))


def scenario_path(path: Path | None) -> Path:
    """A scenario file, or the name of one shipped with ektp-opt (``medan-10k``), or the default."""
    if path is None:
        return DEFAULT_SCENARIO
    if not path.exists() and path.parent == Path(".") and path.stem in shipped_scenarios():
        return SHIPPED / f"{path.stem}.toml"
    return path


def load_named_scenario(path: Path | None) -> LoadedScenario:
    """``scenario_path`` loaded."""
    return load_scenario(scenario_path(path))
