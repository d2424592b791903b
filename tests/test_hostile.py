"""Hostile input: fuzzed scenario files end in InputError, never a crash."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ektp_opt.errors import InputError, VerificationError
from ektp_opt.inputs.scenario import load_scenario

EXAMPLES = int(__import__("os").environ.get("EKTP_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _mutate(data: st.DataObject, raw: bytes) -> bytes:
    buf = bytearray(raw)
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(0, max(0, len(buf) - 1)))
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if op == "flip" and buf:
            buf[pos] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del buf[pos:]
        else:
            buf[pos:pos] = data.draw(st.sampled_from([b"-1", b"99999999999999999999", b"\xff", b'"', b"\n", b"x"]))
    return bytes(buf)


@FUZZ
@given(data=st.data())
def test_fuzzed_scenario(tiny_city: Callable[..., Path], data: st.DataObject) -> None:
    path = tiny_city()
    path.write_bytes(_mutate(data, path.read_bytes()))
    try:
        load_scenario(path)
    except InputError as exc:
        assert "\n" not in exc.message and str(path) in exc.message


_PLAN: dict[str, Path] = {}


def _tiny_plan() -> tuple[Path, Path]:
    """One real tiny plan per test session, built outside hypothesis' examples."""
    import tempfile

    from click.testing import CliRunner

    from ektp_opt.cli.main import main
    from tests.conftest import KECAMATAN, KELURAHAN, scenario_text

    if "plan" not in _PLAN:
        root = Path(tempfile.mkdtemp(prefix="ektp-fuzz-"))
        (root / "kecamatan.csv").write_text(KECAMATAN)
        (root / "kelurahan.csv").write_text(KELURAHAN)
        (root / "tiny.toml").write_text(scenario_text())
        r = CliRunner().invoke(
            main, ["solve", str(root / "tiny.toml"), "--out", str(root / "plan"), "--workers", "1", "--quiet"]
        )
        assert r.exit_code == 0, r.stderr
        _PLAN["plan"], _PLAN["scenario"] = root / "plan", root / "tiny.toml"
    return _PLAN["plan"], _PLAN["scenario"]


@settings(max_examples=int(__import__("os").environ.get("EKTP_FUZZ_EXAMPLES", "60")), deadline=None)
@given(data=st.data(), target=st.sampled_from(["appointments.csv", "devices.csv", "summary.json"]))
def test_fuzzed_plan_folder(data: st.DataObject, target: str) -> None:
    """A damaged plan folder is a verdict (rules broken) or an InputError naming the file; the
    readers behind simulate and the reports agree. Never a crash."""
    import shutil
    import tempfile

    from ektp_opt.inputs.population import load_population
    from ektp_opt.plan.view import load_plan_view
    from ektp_opt.verify import verify_plan

    plan, scenario = _tiny_plan()
    ls = load_scenario(scenario)
    households = load_population(ls)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "plan"
        shutil.copytree(plan, copy)
        (copy / target).write_bytes(_mutate(data, (copy / target).read_bytes()))
        for reader in (lambda: verify_plan(copy, ls, households), lambda: load_plan_view(copy, ls)):
            try:
                reader()
            except (InputError, VerificationError) as exc:  # a bad file (3) or a plan not whole (5)
                assert "\n" not in exc.message and str(copy) in exc.message  # names a file of the plan


# ---------------------------------------------------------------- issue 14: lose nothing, exit codes
def _cli(*args: str) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from ektp_opt.cli.main import main

    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


