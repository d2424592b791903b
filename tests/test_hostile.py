"""Hostile input: fuzzed scenario files end in InputError, never a crash."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ektp_opt.errors import InputError
from ektp_opt.scenario import load_scenario

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


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

    from ektp_opt.cli import main
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

    from ektp_opt.planview import load_plan_view
    from ektp_opt.population import load_population
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
            except InputError as exc:
                assert "\n" not in exc.message and str(copy) in exc.message  # names a file of the plan
