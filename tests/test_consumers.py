"""Commands that read a plan refuse one that is not whole or not made for their scenario, and
what they write for people is safe CSV (issue 14, items 7-11)."""

from __future__ import annotations

import csv
import errno
import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from ektp_opt.cli.main import main
from ektp_opt.safety.csvwrite import csv_text
from tests.conftest import KELURAHAN, scenario_text

KECAMATAN_ODD = (
    "code,name,population_2013,lat,lon\n"
    '12.71.01,"Alpha, ""the first""\nwith a newline",100,3.50,98.60\n'
    "12.71.02,Đức Ёлка,80,3.52,98.61\n"
    "12.71.03,=HYPERLINK(1),60,3.80,98.90\n"
)


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def odd_plan(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "kecamatan.csv").write_text(KECAMATAN_ODD)
    (tmp_path / "kelurahan.csv").write_text(KELURAHAN)
    scenario = tmp_path / "odd.toml"
    scenario.write_text(scenario_text())
    plan = tmp_path / "plan"
    code, _o, err = run("solve", str(scenario), "--out", str(plan), "--workers", "1", "--quiet")
    assert code == 0, err
    return plan, scenario


def test_invitation_csv_keeps_odd_names_in_one_cell(odd_plan: tuple[Path, Path], tmp_path: Path) -> None:
    plan, _scenario = odd_plan
    out = tmp_path / "list.csv"
    code, _o, err = run("invitations", str(plan), "--kelurahan", "12.71.01.1001", "--format", "csv", "--out", str(out))
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out.read_text())))
    kk = sum(1 for line in (plan / "appointments.csv").read_text().splitlines() if ",12.71.01.1001," in line)
    assert len(rows) == kk + 1 and all(len(r) == len(rows[0]) for r in rows)
    assert all(r[-1].startswith("Kantor Camat Alpha") for r in rows[1:])


def test_letters_embed_a_font_for_non_latin_names(odd_plan: tuple[Path, Path], tmp_path: Path) -> None:
    from pypdf import PdfReader

    plan, _scenario = odd_plan
    out = tmp_path / "u.pdf"
    code, _o, err = run("invitations", str(plan), "--kelurahan", "12.71.02.1001", "--out", str(out))
    assert code == 0, err
    page = PdfReader(str(out)).pages[0]
    assert "Đức Ёлка" in page.extract_text()
    fonts = {str(f["/BaseFont"]) for f in page["/Resources"]["/Font"].values()}
    assert any("DejaVu" in f for f in fonts)


def test_formula_cells_are_neutralised() -> None:
    text = csv_text(("a", "b", "c"), [("=1+1", "+x", -5), ("@sum", "\tx", "ok")])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["'=1+1", "'+x", "-5"] and rows[2] == ["'@sum", "'\tx", "ok"]


def test_unsafe_ids_are_input_errors(tmp_path: Path, tiny_city: Callable[..., Path]) -> None:
    hh = tmp_path / "hh.csv"
    hh.write_text("kk_id,kelurahan_code,members\n-cmd,12.71.01.1001,2\n")
    s = tiny_city(households='[households]\nfile = "hh.csv"\n')
    code, _o, err = run("scenario", str(s))
    assert code == 3 and "row 2, column kk_id" in err


def test_verify_rejects_a_formula_device_id(odd_plan: tuple[Path, Path], tmp_path: Path) -> None:
    plan, _scenario = odd_plan
    bad = tmp_path / "bad"
    shutil.copytree(plan, bad)
    first = (bad / "devices.csv").read_text().splitlines()[1].split(",")[0]
    for name in ("devices.csv", "appointments.csv"):
        (bad / name).write_text((bad / name).read_text().replace(first, '"=HYPERLINK(""x"")"'))
    code, out, _err = run("verify", str(bad))
    assert code == 5 and "=HYPERLINK" not in out


def _damaged(plan: Path, tmp_path: Path, how: str) -> Path:
    bad = tmp_path / how
    shutil.copytree(plan, bad)
    appt = bad / "appointments.csv"
    lines = appt.read_text().splitlines()
    if how == "half":
        appt.write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    elif how == "shift9":
        cells = lines[1].split(",")
        cells[5] = "9"
        appt.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    elif how == "types":
        info = json.loads((bad / "summary.json").read_text())
        info["objectives"] = {"completion": "soon"}
        (bad / "summary.json").write_text(json.dumps(info))
    return bad


@pytest.mark.parametrize(("how", "want"), [("half", 5), ("shift9", 5), ("types", 3)])
def test_consumers_refuse_a_plan_that_is_not_whole(
    odd_plan: tuple[Path, Path], tmp_path: Path, how: str, want: int
) -> None:
    plan, _scenario = odd_plan
    bad = _damaged(plan, tmp_path, how)
    commands = [
        ["report", str(bad), "--out", str(tmp_path / "r.html")],
        ["invitations", str(bad), "--kelurahan", "12.71.01.1001", "--out", str(tmp_path / "u.pdf")],
        ["roster", str(bad), "--kecamatan", "12.71.01", "--date", "2011-08-22"],
        ["simulate", str(bad), "--runs", "10", "--quiet"],
    ]
    for args in commands:
        code, _o, err = run(*args)
        assert code == want, (args, err)
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "u.pdf").exists()


