"""A national run on Ray: the master plan in the driver, then one Ray task per kab/kota, each
an ordinary city plan through the library API (``plan_city`` then ``write_plan``).

Output folder (models/NATIONAL.md):

    OUT/.ektp-opt                     marker: an ektp-opt national folder
    OUT/master.json                   the split: devices per kecamatan and wave, levels 1-2
    OUT/scenarios/<kab/kota>/         city.toml, kecamatan.csv, kelurahan.csv
    OUT/plans/<kab/kota>/             a plan folder (``ektp-opt verify`` accepts it as it is)
    OUT/appointments/province=PP/kabkota=PP.KK/part-0.parquet   every appointment, for DuckDB/pandas
    OUT/national.json                 completion per kab/kota and nationally, devices, bounds

Lose nothing: each scenario folder and plan folder is written whole (``atomic_folder``) and each
Parquet file by rename, so an interrupted run leaves finished cities finished and no half city.
A re-run skips every city whose plan was made from the same city.toml (its sha256 is in the
plan's summary.json), so a resumed run plans only what is left.

Ray: ``ray.init()`` starts a local Ray by default, or joins ``address``. Each task declares
``num_cpus`` (CP-SAT's ``num_workers`` is taken from the CPUs Ray assigned it: Ray sets only
OMP_NUM_THREADS, which CP-SAT ignores), ``memory`` from the city's size, and ``max_retries`` so
a lost worker's city is planned again. A task needs only its city.toml path: it regenerates the
city's families from the 100-byte generator spec, faster than shipping millions of rows, so
nothing large crosses the object store but the small per-city results.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ektp_opt.errors import InfeasibleError, InputError
from ektp_opt.national.cities import CITY_TOML, City, city_files, make_city
from ektp_opt.national.master import MasterInput, MasterPlan, master_input, national_diagnosis, solve_master
from ektp_opt.national.scenario import LoadedNational
from ektp_opt.national.session import start_ray
from ektp_opt.plan.files import APPOINTMENTS as APPOINTMENTS_CSV
from ektp_opt.plan.files import SUMMARY
from ektp_opt.plan.read import read_summary
from ektp_opt.safety.atomic import (
    MARKER,
    atomic_folder,
    check_folder_target,
    foreign_entries,
    marker_text,
    read_marker,
    write_json_atomic,
)

MASTER = "master.json"
NATIONAL = "national.json"
DIAGNOSIS_JSON = "diagnosis.json"
SCENARIOS = "scenarios"
PLANS = "plans"
APPOINTMENTS = "appointments"
BYTES_PER_RESIDENT = 450  # peak memory of a city plan, measured on Medan (~740 MiB for 2.1 M)
BASE_MEMORY = 300 * 1024**2
# The solver preset of a city task (solver/presets.toml): the default without level-3 searches,
# which took most of a city's time and saved next to nothing (measured there).
CITY_PRESET = "national"

Progress = Callable[[int, int, int, int], None]  # cities done, cities, residents done, residents


@dataclass
class NationalOptions:
    address: str | None = None  # a Ray cluster started with ``ray start``; None: a local Ray
    cpus: int | None = None  # CPUs of the local Ray (default: all)
    cpus_per_city: int = 1  # one CP-SAT worker per city: the same plan on any cluster
    time_limit: float = 120.0  # per city
    master_time_limit: float = 120.0
    seed: int = 0
    max_retries: int = 3
    progress: Progress | None = None


@dataclass
class CityOutcome:
    code: str
    province: str
    residents: int
    status: str  # "planned", "skipped" (already planned from the same inputs), "infeasible", "failed"
    completion_date: str | None = None
    seconds: float = 0.0
    peak_mib: float = 0.0
    message: str = ""
    levels: dict[str, Any] = field(default_factory=dict)


def _text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_output(out: Path) -> None:
    """OUT must be new, empty or an earlier ektp-opt national folder holding only what ektp-opt
    wrote there (exit 3 naming the first foreign entry otherwise); checked before any work, and
    nothing is created until there is a plan to write."""
    check_folder_target(out)
    if not out.is_dir() or not (out / MARKER).exists():
        return
    record = read_marker(out)
    kind = record.get("kind") if record else "unknown"
    if kind == "diagnosis":
        return  # an earlier exit 4 of this command: check_folder_target found only its own files
    if kind != "national":
        raise InputError(out, None, f"is an ektp-opt {kind} folder, not a national one")
    foreign = _foreign_in_national(out)
    if foreign:
        where = ", ".join(foreign[:3])
        raise InputError(out, None, f"holds what ektp-opt did not write there: {where}; move it away, or another OUT")


def _foreign_in_national(out: Path) -> list[str]:
    """A national folder is written city by city (resumable), so it is checked by its layout:
    the JSON files carry ektp-opt's tag, every scenario and plan folder is an ektp-opt folder
    holding only its own files, every Parquet file is one ektp-opt wrote (its schema says so)."""
    import pyarrow.parquet as pq

    from ektp_opt.safety.atomic import GENERATOR, LEFTOVER

    found: list[str] = []
    for entry in sorted(out.iterdir()):
        name = entry.name
        if name == MARKER or LEFTOVER.match(name):
            continue
        if name in (MASTER, NATIONAL, DIAGNOSIS_JSON) and entry.is_file() and not entry.is_symlink():
            if b'"generator": "ektp-opt' not in entry.read_bytes()[:4096]:
                found.append(name)
        elif name in (SCENARIOS, PLANS) and entry.is_dir() and not entry.is_symlink():
            for folder in sorted(entry.iterdir()):
                if LEFTOVER.match(folder.name):
                    continue
                if folder.is_symlink() or not folder.is_dir():
                    found.append(f"{name}/{folder.name}")
                    continue
                record = read_marker(folder)
                extra = foreign_entries(folder, record) if record is not None else [MARKER]
                found += [f"{name}/{folder.name}/{x}" for x in extra]
        elif name == APPOINTMENTS and entry.is_dir() and not entry.is_symlink():
            for root, _dirs, files in os.walk(entry):
                for f in sorted(files):
                    path = Path(root) / f
                    rel = path.relative_to(out).as_posix()
                    if f.startswith(".") and f.endswith(".tmp"):
                        continue  # a killed run's half-written part: replaced by the next write
                    try:
                        meta = pq.read_schema(path).metadata or {}
                    except Exception:  # not Parquet at all
                        meta = {}
                    if path.is_symlink() or meta.get(b"generator", b"").decode(errors="replace") != GENERATOR:
                        found.append(rel)
        else:
            found.append(name)
    return found


def prepare_output(out: Path) -> None:
    check_output(out)
    record = read_marker(out) if out.is_dir() else None
    if record is not None and record.get("kind") == "diagnosis":
        shutil.rmtree(out)  # an earlier "cannot" of ektp-opt's own, unchanged: the plan replaces it
    if not (out / MARKER).is_file():
        out.mkdir(parents=True, exist_ok=True)
        (out / MARKER).write_text(marker_text("national"), encoding="utf-8")


def _write_scenario(folder: Path, files: dict[str, str]) -> None:
    """A city's inputs, written whole, and only when they changed (a resumed run keeps them)."""
    if all(
        (folder / name).is_file() and (folder / name).read_text(encoding="utf-8") == text
        for name, text in files.items()
    ):
        return
    with atomic_folder(folder, kind="scenario") as tmp:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")


