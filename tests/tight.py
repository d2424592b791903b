"""The tight family of the differential test: cities where every "cannot" is close.

Each city (a seed): 3-4 kecamatan, 4 shifts a day (one kecamatan 5), Monday to Friday, a backlog
seat per shift, two setup days, operators that cap one kecamatan's device-shifts below what its
devices could run, sometimes overflow; a named wave that slips two weeks across a four-day
holiday block, and a pool that arrives after as-of. The deadline is set so that the changed
scenario, planned afresh, ends exactly on its last regular day.

For each city: the plan of the original scenario (made once more with every budget at its least,
which must still verify), then ``resolve`` onto the changed scenario with a notice window of 0
and of 3 working days. Every exit 4 must come with a proof in diagnosis.json and is checked
against the exact model with the past fixed (``oracle_replan``); exit 1 is a failure, and so is
an exit 6 (no plan and no proof). ``python -m tests.tight 500`` prints the tally.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from ektp_opt.analysis.capacity import diagnose
from ektp_opt.cli.main import main as cli
from ektp_opt.errors import InfeasibleError, InputError
from ektp_opt.inputs.calendar import nth_working_day_after, weekday_set
from ektp_opt.inputs.population import load_population
from ektp_opt.inputs.scenario import load_scenario
from ektp_opt.plan.write import write_plan_files
from ektp_opt.problem import build_problem
from ektp_opt.solver import SolveOptions, solve
from ektp_opt.verify import verify_plan
from tests.oracle_replan import replan_exists

START = dt.date(2011, 8, 15)  # a Monday


def _scenario(
    seed: int, deadline: dt.date, wave: dt.date, holidays: list[dt.date], pool: dt.date, rng: np.random.Generator
) -> str:
    n_kec = 3 + seed % 2
    capped = f"12.71.0{1 + seed % n_kec}"
    lines = [
        f'name = "tight-{seed}"',
        'city = "Tight"',
        f"start = {START}",
        f"deadline = {deadline}",
        "shifts_per_day = 4",
        f"overflow_km = {float(rng.choice([0.0, 0.0, 2.5]))}",
        'kecamatan = "kecamatan.csv"',
        'kelurahan = "kelurahan.csv"',
        "",
        "[shifts_override]",
        f'"12.71.0{n_kec}" = 5',
        "",
        "[calendar]",
        'workdays = ["mon", "tue", "wed", "thu", "fri"]',
        f"holidays = [{', '.join(str(h) for h in holidays)}]",
        "",
        "[device]",
        f"capacity_per_day = {int(rng.choice([100, 120]))}",
        "setup_days = 2",
        "",
        "[backlog]",
        "reserve_per_shift = 1",
        f"catch_up_days = {int(rng.integers(0, 2))}",
        "late_rate = 0.1",
        "",
        "[operators]",
        "per_kecamatan = 20",
        "shifts_per_operator = 4",
        "",
        "[operators.overrides]",
        f'"{capped}" = {int(rng.integers(1, 3))}',
        "",
        "[[deliveries]]",
        f"date = {START - dt.timedelta(days=3)}",
        "per_kecamatan = 1",
        "",
        "[[deliveries]]",
        f"date = {wave}",
        f'kecamatan = "{capped}"',
        f"count = {int(rng.integers(2, 4))}",
        "",
        "[[deliveries]]",
        f"date = {pool}",
        f"pool = {int(rng.integers(2, 5))}",
        "",
        "[households]",
        f"seed = {seed}",
        f"residents = {(residents := int(rng.integers(15_000, 26_000)))}",
        f"households = {residents * 10 // 32}",
    ]
    return "\n".join(lines) + "\n"


def city(seed: int, folder: Path) -> tuple[Path, Path, dt.date, dt.date] | None:
    """Write the city; return (original scenario, changed scenario, as-of, slipped wave date),
    or None when even the far deadline cannot be met (not a tight case)."""
    rng = np.random.default_rng(10_000 + seed)
    n_kec = 3 + seed % 2
    kec, kel = ["code,name,population_2013,lat,lon"], ["code,kecamatan_code,name,lat,lon"]
    for k in range(1, n_kec + 1):
        lat, lon = 3.50 + rng.uniform(0, 0.03), 98.60 + rng.uniform(0, 0.03)
        kec.append(f"12.71.0{k},K{k},100,{lat:.4f},{lon:.4f}")
        for j in range(1, int(rng.integers(1, 4)) + 1):
            kel.append(f"12.71.0{k}.100{j},12.71.0{k},L{k}{j},{lat + rng.uniform(-0.01, 0.01):.4f},"
                       f"{lon + rng.uniform(-0.01, 0.01):.4f}")  # fmt: skip
    (folder / "kecamatan.csv").write_text("\n".join(kec) + "\n")
    (folder / "kelurahan.csv").write_text("\n".join(kel) + "\n")
    wave = START + dt.timedelta(days=int(rng.integers(3, 9)))
    slipped = wave + dt.timedelta(days=14)
    block = wave + dt.timedelta(days=int(rng.integers(2, 8)))
    while block.weekday() > 0:  # a Monday-to-Thursday block inside the slip
        block += dt.timedelta(days=1)
    holidays = [block + dt.timedelta(days=i) for i in range(4)]
    as_of = START + dt.timedelta(days=int(rng.integers(2, (wave - START).days + 1)))
    pool = as_of + dt.timedelta(days=int(rng.integers(1, 8)))
    far = START + dt.timedelta(days=120)
    changed = folder / "changed.toml"
    changed.write_text(_scenario(seed, far, slipped, holidays, pool, np.random.default_rng(seed)))
    ls = load_scenario(changed)
    earliest = diagnose(ls, load_population(ls, use_cache=False), SolveOptions(workers=1)).earliest_completion
    if earliest.citywide is None:
        return None
    deadline = earliest.citywide
    catch_up = ls.scenario.backlog.catch_up_days
    if catch_up:
        deadline = nth_working_day_after(deadline, catch_up, weekday_set(ls.scenario.calendar.workdays), ls.holidays)
    changed.write_text(_scenario(seed, deadline, slipped, holidays, pool, np.random.default_rng(seed)))
    original = folder / "city.toml"
    original.write_text(_scenario(seed, deadline, wave, holidays, pool, np.random.default_rng(seed)))
    return original, changed, as_of, slipped


def check(seed: int, oracle_seconds: float = 60.0, keep: Path | None = None) -> str:
    """One tight city; returns its outcome. Raises AssertionError naming the seed on a failure.

    With ``keep``, the city is made in that folder and left there for a test to read: the plan
    in ``plan/``, each re-plan in ``new<notice>/`` and its stderr in ``resolve<notice>.err``."""
    with contextlib.nullcontext(str(keep)) if keep else tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        made = city(seed, folder)
        if made is None:
            return "skipped (never finishes)"
        original, changed, as_of, _slipped = made
        ls = load_scenario(original)
        h = load_population(ls, use_cache=False)
        try:
            data = build_problem(ls, h)
        except InputError as exc:
            assert "do not fit" in exc.message, exc.message
            return "refused (family too large)"
        try:
            result = solve(data, h, SolveOptions(time_limit=20, workers=1))
        except InfeasibleError:
            return "original infeasible"
        plan = folder / "plan"
        plan.mkdir()
        write_plan_files(plan, result, ls, h)
        assert verify_plan(plan, ls, h).ok, f"seed {seed}: the original plan breaks a rule"
        starved = solve(data, h, SolveOptions(time_limit=0.0, workers=1))  # every budget at its least
        low = folder / "starved"
        low.mkdir()
        write_plan_files(low, starved, ls, h)
        assert verify_plan(low, ls, h).ok, f"seed {seed}: the plan made with the least budgets breaks a rule"
        outcomes = []
        for notice in (0, 3):
            out = folder / f"new{notice}"
            args = ["resolve", "--plan", str(plan), "--scenario", str(changed), "--as-of", str(as_of),
                    "--notice-days", str(notice), "--out", str(out), "--workers", "1", "--quiet"]  # fmt: skip
            r = CliRunner().invoke(cli, args)
            (folder / f"resolve{notice}.err").write_text(r.stderr)
            if r.exit_code == 4:
                proof = json.loads((out / "diagnosis.json").read_text()).get("proof")
                assert proof and proof.get("model"), f"seed {seed}: exit 4 without a proof: {r.stderr}"
                truth = replan_exists(changed, plan, as_of, notice, oracle_seconds)
                assert truth != "FEASIBLE", f"seed {seed} notice {notice}: exit 4, the exact model has a plan"
                outcomes.append("proven" if truth == "INFEASIBLE" else "unchecked")
            else:
                assert r.exit_code == 0, f"seed {seed} notice {notice}: resolve exit {r.exit_code}: {r.stderr}"
                outcomes.append("planned")
        return "resolve " + "/".join(outcomes)


def main(n: int, first: int = 0) -> None:
    tally: Counter[str] = Counter()
    failures: list[str] = []
    start = time.perf_counter()
    for seed in range(first, first + n):
        try:
            tally[check(seed)] += 1
        except AssertionError as exc:
            tally["FAILED"] += 1
            failures.append(str(exc))
            print(exc, flush=True)
        if (seed - first + 1) % 25 == 0:
            print(f"{seed - first + 1} cities, {time.perf_counter() - start:.0f} s: {dict(tally)}", flush=True)
    print(json.dumps({"cities": n, "seconds": round(time.perf_counter() - start), "outcomes": dict(tally)}))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500, int(sys.argv[2]) if len(sys.argv) > 2 else 0)
