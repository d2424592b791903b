"""Reading a plan folder back (SPEC.md, "Output: a plan folder"), strictly: a bad cell is an
InputError naming the file, the row and the column. Shared by verify, simulate, resolve and the
reports, so that every consumer agrees on what a plan folder says."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from ektp_opt.errors import InputError, invalid
from ektp_opt.inputs.csvread import date_column, factorize, int_column, iter_rows, parse_int, read_columns, read_text
from ektp_opt.plan.files import APPOINTMENT_COLUMNS, DEVICE_COLUMNS, HOME_VISIT_COLUMNS, SUMMARY
from ektp_opt.results import PlanSummary


@dataclass
class Coded:
    """A column with few distinct values: ``labels[codes]`` is the column, row by row."""

    labels: npt.NDArray[np.str_]
    codes: npt.NDArray[np.int64]

    @classmethod
    def of(cls, values: list[str]) -> Coded:
        return cls(*factorize(values))

    @property
    def values(self) -> npt.NDArray[np.str_]:
        return self.labels[self.codes]

    def lookup(self, table: dict[str, Any], default: Any, dtype: Any = None) -> npt.NDArray[Any]:
        """Each row's ``table.get(value, default)``, looked up once per distinct value."""
        per_label = np.array([table.get(v, default) for v in self.labels.tolist()], dtype=dtype)
        if not len(per_label):
            return np.zeros(0, dtype=dtype or per_label.dtype)
        return per_label[self.codes]


@dataclass
class Appointments:
    """appointments.csv by column. The kecamatan, kelurahan and device columns are kept coded
    (``coded``), for lookups once per distinct value; their row-by-row strings are built on first use."""

    kk_ids: list[str]
    coded: dict[str, Coded]  # "kelurahan", "home", "site", "device"
    date: npt.NDArray[np.datetime64]
    shift: npt.NDArray[np.int64]
    members: npt.NDArray[np.int64]

    @cached_property
    def kk_id(self) -> npt.NDArray[np.str_]:
        return np.array(self.kk_ids, dtype=str)

    @cached_property
    def kelurahan(self) -> npt.NDArray[np.str_]:
        return self.coded["kelurahan"].values

    @cached_property
    def home(self) -> npt.NDArray[np.str_]:
        return self.coded["home"].values

    @cached_property
    def site(self) -> npt.NDArray[np.str_]:
        return self.coded["site"].values

    @cached_property
    def device(self) -> npt.NDArray[np.str_]:
        return self.coded["device"].values


def check_plan_dir(plan_dir: Path) -> None:
    """A plan path that is missing or a file is an input error naming it (never a crash)."""
    if not plan_dir.exists():
        raise InputError(plan_dir, None, "plan folder not found")
    if not plan_dir.is_dir():
        raise InputError(plan_dir, None, "is a file, expected a plan folder")


def parse_date(path: Path, row: int, column: str, value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or not 1900 <= day.year <= 2200:
        raise InputError(path, f"row {row}, column {column}", f"{value!r} is not an ISO date (1900..2200)")
    return day


@dataclass(frozen=True)
class HomeVisit:
    """One line of home_visits.csv: a KK visited at home (``date`` None: no portable device reaches it)."""

    kk_id: str
    date: dt.date | None
    device_id: str
    kelurahan_code: str
    order: int | None  # place in the day's route, 1-based


def read_home_visits(path: Path) -> list[HomeVisit]:
    """home_visits.csv, strictly (a bad cell names file, row and column); [] when the plan has none."""
    if not path.exists():
        return []
    out = []
    for row_no, row in iter_rows(path, HOME_VISIT_COLUMNS):
        when = parse_date(path, row_no, "date", row["date"]) if row["date"] else None
        order = parse_int(path, row_no, "order", row["order"], 1, 10_000_000) if row["order"] else None
        out.append(HomeVisit(row["kk_id"], when, row["device_id"], row["kelurahan_code"], order))
    return out


def read_appointments(path: Path) -> Appointments:
    cols = read_columns(path, APPOINTMENT_COLUMNS)
    coded = {
        name: Coded.of(cols[column])
        for name, column in (
            ("kelurahan", "kelurahan_code"),
            ("home", "home_kecamatan"),
            ("site", "site_kecamatan"),
            ("device", "device_id"),
        )
    }
    return Appointments(
        kk_ids=cols["kk_id"],
        coded=coded,
        date=date_column(path, "date", cols["date"]),
        shift=int_column(path, "shift", cols["shift"], 0, 1000),
        members=int_column(path, "members", cols["members"], 0, 10_000),
    )


def read_devices(path: Path) -> list[tuple[str, str, dt.date, dt.date]]:
    rows = []
    for row_no, row in iter_rows(path, DEVICE_COLUMNS):
        rows.append(
            (
                row["device_id"],
                row["kecamatan"],
                parse_date(path, row_no, "delivery_date", row["delivery_date"]),
                parse_date(path, row_no, "available_from", row["available_from"]),
            )
        )
    return rows


def read_summary(path: Path) -> dict[str, Any]:
    text = read_text(path)
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise InputError(path, None, f"not valid JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise InputError(path, None, "expected a JSON object")
    return data


def read_plan_summary(path: Path) -> PlanSummary:
    """summary.json as its typed model; a missing or mistyped field is an InputError naming it."""
    raw = read_summary(path)
    try:
        return PlanSummary.model_validate(raw)
    except ValidationError as exc:
        raise invalid(path, exc) from None


def scenario_of(plan_dir: Path, scenario_path: Path | None) -> Path:
    """The scenario a plan was made for: the one given, else the one named in summary.json."""
    check_plan_dir(plan_dir)
    if scenario_path is not None:
        return scenario_path
    named = read_summary(plan_dir / SUMMARY).get("scenario_file")
    if not isinstance(named, str):
        raise InputError(plan_dir / SUMMARY, "scenario_file", "missing; pass --scenario")
    return Path(named)