def already_planned(plan_dir: Path, city_toml_text: str) -> dict[str, Any] | None:
    """The summary of a plan made from exactly this city.toml, else None."""
    summary = plan_dir / SUMMARY
    if not summary.is_file():
        return None
    try:
        info = read_summary(summary)
    except InputError:
        return None
    if info.get("inputs", {}).get("scenario_sha256") != _text_sha(city_toml_text):
        return None
    return info  # type: ignore[no-any-return]


def plan_one_city(
    scenario: str, plan_dir: str, parquet: str, workers: int, time_limit: float, seed: int
) -> dict[str, Any]:
    """One city, start to finish, in whatever process runs it (a Ray worker)."""
    import resource

    from ektp_opt.api import plan_city, write_plan
    from ektp_opt.errors import InfeasibleError
    from ektp_opt.inputs.population import load_population
    from ektp_opt.inputs.scenario import load_scenario
    from ektp_opt.solver import SolveOptions

    began = time.perf_counter()
    try:
        ls = load_scenario(scenario)
        households = load_population(ls, use_cache=False)  # 50 M KK would not fit a cache
        options = SolveOptions(time_limit=time_limit, workers=workers, seed=seed, preset=CITY_PRESET)
        planned = plan_city(ls, households, options)
    except InfeasibleError as exc:
        return {"status": "infeasible", "message": exc.message, "seconds": time.perf_counter() - began}
    except InputError as exc:  # the national scenario made a city scenario that is not valid
        return {"status": "refused", "message": exc.message, "seconds": time.perf_counter() - began}
    info = write_plan(planned, plan_dir)
    write_parquet(Path(plan_dir) / APPOINTMENTS_CSV, Path(parquet))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "status": "planned",
        "completion_date": info.completion_date.isoformat(),
        "levels": {k: v.model_dump(mode="json") for k, v in info.objectives.items()},
        "seconds": time.perf_counter() - began,
        "peak_mib": peak,
    }