def test_markup_and_escapes_print_as_text(tmp_path: Path) -> None:
    from tests.conftest import KELURAHAN, scenario_text

    evil = "Amplas [/bold] broken [link=http://evil.example]click[/link] \x1b]8;;http://x\x07 \x1b[31m"
    (tmp_path / "kecamatan.csv").write_text(
        "code,name,population_2013,lat,lon\n"
        f'12.71.01,"{evil}",100,3.50,98.60\n12.71.02,Beta,80,3.52,98.61\n12.71.03,Gamma,60,3.80,98.90\n'
    )
    (tmp_path / "kelurahan.csv").write_text(KELURAHAN)
    scenario = tmp_path / "x[bold].toml"
    scenario.write_text(scenario_text())
    code, out, err = _cli("scenario", str(scenario))
    assert code == 0, err
    assert "[/bold]" in out and "[link=" in out and "Amplas" in out  # shown as typed, not as markup
    assert "\x1b" not in out and "\\x1b" in out  # escapes shown escaped, never sent to the terminal
    code, _out, err = _cli("verify", "[/]")
    assert code == 3 and "[/]" in err
    code, _out, err = _cli("scenario", str(tmp_path / "y[/b].toml"))
    assert code == 3 and "y[/b].toml" in err


@pytest.mark.parametrize(("args", "want"), [(["--sizes", "0"], 2), (["--sizes", "-5"], 2), (["--sizes", "abc"], 2),
                                            (["--methods", "nope"], 2), (["--time-limit", "nan"], 2)])  # fmt: skip
def test_bench_bad_options_are_usage_errors_and_write_nothing(tmp_path: Path, args: list[str], want: int) -> None:
    out = tmp_path / "scaling.json"
    out.write_text('{"generator": "ektp-opt 0.1.0", "kept": true}\n')
    code, _o, err = _cli("bench", *args, "--out", str(out), "--quiet")
    assert code == want, err
    assert out.read_text() == '{"generator": "ektp-opt 0.1.0", "kept": true}\n'
    assert not (tmp_path / "scaling.png").exists()


