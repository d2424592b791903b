"""Read a scenario TOML, validate it whole, and report the first problem as one line:
``FILE: field.path: reason``."""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from ektp_opt.errors import InputError
from ektp_opt.inputs.admin import AdminData, load_admin
from ektp_opt.inputs.calendar import weekday_set
from ektp_opt.inputs.csvread import read_text
from ektp_opt.inputs.scenario.model import Scenario


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with its admin data and resolved paths."""

    path: Path
    scenario: Scenario
    admin: AdminData
    sha256: str

    @property
    def households_path(self) -> Path | None:
        spec = self.scenario.households
        return None if not hasattr(spec, "file") else self.path.parent / spec.file

    @property
    def workdays(self) -> frozenset[int]:
        return weekday_set(self.scenario.calendar.workdays)

    @property
    def holidays(self) -> frozenset[dt.date]:
        return frozenset(self.scenario.calendar.holidays)


def _field_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for i, item in enumerate(loc):
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("spec", "file") and i == 1 and loc[0] == "households":
            continue  # the tag of the households form (model.py), not a field
        elif item in ("GeneratorSpec", "HouseholdsFile") or "[" in str(item) or "-" in str(item):
            continue  # pydantic's branch names (GeneratorSpec, function-after[...]) mean nothing to a user
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def _format_validation(path: Path, exc: ValidationError) -> InputError:
    errors = exc.errors()
    # For the households union, prefer the branch the user evidently meant.
    first = errors[0]
    for err in errors:
        loc = err["loc"]
        if loc and loc[0] == "households" and len(loc) > 1:
            wanted = "GeneratorSpec" if len(loc) > 2 and loc[1] == "GeneratorSpec" else None
            if wanted and err["type"] != "missing":
                first = err
                break
    msg = str(first["msg"]).removeprefix("Value error, ")
    return InputError(path, _field_path(tuple(first["loc"])), msg)


def parse_scenario(path: Path, text: str) -> Scenario:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(path, None, f"not valid TOML ({exc})") from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _format_validation(path, exc) from None


def _check_against_admin(path: Path, sc: Scenario, admin: AdminData) -> None:
    known = {k.code for k in admin.kecamatan}
    for i, d in enumerate(sc.deliveries):
        if d.kecamatan is not None and d.kecamatan not in known:
            raise InputError(path, f"deliveries[{i}].kecamatan", f"unknown kecamatan {d.kecamatan}")
    for code in sc.shifts_override:
        if code not in known:
            raise InputError(path, f"shifts_override.{code}", f"unknown kecamatan {code}")
    if sc.operators is not None:
        for code in sc.operators.overrides:
            if code not in known:
                raise InputError(path, f"operators.overrides.{code}", f"unknown kecamatan {code}")
    if sc.home_visits is not None:
        for code in sc.home_visits.overrides:
            if code not in known:
                raise InputError(path, f"home_visits.overrides.{code}", f"unknown kecamatan {code}")
    first_delivery = min(d.date for d in sc.deliveries)
    horizon_start = min(sc.start, first_delivery)
    # Holidays after the deadline are welcome: capacity projects the campaign past it with them.
    latest = sc.deadline + dt.timedelta(days=3653)
    for i, h in enumerate(sc.calendar.holidays):
        if not horizon_start <= h <= latest:
            raise InputError(
                path,
                f"calendar.holidays[{i}]",
                f"{h} is before the campaign ({horizon_start}) or more than ten years after its deadline",
            )
    for i, d in enumerate(sc.deliveries):
        if d.date > sc.deadline:
            raise InputError(path, f"deliveries[{i}].date", f"{d.date} is after the deadline")


def load_scenario(path: str | Path) -> LoadedScenario:
    """Load and validate a scenario with its kecamatan and kelurahan files."""
    p = Path(path)
    text = read_text(p)
    sc = parse_scenario(p, text)
    for field_name in ("kecamatan", "kelurahan"):
        target = p.parent / getattr(sc, field_name)
        if not target.is_file():  # name the scenario line that points at it, not only the path
            raise InputError(p, field_name, f"{str(getattr(sc, field_name))!r} is not a file next to the scenario")
    admin = load_admin(p.parent / sc.kecamatan, p.parent / sc.kelurahan)
    _check_against_admin(p, sc, admin)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return LoadedScenario(path=p, scenario=sc, admin=admin, sha256=digest)