def write_parquet(appointments_csv: Path, target: Path) -> None:
    """The city's appointments as one Parquet file, written beside and renamed into place."""
    import pyarrow.csv as pv
    import pyarrow.parquet as pq

    table = pv.read_csv(
        appointments_csv,
        convert_options=pv.ConvertOptions(
            column_types={
                "kk_id": "string",
                "kelurahan_code": "string",
                "home_kecamatan": "string",
                "site_kecamatan": "string",
                "device_id": "string",
            }
        ),
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    from ektp_opt.safety.atomic import GENERATOR

    # The schema says who wrote the file, so a later run knows it may replace it.
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"generator": GENERATOR.encode()})
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, target)


def city_split(mi: MasterInput, plan: MasterPlan, code: str) -> dict[str, list[int]]:
    return {k: plan.split[i].tolist() for i, k in enumerate(mi.kecamatan) if mi.city_of[i] == code}


def run_national(ln: LoadedNational, out: Path, options: NationalOptions | None = None) -> dict[str, Any]:
    """Plan the nation into ``out``; returns what national.json says."""
    options = options or NationalOptions()
    began = time.perf_counter()
    check_output(out)
    cities = [make_city(ln, k.code) for k in ln.kabkota]
    mi = master_input(ln, cities)
    try:
        plan = solve_master(mi, limit=options.master_time_limit)
    except InfeasibleError as exc:
        # As for a city: the proven earliest completion and the fewest extra devices, in diagnosis.json.
        d = national_diagnosis(ln, options.master_time_limit)
        e = d.earliest_completion
        when = f"{e.date} ({e.working_days} working days)" if e.date else "not within three years"
        extra = sum(x.devices for x in d.extra_devices)
        raise InfeasibleError(
            f"{exc.message}: the earliest national completion is {when}"
            + (f"; {extra:,} extra wave devices would meet it" if extra else ""),
            d,
            d.proof,
        ) from None
    prepare_output(out)
    master_seconds = time.perf_counter() - began
    write_json_atomic(out / MASTER, master_json(ln, mi, plan, master_seconds))
    jobs: list[tuple[City, Path, Path, Path]] = []
    outcomes: dict[str, CityOutcome] = {}
    for city in cities:
        files = city_files(ln, city, city_split(mi, plan, city.code))
        scenario_dir, plan_dir = out / SCENARIOS / city.code, out / PLANS / city.code
        parquet = out / APPOINTMENTS / f"province={city.province}" / f"kabkota={city.code}" / "part-0.parquet"
        _write_scenario(scenario_dir, files)
        done = already_planned(plan_dir, files[CITY_TOML])
        if done is not None and parquet.is_file():
            outcomes[city.code] = CityOutcome(
                city.code,
                city.province,
                city.spec.residents,
                "skipped",
                done.get("completion_date"),
                levels=done.get("objectives", {}),
            )
        else:
            jobs.append((city, scenario_dir / CITY_TOML, plan_dir, parquet))
    _run_on_ray(jobs, outcomes, options, sum(c.spec.residents for c in cities))
    summary = national_json(ln, mi, plan, outcomes, time.perf_counter() - began, master_seconds)
    write_json_atomic(out / NATIONAL, summary)
    return summary