def test_bad_numbers_are_usage_errors(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    s = str(tiny_city())
    out = str(tmp_path / "p")
    for args in (["solve", s, "--out", out, "--time-limit", "nan"], ["solve", s, "--out", out, "--preset", "nope"],
                 ["solve", s, "--out", out, "--seed", "99999999999999"],
                 ["simulate", out, "--seed", "-1"]):  # fmt: skip
        code, _o, err = _cli(*args)
        assert code == 2, (args, err)
    assert not (tmp_path / "p").exists()


def test_specs_that_cannot_be_planned_are_input_errors(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    for head_extra in ("deadline = 9999-12-31", "start = 1011-08-18"):
        text = tiny_city().read_text()
        key = head_extra.split(" = ")[0]
        lines = [ln for ln in text.splitlines() if not ln.startswith(f"{key} =")]
        path = tmp_path / "big.toml"
        path.write_text(head_extra + "\n" + "\n".join(lines) + "\n")
        code, _o, err = _cli("solve", str(path), "--out", str(tmp_path / "p"), "--quiet")
        assert code == 3, err
        assert "function-after" not in err


def test_non_regular_input_files_are_refused(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    for path in ("/dev/zero", str(fifo)):
        code, _o, err = _cli("scenario", path)
        assert code == 3 and "not a regular file" in err


def test_a_kecamatan_no_delivery_reaches_gets_a_diagnosis(tiny_city: Callable[..., Path], tmp_path: Path) -> None:
    s = tiny_city(deliveries='[[deliveries]]\ndate = 2011-08-15\nkecamatan = "12.71.01"\ncount = 1\n')
    code, _o, err = _cli("solve", str(s), "--out", str(tmp_path / "p"), "--quiet")
    assert code == 4, err
    d = __import__("json").loads((tmp_path / "p" / "diagnosis.json").read_text())
    assert d["earliest_completion"]["citywide"] is None
    assert d["earliest_completion"]["never_served"] == ["12.71.02", "12.71.03"]
    code, out, err = _cli("capacity", str(s))
    assert code == 0, err  # the answer is the output
    assert "never" in out


_ARGS = st.sampled_from([
    [], ["--scenario", "{scenario}"], ["--seed", "-3"], ["--runs", "0"], ["--late-rate", "2"], ["--kelurahan", "x"],
])  # fmt: skip


@settings(max_examples=int(__import__("os").environ.get("EKTP_FUZZ_EXAMPLES", "60")), deadline=None)
@given(
    data=st.data(),
    target=st.sampled_from(["appointments.csv", "devices.csv", "summary.json", "scenario"]),
    command=st.sampled_from(["verify", "simulate", "report", "invitations", "roster", "scenario", "solve"]),
)
def test_fuzzed_commands_never_exit_1(data: st.DataObject, target: str, command: str) -> None:
    """Hostile inputs through the real commands: a damaged plan folder or scenario and odd
    options end in exit 0, 2, 3, 4 or 5, never 1 (a bug). `EKTP_FUZZ_EXAMPLES=1000` locally."""
    import shutil
    import tempfile

    plan, scenario = _tiny_plan()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("kecamatan.csv", "kelurahan.csv"):
            shutil.copy(scenario.parent / name, root / name)
        sc = root / "tiny.toml"
        shutil.copy(scenario, sc)
        copy = root / "plan"
        shutil.copytree(plan, copy)
        victim = sc if target == "scenario" else copy / target
        victim.write_bytes(_mutate(data, victim.read_bytes()))
        extra = [a.replace("{scenario}", str(sc)) for a in data.draw(_ARGS)]
        out = str(root / "out")
        args = {
            "verify": ["verify", str(copy), "--scenario", str(sc)],
            "simulate": ["simulate", str(copy), "--scenario", str(sc), "--runs", "20", "--quiet"],
            "report": ["report", str(copy), "--scenario", str(sc), "--out", out + ".html"],
            "invitations": ["invitations", str(copy), "--scenario", str(sc), "--kelurahan", "12.71.01.1001",
                            "--format", "csv", "--out", out + ".csv"],
            "roster": ["roster", str(copy), "--scenario", str(sc), "--kecamatan", "12.71.01", "--date", "2011-08-22"],
            "scenario": ["scenario", str(sc)],
            "solve": ["solve", str(sc), "--out", out, "--workers", "1", "--time-limit", "5", "--quiet"],
        }[command]  # fmt: skip
        code, _o, err = _cli(*args, *[a for a in extra if command in ("simulate", "invitations")])
        assert code != 1, (command, target, err)
        if code in (2, 3):
            assert err.strip() and "Traceback" not in err


NATIONAL_SMALL = Path(__file__).resolve().parents[1] / "src" / "ektp_opt" / "data" / "indonesia" / "national-small.toml"


@settings(max_examples=EXAMPLES, deadline=None)
@given(data=st.data())
def test_fuzzed_national_scenario(data: st.DataObject) -> None:
    """A damaged national scenario is an InputError naming the file, or every city scenario it
    makes is valid (a city refused inside a Ray worker was an unreadable exception)."""
    import tempfile

    from ektp_opt.national.cities import CITY_TOML, city_files, make_city
    from ektp_opt.national.scenario import load_national

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "nat.toml"
        path.write_bytes(_mutate(data, NATIONAL_SMALL.read_bytes()))
        try:
            ln = load_national(path)
        except InputError as exc:
            assert "\n" not in exc.message and str(path) in exc.message
            return
        city = make_city(ln, ln.kabkota[0].code)
        folder = Path(tmp) / "city"
        folder.mkdir()
        n_waves = len(ln.scenario.waves)
        for name, text in city_files(ln, city, {k: [1] * n_waves for k in city.kecamatan}).items():
            (folder / name).write_text(text)
        load_scenario(folder / CITY_TOML)


@FUZZ
@given(data=st.data())
def test_fuzzed_households_file(tiny_city: Callable[..., Path], data: st.DataObject) -> None:
    """A damaged households CSV: an InputError naming the file (one line), or a population."""
    from ektp_opt.inputs.population import load_population

    rows = ["kk_id,kelurahan_code,members,lingkungan,needs_home_visit"]
    rows += [f"K{i:04d},12.71.0{1 + i % 2}.100{1 + i % 2},{1 + i % 7},L{i % 3},{int(i % 11 == 0)}" for i in range(40)]
    path = tiny_city(households='[households]\nfile = "households.csv"\n')
    csv_path = path.parent / "households.csv"
    csv_path.write_bytes(_mutate(data, ("\n".join(rows) + "\n").encode()))
    try:
        load_population(load_scenario(path), use_cache=False)
    except InputError as exc:
        assert "\n" not in exc.message
