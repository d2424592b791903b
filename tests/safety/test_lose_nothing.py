"""Lose nothing, part two (issue #25): a user's file inside a plan folder, a registry's households
file, pairs of outputs, and dates and paths no command may crash on."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.test_cli import run


@pytest.fixture
def plan(medan_10k_plan: Path, tmp_path: Path) -> Path:
    out = tmp_path / "plan"
    shutil.copytree(medan_10k_plan, out)
    return out


def _replan(plan: Path, out: Path) -> tuple[int, str, str]:
    return run("resolve", "--plan", str(plan), "--scenario", "medan-10k", "--as-of", "2011-08-25",
               "--out", str(out), "--workers", "1", "--quiet")  # fmt: skip


def test_a_users_file_in_a_plan_folder_survives_every_command(plan: Path, tmp_path: Path) -> None:
    notes = plan / "my-notes.txt"
    notes.write_text("the registry's notes\n")
    before = {p.name: p.read_bytes() for p in plan.iterdir()}
    for args in (
        ["solve", "medan-10k", "--out", str(plan), "--workers", "1", "--quiet"],
        ["capacity", "medan-10k"],
    ):
        code, _o, err = run(*args)
        if args[0] == "solve":
            assert code == 3 and "my-notes.txt" in err, err
    code, _o, err = _replan(plan, plan)
    assert code == 3 and "my-notes.txt" in err, err
    assert {p.name: p.read_bytes() for p in plan.iterdir()} == before


def test_an_edited_plan_file_makes_the_folder_the_users(plan: Path) -> None:
    with (plan / "appointments.csv").open("a") as fh:
        fh.write("\n")
    code, _o, err = run("solve", "medan-10k", "--out", str(plan), "--workers", "1", "--quiet")
    assert code == 3 and "appointments.csv (changed since ektp-opt wrote it)" in err, err


@pytest.mark.parametrize("marker", ["hello", "symlink", "other writer"])
def test_a_marker_ektp_opt_did_not_write_protects_nothing(tmp_path: Path, marker: str) -> None:
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "thesis.docx").write_bytes(b"PK\x03\x04 a thesis")
    if marker == "symlink":
        (tmp_path / "elsewhere").write_text("{}")
        (folder / ".ektp-opt").symlink_to(tmp_path / "elsewhere")
    else:
        text = "hello" if marker == "hello" else json.dumps({"written_by": "someone", "files": {}})
        (folder / ".ektp-opt").write_text(text)
    code, _o, err = run("solve", "medan-10k", "--out", str(folder), "--workers", "1", "--quiet")
    assert code == 3, err
    assert (folder / "thesis.docx").read_bytes() == b"PK\x03\x04 a thesis"


def test_out_dot_dot_from_inside_a_plan_folder_is_refused(plan: Path) -> None:
    here = os.getcwd()
    os.chdir(plan)
    try:
        code, _o, err = run("solve", "medan-10k", "--out", "..", "--workers", "1", "--quiet")
        code_here, _o, err_here = run("solve", "medan-10k", "--out", ".", "--workers", "1", "--quiet")
    finally:
        os.chdir(here)
    assert code == 3, err
    assert code_here == 3 and "current folder" in err_here, err_here
    assert plan.is_dir() and (plan / "appointments.csv").is_file()


def test_an_ektp_opt_plan_folder_is_replaced(plan: Path) -> None:
    code, _o, err = run("solve", "medan-10k", "--out", str(plan), "--workers", "1", "--quiet")
    assert code == 0, err
    listed = json.loads((plan / ".ektp-opt").read_text())["files"]
    assert sorted(listed) == sorted(p.name for p in plan.iterdir() if p.name != ".ektp-opt")


def test_a_registrys_households_file_with_the_same_header_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "households.csv"
    code, _o, err = run("generate", "medan-10k", "--out", str(target))
    assert code == 0, err
    real = target.read_text().splitlines()[0] + "\n1271011001000001,12.71.01.1001,4\n"  # same header, real rows
    target.write_text(real)
    code, _o, err = run("generate", "medan-10k", "--out", str(target))
    assert code == 3, err
    assert target.read_text() == real
    # ektp-opt's own file, unchanged, is replaced
    (tmp_path / "mine.csv").unlink(missing_ok=True)
    assert run("generate", "medan-10k", "--out", str(tmp_path / "mine.csv"))[0] == 0
    assert run("generate", "medan-10k", "--out", str(tmp_path / "mine.csv"))[0] == 0


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("date = 2011-08-15", "date = 1899-08-15", "deliveries[0].date: 1899-08-15 is not between 1900 and 2100"),
        ("date = 2011-08-15", "date = 0001-08-15", "deliveries[0].date: 0001-08-15 is not between 1900 and 2100"),
        ("start = 2011-08-18", "start = 20110818", "start: 20110818 is not a date written as YYYY-MM-DD"),
        ("seed = 7\nresidents = 300\nhouseholds = 100", 'file = ""', "households.file:"),
    ],
)
def test_inputs_name_the_real_field(tiny_city: Callable[..., Path], old: str, new: str, field: str) -> None:
    path = tiny_city()
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    for command in ("scenario", "capacity"):
        code, _o, err = run(command, str(path))
        assert code == 3 and field in err, err


def test_paths_too_long_are_input_errors(plan: Path, tmp_path: Path) -> None:
    long_name = "a" * 300
    deep = "/".join(["b" * 200] * 25)
    for args in (
        ["verify", str(tmp_path / long_name)],
        ["solve", "medan-10k", "--out", str(tmp_path / long_name), "--quiet"],
        ["solve", "medan-10k", "--out", str(tmp_path / deep), "--quiet"],
        ["report", str(plan), "--out", str(tmp_path / f"{long_name}.html")],
        ["simulate", str(plan), "--runs", "5", "--quiet", "--json", str(tmp_path / f"{long_name}.json")],
        ["scenario", str(tmp_path / f"{long_name}.toml")],
    ):
        code, _o, err = run(*args)
        assert code == 3 and "too long" in err, (args[0], err)


def test_a_huge_cell_is_an_input_error_naming_row_and_column(plan: Path) -> None:
    lines = (plan / "appointments.csv").read_text().split("\n")
    cells = lines[1].split(",")
    cells[0] = "A" * 2_000_000
    lines[1] = ",".join(cells)
    (plan / "appointments.csv").write_text("\n".join(lines))
    for args in (["verify", str(plan)], ["roster", str(plan), "--kecamatan", "12.71.01", "--date", "2011-08-22"]):
        code, _o, err = run(*args)
        assert code == 3 and "row 2, column kk_id" in err and "at most 10,000" in err, err


def test_a_chart_and_its_figures_are_committed_together(plan: Path, tmp_path: Path) -> None:
    """Both written, or (interrupted before the commit) neither: never a new JSON beside an old PNG."""
    from ektp_opt.safety import atomic, interrupt

    chart, figures = tmp_path / "b.png", tmp_path / "b.json"
    assert run("simulate", str(plan), "--runs", "5", "--quiet", "--json", str(figures), "--chart", str(chart))[0] == 0
    old = (chart.read_bytes(), figures.read_bytes())
    png = b"\x89PNG" + b"Software\x00ektp-opt" + b"new"
    with pytest.raises(interrupt.Interrupted), atomic.together():
        atomic.write_json_atomic(figures, {"new": 1})
        atomic.write_bytes_atomic(chart, png)
        interrupt._received.append(15)  # a signal lands after both are staged, before the commit
    interrupt._received.clear()
    assert (chart.read_bytes(), figures.read_bytes()) == old
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".b.")) == []