def _run_on_ray(
    jobs: list[tuple[City, Path, Path, Path]],
    outcomes: dict[str, CityOutcome],
    options: NationalOptions,
    residents_total: int,
) -> None:
    import ray

    started_here = start_ray(options.address, options.cpus)
    remote = ray.remote(_ray_city)
    pending: dict[Any, City] = {}
    done_residents = sum(o.residents for o in outcomes.values())
    total = len(jobs) + len(outcomes)
    report = options.progress or (lambda *_a: None)
    report(len(outcomes), total, done_residents, residents_total)
    try:
        for city, scenario, plan_dir, parquet in sorted(jobs, key=lambda j: -j[0].spec.residents):  # big first
            ref = remote.options(
                num_cpus=options.cpus_per_city,
                memory=BASE_MEMORY + BYTES_PER_RESIDENT * city.spec.residents,
                max_retries=options.max_retries,
                retry_exceptions=False,
            ).remote(str(scenario), str(plan_dir), str(parquet), options.time_limit, options.seed)
            pending[ref] = city
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for ref in ready:
                city = pending.pop(ref)
                try:
                    got = ray.get(ref)
                except Exception as exc:  # a city that failed after its retries is reported, not fatal
                    got = {"status": "failed", "message": f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"}
                outcomes[city.code] = CityOutcome(
                    city.code,
                    city.province,
                    city.spec.residents,
                    got["status"],
                    got.get("completion_date"),
                    got.get("seconds", 0.0),
                    got.get("peak_mib", 0.0),
                    got.get("message", ""),
                    got.get("levels", {}),
                )
                done_residents += city.spec.residents
                report(len(outcomes), total, done_residents, residents_total)
    except BaseException:
        # A local cluster is torn down with its workers by ray.shutdown() below. Force-cancelling
        # first raced with task replies in flight: Ray 2.60 aborted the driver ("Tried to complete
        # task that was not pending", exit 1 instead of 130; seen once in CI). On a shared cluster
        # the tasks are asked to stop, without force.
        if not started_here:
            for ref in pending:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=False)
        raise
    finally:
        if started_here:
            ray.shutdown()


def _ray_city(scenario: str, plan_dir: str, parquet: str, time_limit: float, seed: int) -> dict[str, Any]:
    import ray

    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1.0)
    return plan_one_city(scenario, plan_dir, parquet, max(1, int(cpus)), time_limit, seed)


def master_json(ln: LoadedNational, mi: MasterInput, plan: MasterPlan, seconds: float) -> dict[str, Any]:
    sc = ln.scenario
    return {
        "scenario": sc.name,
        "scenario_file": str(ln.path.resolve()),
        "scenario_sha256": ln.sha256,
        "completion_date": plan.completion_date(mi).isoformat(),
        "levels": {lv.name: lv.as_dict() for lv in (plan.completion, plan.waiting)},
        "seconds": round(seconds, 3),
        "waves": [
            {"date": w.date.isoformat(), "count": w.count, "placed": int(plan.split[:, i].sum())}
            for i, w in enumerate(sc.waves)
        ],
        "allotment_per_kecamatan": sc.allotment.per_kecamatan,
        "kecamatan": {
            code: {
                "kabkota": mi.city_of[i],
                "residents": int(mi.residents[i]),
                "waves": plan.split[i].tolist(),
                "waiting": int(plan.waiting_per_kecamatan[i]),
            }
            for i, code in enumerate(mi.kecamatan)
        },
    }


def national_json(
    ln: LoadedNational,
    mi: MasterInput,
    plan: MasterPlan,
    outcomes: dict[str, CityOutcome],
    seconds: float,
    master_seconds: float,
) -> dict[str, Any]:
    per_city: dict[str, Any] = {}
    for code in sorted(outcomes):
        o = outcomes[code]
        rows = [i for i, c in enumerate(mi.city_of) if c == code]
        per_city[code] = {
            "province": o.province,
            "residents": o.residents,
            "status": o.status,
            "completion_date": o.completion_date,
            "devices_per_wave": plan.split[rows].sum(axis=0).tolist(),
            "allotment": ln.scenario.allotment.per_kecamatan * len(rows),
            "master_waiting": int(plan.waiting_per_kecamatan[rows].sum()),
            "levels": o.levels,
            "seconds": round(o.seconds, 3),
            "peak_mib": round(o.peak_mib, 1),
            **({"message": o.message} if o.message else {}),
        }
    dates = [o.completion_date for o in outcomes.values() if o.completion_date]
    planned = [o for o in outcomes.values() if o.status in ("planned", "skipped")]
    return {
        "scenario": ln.scenario.name,
        "scenario_sha256": ln.sha256,
        "kabkota": len(outcomes),
        "kabkota_planned": len(planned),
        "residents": int(mi.residents.sum()),
        "national_completion_date": max(dates) if dates and len(planned) == len(outcomes) else None,
        "master": {
            "completion_date": plan.completion_date(mi).isoformat(),
            "levels": {lv.name: lv.as_dict() for lv in (plan.completion, plan.waiting)},
            "proven": "levels 1-2 nationally by the master (with bounds); levels 3-4 per city (its summary.json)",
            "seconds": round(master_seconds, 3),
        },
        "city_waiting_sum": sum(int(o.levels.get("waiting", {}).get("value", 0)) for o in planned),
        "seconds": round(seconds, 3),
        "cities": per_city,
    }