def test_a_plan_of_another_scenario_is_refused(odd_plan: tuple[Path, Path], tiny_city: Callable[..., Path]) -> None:
    plan, _scenario = odd_plan
    other = tiny_city("other.toml", backlog="[backlog]\nreserve_per_shift = 1\n")
    code, _o, err = run(
        "roster", str(plan), "--scenario", str(other), "--kecamatan", "12.71.01", "--date", "2011-08-22"
    )
    assert code == 3 and "another version" in err


def test_plan_path_that_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "plan"
    f.write_text("x")
    pdf, html = str(tmp_path / "u.pdf"), str(tmp_path / "r.html")
    for args in (["verify", str(f)], ["simulate", str(f)], ["report", str(f), "--out", html],
                 ["roster", str(f), "--kecamatan", "12.71.01", "--date", "2011-08-22"],
                 ["invitations", str(f), "--kelurahan", "12.71.01.1001", "--out", pdf]):  # fmt: skip
        code, _o, err = run(*args)
        assert code == 3 and "is a file" in err, (args, err)


def test_kelurahan_without_kk_is_an_input_error(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    hh = tmp_path / "hh.csv"
    rows = [f"K{i},12.71.0{1 + i % 3}.1001,{1 + i % 4}" for i in range(60)]  # nobody in the .1002 kelurahan
    hh.write_text("kk_id,kelurahan_code,members\n" + "\n".join(rows) + "\n")
    s = tiny_city(households='[households]\nfile = "hh.csv"\n')
    plan = tmp_path / "plan"
    assert run("solve", str(s), "--out", str(plan), "--workers", "1", "--quiet")[0] == 0
    out = tmp_path / "u.pdf"
    code, _o, err = run("invitations", str(plan), "--kelurahan", "12.71.01.1002", "--out", str(out))
    assert code == 3 and "no KK" in err and not out.exists()
    code, _o, err = run("invitations", str(plan), "--kelurahan", "12.71.99.1001", "--out", str(out))
    assert code == 3 and not out.exists()


def test_resolve_names_a_broken_input_plan(odd_plan: tuple[Path, Path], tmp_path: Path) -> None:
    plan, scenario = odd_plan
    for how in ("shift9",):
        bad = _damaged(plan, tmp_path, how)
        code, _o, err = run("resolve", "--plan", str(bad), "--scenario", str(scenario), "--as-of", "2011-08-22",
                            "--out", str(tmp_path / "new"), "--workers", "1", "--quiet")  # fmt: skip
        assert code == 3 and str(bad) in err, err
    zero = tmp_path / "zero"
    shutil.copytree(plan, zero)
    appt = zero / "appointments.csv"
    lines = appt.read_text().splitlines()
    cells = lines[1].split(",")
    cells[4] = "0000-01-01"
    appt.write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    code, _o, err = run("resolve", "--plan", str(zero), "--scenario", str(scenario), "--as-of", "2011-08-22",
                        "--out", str(tmp_path / "new"), "--workers", "1", "--quiet")  # fmt: skip
    assert code == 3 and "0000-01-01" in err, err


@pytest.mark.parametrize("err_no", [errno.ENOSPC, errno.EROFS])
def test_full_or_read_only_disk_is_an_input_error(
    odd_plan: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err_no: int
) -> None:
    import os

    plan, _scenario = odd_plan
    real = os.fdopen

    def failing(fd: int, *a: object, **k: object) -> object:
        os.close(fd)
        raise OSError(err_no, os.strerror(err_no))

    monkeypatch.setattr(os, "fdopen", failing)
    out = tmp_path / "r.html"
    code, _o, err = run("report", str(plan), "--out", str(out))
    monkeypatch.setattr(os, "fdopen", real)
    assert code == 3 and str(out) in err and "nothing was written" in err
    assert not out.exists() and not [p for p in tmp_path.iterdir() if ".ektp-tmp" in p.name]


def test_edited_population_cache_is_rebuilt(tiny_city: Callable[..., Path]) -> None:
    import numpy as np

    from ektp_opt.inputs.generate import cache_dir, generate_cached, spec_digest
    from ektp_opt.inputs.scenario import GeneratorSpec, load_scenario

    ls = load_scenario(tiny_city())
    spec = ls.scenario.households
    assert isinstance(spec, GeneratorSpec)
    first = generate_cached(spec, ls.admin)
    path = cache_dir() / f"population-{spec_digest(spec, ls.admin)[:24]}.npz"
    with np.load(path) as z:
        arrays = dict(z)
    arrays["members"] = arrays["members"] * 2  # someone edits the cache
    np.savez(path, **arrays)
    again = generate_cached(spec, ls.admin)
    assert np.array_equal(again.members, first.members)


def test_report_prints_mathtext_names_as_text(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    """A kecamatan called "$\\foo{$" broke matplotlib's mathtext (exit 1); names are plain text."""
    (tmp_path / "kecamatan.csv").write_text(
        "code,name,population_2013,lat,lon\n12.71.01,$\\foo{$,100,3.50,98.60\n"
        "12.71.02,Beta,80,3.52,98.61\n12.71.03,Gamma,60,3.80,98.90\n"
    )
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(scenario_text())
    (tmp_path / "kelurahan.csv").write_text(KELURAHAN)
    plan = tmp_path / "plan"
    assert run("solve", str(scenario), "--out", str(plan), "--workers", "1", "--quiet")[0] == 0
    code, _o, err = run("report", str(plan), "--out", str(tmp_path / "r.html"))
    assert code == 0, err
    assert "$\\foo{$" in (tmp_path / "r.html").read_text()
