"""plan/ owns the re-plan's files both ways: what it writes it reads back to the same rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ektp_opt.errors import InputError
from ektp_opt.plan.replan_files import (
    BacklogRow,
    ChangeRow,
    ReinviteRow,
    read_backlog,
    read_changes,
    read_diagnosis,
    read_reinvite,
    write_diagnosis_file,
    write_replan_rows,
)


def test_rows_written_are_the_rows_read(tmp_path: Path) -> None:
    day = dt.date(2011, 9, 5)
    changes = [
        ChangeRow("K1", day, 2, "12.71.01-D001", day + dt.timedelta(days=3), 1, "12.71.01-D002", "=a formula? no"),
        ChangeRow("K2", None, None, "", day, None, None, "home visit"),
    ]
    backlog = [BacklogRow("K3", "12.71.01.1001", "12.71.01", day, None, None, None, 4)]
    reinvite = [ReinviteRow("12.71.01.1001", "2011-09-08", 1, 3)]
    write_replan_rows(tmp_path, changes, reinvite, backlog)
    assert read_changes(tmp_path / "changes.csv")[0][:7] == changes[0][:7]
    assert read_changes(tmp_path / "changes.csv")[0].reason == "'=a formula? no"  # safe for a spreadsheet
    assert read_changes(tmp_path / "changes.csv")[1] == changes[1]
    assert read_backlog(tmp_path / "backlog.csv") == backlog
    assert read_reinvite(tmp_path / "reinvite.csv") == reinvite
    assert read_changes(tmp_path / "none.csv") == []


def test_a_bad_cell_is_named(tmp_path: Path) -> None:
    (tmp_path / "changes.csv").write_text(
        "kk_id,old_date,old_shift,old_device,new_date,new_shift,new_device,reason\nK1,2011-13-01,1,D,,,,x\n"
    )
    with pytest.raises(InputError, match="row 2, column old_date"):
        read_changes(tmp_path / "changes.csv")


def test_diagnosis_both_ways(tmp_path: Path) -> None:
    write_diagnosis_file(tmp_path, {"proof": {"model": "seat arithmetic"}})
    assert read_diagnosis(tmp_path) == {"proof": {"model": "seat arithmetic"}}
    (tmp_path / "diagnosis.json").write_text("[1]")
    with pytest.raises(InputError, match="expected a JSON object"):
        read_diagnosis(tmp_path)
