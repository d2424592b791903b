"""The library's front door: one call per thing a planner does, used by the CLI and by any
program that plans without it.

    from ektp_opt import load_scenario, plan_city, write_plan

    ls = load_scenario("data/medan/medan-10k.toml")
    planned = plan_city(ls)                      # InfeasibleError(diagnosis) if the deadline is lost
    write_plan(planned, "plans/10k")             # verified against the contract, then written whole

Nothing here prints; progress goes to an optional ``Reporter``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ektp_opt.bench import MEDAN, METHODS, QUICK_SIZES, SIZES
from ektp_opt.errors import DelayCapError, InfeasibleError, InputError, VerificationError
from ektp_opt.inputs.households import Households, write_households_csv
from ektp_opt.inputs.population import load_population
from ektp_opt.inputs.scenario import GeneratorSpec, LoadedScenario, load_scenario
from ektp_opt.inputs.shipped import load_named_scenario, scenario_path
from ektp_opt.plan.files import DIAGNOSIS
from ektp_opt.plan.read import scenario_of
from ektp_opt.problem import ProblemData, build_problem
from ektp_opt.problem.figures import scenario_figures
from ektp_opt.progress import Reporter
from ektp_opt.results import CapDiagnosis, Diagnosis, HomeVisitSummary, PlanSummary, ResolveSummary, SimulationSummary
from ektp_opt.safety.atomic import atomic_folder
from ektp_opt.verify import Report, verify_plan

if TYPE_CHECKING:
    from ektp_opt.analysis.simulate import Campaign, SimulationResult
    from ektp_opt.campaign.field import FieldConditions
    from ektp_opt.campaign.replan import CampaignReplan
    from ektp_opt.national.run import NationalOptions
    from ektp_opt.national.scenario import LoadedNational
    from ektp_opt.national.verify import NationalReport
    from ektp_opt.plan.view import Plan
    from ektp_opt.report.invitations import Letter
    from ektp_opt.report.roster import RosterRow
    from ektp_opt.resolve import Replan
    from ektp_opt.resolve.output import move_stats, reinvite_rows
    from ektp_opt.resolve.tradeoff import Front
    from ektp_opt.results import NationalDiagnosis
    from ektp_opt.solver import Result, SolveOptions
    from ektp_opt.solver.objectives import UNITS
    from ektp_opt.solver.params import default_workers, load_preset
    from ektp_opt.solver.result import LevelResult

__all__ = [
    "MEDAN",
    "METHODS",
    "QUICK_SIZES",
    "SIZES",
    "UNITS",
    "GeneratorSpec",
    "Households",
    "LevelResult",
    "LoadedScenario",
    "PlanSummary",
    "PlannedCity",
    "ProblemData",
    "ReplannedCity",
    "Report",
    "Reporter",
    "Result",
    "SimulationSummary",
    "SolveOptions",
    "build_problem",
    "campaign_forecast",
    "campaign_levers",
    "campaign_record",
    "campaign_replan",
    "campaign_report",
    "campaign_start",
    "campaign_status",
    "campaign_upgrade",
    "capacity",
    "check_ray_address",
    "day_roster",
    "default_workers",
    "describe_store",
    "field_conditions",
    "generate_households",
    "invitation_letters",
    "letters_distribution_csv",
    "letters_pdf",
    "load_named_scenario",
    "load_national_scenario",
    "load_population",
    "load_preset",
    "load_scenario",
    "move_stats",
    "national_capacity",
    "national_options",
    "national_scenario_path",
    "plan_city",
    "plan_national",
    "read_plan_view",
    "recommend_backlog",
    "reinvite_rows",
    "replan_city",
    "report_html",
    "scaling_problems",
    "scenario_figures",
    "scenario_of",
    "scenario_path",
    "simulate_field",
    "simulate_plan",
    "study_scaling",
    "tradeoff_city",
    "verify_national_folder",
    "verify_plan",
    "write_diagnosis",
    "write_households_csv",
    "write_plan",
    "write_replan",
]

# Loaded on first use (PEP 562): OR-Tools (and the pandas it imports) takes half a second, which
# a command that never solves (``campaign status``, ``record``) should not pay.
_LAZY = {
    "LevelResult": "ektp_opt.solver.result",
    "Result": "ektp_opt.solver",
    "SolveOptions": "ektp_opt.solver.params",
    "UNITS": "ektp_opt.solver.objectives",
    "default_workers": "ektp_opt.solver.params",
    "load_preset": "ektp_opt.solver.params",
    "move_stats": "ektp_opt.resolve.output",
    "reinvite_rows": "ektp_opt.resolve.output",
    "solve": "ektp_opt.solver",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


LATE_SLACK = dt.timedelta(days=31)  # past the earliest date, so the KK packing may spill if it must


@dataclass(frozen=True)
class PlannedCity:
    """A solved scenario with the households it was solved for. ``write`` makes it a plan folder,
    which ``Plan.read`` reads back."""

    scenario: LoadedScenario
    households: Households
    result: Result

    def write(self, out: str | Path) -> PlanSummary:
        return write_plan(self, out)


def plan_city(
    ls: LoadedScenario,
    households: Households | None = None,
    options: SolveOptions | None = None,
    reporter: Reporter | None = None,
    allow_late: bool = False,
) -> PlannedCity:
    """Plan every KK of the scenario. When the deadline cannot be met: ``InfeasibleError`` carrying
    the diagnosis (SPEC.md), or with ``allow_late`` a plan past the deadline, marked late."""
    from ektp_opt.analysis.capacity import diagnose
    from ektp_opt.solver import SolveOptions, solve

    options = options or SolveOptions()
    reporter = reporter or Reporter()
    if households is None:
        with reporter.stage("load households"):
            households = load_population(ls)
    with reporter.stage("build"):
        data = build_problem(ls, households)
    try:
        return PlannedCity(ls, households, solve(data, households, options, reporter))
    except InfeasibleError as exc:
        with reporter.stage("diagnose"):
            diagnosis = diagnose(ls, households, options)
        earliest = diagnosis.earliest_completion.citywide
        if not allow_late or earliest is None:
            raise InfeasibleError(exc.message, _with_proof(diagnosis, exc)) from None
    data = build_problem(ls, households, extend_to=earliest + LATE_SLACK)
    return PlannedCity(ls, households, solve(data, households, options, reporter))


def _with_proof(diagnosis: Diagnosis, exc: InfeasibleError) -> Diagnosis:
    """The diagnosis with the proof the planner gave. Every "cannot" carries one; one without is a
    bug in ektp-opt (exit 1), never a heuristic's failure passed off as a proof."""
    if exc.proof is None:
        raise RuntimeError(f"infeasible without a proof: {exc.message}")
    return diagnosis.model_copy(update={"proof": exc.proof})


def write_plan(planned: PlannedCity, out: str | Path) -> PlanSummary:
    """Write the plan folder whole, after the independent verifier passed it (else
    ``VerificationError`` and nothing is written). Returns the summary written."""
    from ektp_opt.plan.write import write_plan_files

    with atomic_folder(Path(out)) as tmp:
        info = write_plan_files(tmp, planned.result, planned.scenario, planned.households)
        _verified(tmp, planned.scenario, planned.households, "the plan")
    return info


def _verified(folder: Path, ls: LoadedScenario, households: Households, what: str) -> None:
    """The independent verifier on a staged plan folder: any broken rule stops the write."""
    from ektp_opt.verify import verify_plan

    report = verify_plan(folder, ls, households)
    if not report.ok:
        names = ", ".join(v.rule for v in report.violations)
        raise VerificationError(f"{what} broke a hard rule ({names}); nothing was written")


def write_diagnosis(out: str | Path, diagnosis: Diagnosis | CapDiagnosis) -> Path:
    """The infeasible outcome of solve and resolve: a folder with diagnosis.json and nothing else."""
    from ektp_opt.plan.replan_files import write_diagnosis_file

    with atomic_folder(Path(out), kind="diagnosis") as tmp:
        write_diagnosis_file(tmp, diagnosis.to_json())
    return Path(out) / DIAGNOSIS


def capacity(
    ls: LoadedScenario,
    households: Households | None = None,
    options: SolveOptions | None = None,
    extra_on: dt.date | None = None,
    reporter: Reporter | None = None,
) -> Diagnosis:
    """When can the deliveries finish, how many more devices would meet the deadline, and the
    pool size against the completion date: the diagnosis with its pool sensitivity."""
    from ektp_opt.analysis.capacity import diagnose, pool_sensitivity
    from ektp_opt.solver import SolveOptions

    options = options or SolveOptions()
    reporter = reporter or Reporter()
    households = households if households is not None else load_population(ls)
    with reporter.stage("completion + extra"):
        diagnosis = diagnose(ls, households, options, extra_on=extra_on)
    with reporter.stage("pool sensitivity"):
        sensitivity = pool_sensitivity(ls, households, options, diagnosis)
    return diagnosis.model_copy(update={"pool_sensitivity": sensitivity})


@dataclass(frozen=True)
class ReplannedCity:
    """A re-plan with the plan in force it changes and the households: what ``write_replan`` needs."""

    scenario: LoadedScenario
    households: Households
    replan: Replan
    old_plan: Path
    notice_days: int


def _replan_inputs(
    old_plan: str | Path, ls: LoadedScenario, attendance: str | Path | None, reporter: Reporter
) -> tuple[Path, Households, dict[int, bool] | None]:
    """What every re-plan starts from: the plan in force (checked against its own scenario first),
    the households, and who attended (``--attendance``)."""
    from ektp_opt.resolve import check_old_plan, read_attendance

    old = Path(old_plan)
    with reporter.stage("check old plan"):
        check_old_plan(old)
    with reporter.stage("load households"):
        households = load_population(ls)
        seen = read_attendance(Path(attendance), households) if attendance else None
    return old, households, seen


def replan_city(
    old_plan: str | Path,
    ls: LoadedScenario,
    as_of: dt.date,
    notice_days: int = 3,
    attendance: str | Path | None = None,
    options: SolveOptions | None = None,
    reporter: Reporter | None = None,
    max_delay: int | None = None,
) -> ReplannedCity:
    """Plan again after a change, moving the fewest KK (SPEC.md, "Planning again"). The plan in
    force is checked first (a broken one is an InputError naming it); when the changed scenario
    cannot meet the deadline, ``InfeasibleError`` carries the diagnosis. With ``max_delay``, no
    moved KK is appointed more than that many working days after its old appointment; when no plan
    can keep it, ``DelayCapError`` carries a CapDiagnosis with the smallest cap that can."""
    from ektp_opt.analysis.capacity import diagnose
    from ektp_opt.resolve import resolve
    from ektp_opt.solver import SolveOptions

    options = options or SolveOptions()
    reporter = reporter or Reporter()
    old, households, seen = _replan_inputs(old_plan, ls, attendance, reporter)
    try:
        rp = resolve(old, ls, households, as_of, notice_days, seen, options, reporter, max_delay)
    except DelayCapError:
        raise
    except InfeasibleError as exc:
        with reporter.stage("diagnose"):
            diagnosis = diagnose(ls, households, options)
        message = exc.message
        if diagnosis.meets_deadline:  # the history binds, not the deliveries: say so
            message += (
                f"; planned afresh the changed scenario would finish on {diagnosis.earliest_completion.citywide}"
                " (`solve`), but not while keeping the appointments before as-of and in the notice window"
            )
        raise InfeasibleError(message, _with_proof(diagnosis, exc)) from None
    return ReplannedCity(ls, households, rp, old, notice_days)


def tradeoff_city(
    old_plan: str | Path,
    ls: LoadedScenario,
    as_of: dt.date,
    notice_days: int = 3,
    attendance: str | Path | None = None,
    options: SolveOptions | None = None,
    reporter: Reporter | None = None,
    caps: list[int] | None = None,
    jobs: int = 1,
) -> Front:
    """The Pareto front of (largest delay of a moved KK, KK moved) for a re-plan, each point
    with its proven bound (``resolve.tradeoff``); ``replan_city(max_delay=cap)`` then plans the
    point a planner picks. ``jobs``: processes planning the kecamatan models side by side (the
    front is the same for any number)."""
    from ektp_opt.resolve import prepare
    from ektp_opt.resolve.tradeoff import front
    from ektp_opt.solver import SolveOptions

    options = options or SolveOptions()
    reporter = reporter or Reporter()
    old, households, seen = _replan_inputs(old_plan, ls, attendance, reporter)
    prep = prepare(old, ls, households, as_of, notice_days, seen, options, reporter)
    return front(prep, caps, reporter, jobs)


def write_replan(
    replanned: ReplannedCity,
    out: str | Path,
    campaign: dict[str, Any] | None = None,
    scenario_files: dict[str, bytes] | None = None,
) -> PlanSummary:
    """Write the new plan folder (with changes.csv, reinvite.csv, backlog.csv, and
    home_visits.csv as re-planned) whole, after the verifier passed it. ``campaign``: the records
    and calibration a campaign re-plan was made from, kept in summary.json; ``scenario_files``: a
    scenario that lives nowhere else (a campaign's measured one), kept in the folder's
    ``scenario/`` and named by summary.json."""

    from ektp_opt.plan.write import write_plan_files, write_summary
    from ektp_opt.resolve import summary_extra
    from ektp_opt.resolve.output import write_replan_files

    r, ls, households = replanned, replanned.scenario, replanned.households
    with atomic_folder(Path(out)) as tmp:
        info = write_plan_files(tmp, r.replan.result, ls, households)
        update: dict[str, Any] = {
            "resolve": ResolveSummary.model_validate(summary_extra(r.replan, r.old_plan, r.notice_days)),
            "campaign": campaign,
        }
        if scenario_files:
            (tmp / "scenario").mkdir()
            for name, content in scenario_files.items():
                (tmp / "scenario" / name).write_bytes(content)
            update["scenario_file"] = str(Path(out).resolve() / "scenario" / ls.path.name)
        visits = r.replan.visits
        if visits is not None:
            unserved = sum(date is None for _kk, date, _dev, _o in visits.rows)
            update["home_visits"] = HomeVisitSummary(
                planned=True,
                flagged_kk=int(households.home_visit.sum()),
                visited_kk=len(visits.rows) - unserved,
                unserved_kk=unserved,
                mobile_device_days=len(visits.mobile_days),
                kept_from_old_plan=not visits.changes,
            )
        info = info.model_copy(update=update)
        write_summary(tmp, info)
        write_replan_files(tmp, r.replan, households)
        _verified(tmp, ls, households, "the new plan")
    return info


def simulate_plan(
    plan_dir: str | Path,
    ls: LoadedScenario,
    late_rates: Sequence[float],
    runs: int = 1000,
    seed: int = 0,
    mean_delay: float | None = None,
    idle_seats: bool = False,
    reporter: Reporter | None = None,
) -> tuple[Campaign, list[SimulationResult]]:
    """Late arrivals against a plan, one simulation per late rate (same runs and seed each)."""
    from ektp_opt.analysis.simulate import DEFAULT_MEAN_DELAY, campaign_from_plan, simulate

    reporter = reporter or Reporter()
    with reporter.stage("read plan"):
        campaign = campaign_from_plan(Path(plan_dir), ls, idle_seats)
    out = []
    for rate in late_rates:
        with reporter.stage(f"simulate p={rate:g}"):
            done = [0]

            def tick(n: int, done: list[int] = done) -> None:
                done[0] += n
                reporter.detail(f"{done[0]:,}/{runs:,} runs")

            out.append(simulate(campaign, rate, runs, seed, mean_delay or DEFAULT_MEAN_DELAY, tick))
    return campaign, out


# --- the campaign as it happens (issue #28) ----------------------------------------------------


def campaign_start(plan_dir: str | Path, db: str, scenario: str | Path | None = None, by: str | None = None) -> Any:
    """Start a campaign store at ``db`` from a verified plan (its first plan version)."""
    from ektp_opt.campaign.start import start_campaign
    from ektp_opt.inputs.scenario import load_scenario
    from ektp_opt.plan.read import scenario_of
    from ektp_opt.verify.stamp import require_verified

    plan = Path(plan_dir)
    ls = load_scenario(scenario_of(plan, Path(scenario) if scenario is not None else None))
    households = load_population(ls)
    require_verified(plan, ls, households)
    return start_campaign(plan, ls, households, db, by)


def campaign_record(
    files: Sequence[str | Path], db: str, as_of: dt.date | None = None, by: str | None = None
) -> list[Any]:
    """Record field files (enrolments, device_shifts, deliveries, invitations) in one transaction."""
    from ektp_opt.campaign.recording import record_files

    return record_files([Path(f) for f in files], db, as_of, by)


def campaign_upgrade(db: str) -> tuple[str, str]:
    """Bring a store made by an earlier version up to this one's schema (revision before, after)."""
    from ektp_opt.campaign.store import parse_url, upgrade

    return upgrade(parse_url(db))


def _campaign_on(db: str, as_of: dt.date | None) -> tuple[Any, LoadedScenario, Any]:
    """The store on a day: its snapshot, its scenario and what the records say (status)."""
    from ektp_opt.campaign.scenario import load_stored
    from ektp_opt.campaign.snapshot import read_snapshot
    from ektp_opt.campaign.status import campaign_status as status_of

    snap = read_snapshot(db, as_of or dt.date.today())
    ls = load_stored(snap.scenario_files)
    return snap, ls, status_of(snap, ls.scenario)


def campaign_status(db: str, as_of: dt.date | None = None) -> Any:
    """Enrolled against planned, the backlog and the measured field parameters on ``as_of``."""
    return _campaign_on(db, as_of)[2]


def simulate_field(
    plan_dir: str | Path,
    until: dt.date,
    conditions: Any,
    out: str | Path,
    scenario: str | Path | None = None,
    first: dt.date | None = None,
    db: str | None = None,
) -> Any:
    """Write the records a campaign run under ``conditions`` would produce (campaign/field.py)."""
    from ektp_opt.campaign.field import simulate_field as run_field
    from ektp_opt.inputs.scenario import load_scenario
    from ektp_opt.plan.read import scenario_of

    plan = Path(plan_dir)
    ls = load_scenario(scenario_of(plan, Path(scenario) if scenario is not None else None))
    done: dict[str, int] = {}
    if db is not None:
        from ektp_opt.campaign.snapshot import read_snapshot

        snap = read_snapshot(db, (first or ls.scenario.start) - dt.timedelta(days=1))
        done = {k: int(n) for k, n in zip(snap.kk.tolist(), snap.enrolled.tolist(), strict=True) if n}
    log = run_field(plan, ls, until, conditions, first, done)
    log.write(Path(out))
    return log


# --- the command line's one door (issue #27): every library name a command uses comes from here ---


def read_plan_view(plan_dir: str | Path, ls: LoadedScenario) -> Plan:
    """A plan folder, whole and made for this scenario (exit 3/5 otherwise), and keeping every hard
    rule as ``verify`` checks it: what report, invitations and roster read."""
    from ektp_opt.plan.view import load_plan_view
    from ektp_opt.verify.stamp import require_verified

    view = load_plan_view(Path(plan_dir), ls)
    require_verified(Path(plan_dir), ls)
    return view


def report_html(view: Plan, ls: LoadedScenario) -> str:
    """The plan for people, one self-contained HTML page."""
    from ektp_opt.report.html import render

    return render(view, ls)


def invitation_letters(
    plan_dir: str | Path, view: Plan, ls: LoadedScenario, kelurahan: str, changed_only: bool = False
) -> list[Letter]:
    """The letters of one kelurahan (its households checked against the plan first). With
    ``changed_only`` (a re-plan), only the KK whose appointment changed get one: those moved, at
    their new appointment, and those re-booked after a missed slot, at their backlog seat."""
    import dataclasses

    from ektp_opt.plan.files import BACKLOG, CHANGES
    from ektp_opt.plan.replan_files import read_backlog, read_changes
    from ektp_opt.plan.view import check_population
    from ektp_opt.report.invitations import letters
    from ektp_opt.report.roster import shift_times

    households = load_population(ls)
    check_population(Path(plan_dir), view, households)
    items = letters(view, ls, households, kelurahan)
    if not changed_only:
        return items
    if not (Path(plan_dir) / CHANGES).exists():
        raise InputError(Path(plan_dir), None, "--changed-only needs a re-plan (a folder with changes.csv)")
    changed = {c.kk_id for c in read_changes(Path(plan_dir) / CHANGES) if c.new_date is not None}
    rebooked = {b.kk_id: b for b in read_backlog(Path(plan_dir) / BACKLOG) if b.date is not None}
    names = {k.code: k.name for k in ls.admin.kecamatan}
    out = []
    for letter in items:
        if letter.kk_id not in changed:
            continue
        b = rebooked.get(letter.kk_id)
        if b is not None and b.date is not None and b.shift is not None:
            start, end = shift_times(ls, b.site_kecamatan)[b.shift - 1]
            office = f"Kantor Camat {names.get(b.site_kecamatan, b.site_kecamatan)}"
            letter = dataclasses.replace(letter, date=b.date, shift=b.shift, start=start, end=end, office=office)
        out.append(letter)
    return sorted(out, key=lambda x: (x.lingkungan, x.date, x.home_visit, x.shift, x.kk_id))


def letters_pdf(items: list[Letter], city: str) -> bytes:
    from ektp_opt.report.invitations import letters_pdf as pdf

    return pdf(items, city)


def letters_distribution_csv(items: list[Letter]) -> str:
    from ektp_opt.report.invitations import distribution_csv

    return distribution_csv(items)


def day_roster(view: Plan, ls: LoadedScenario, kecamatan: str, day: dt.date) -> list[RosterRow]:
    from ektp_opt.report.roster import roster

    return roster(view, ls, kecamatan, day)


def recommend_backlog(
    ls: LoadedScenario,
    options: SolveOptions,
    rate: float,
    runs: int,
    seed: int,
    target: float,
    mean_delay: float,
    catch_up: Sequence[int] | None,
    idle_seats: bool,
    detail: Any,
) -> tuple[Any, list[Any]]:
    """The smallest backlog reserve (per number of catch-up days) that reaches ``target``."""
    from ektp_opt.analysis.recommend import DEFAULT_CATCH_UP, recommend

    return recommend(ls, load_population(ls), options, rate, runs, seed, target, mean_delay,
                     list(catch_up or DEFAULT_CATCH_UP), idle_seats, detail)  # fmt: skip


def generate_households(spec: GeneratorSpec, ls: LoadedScenario) -> Households:
    from ektp_opt.inputs.generate import generate_population

    return generate_population(spec, ls.admin)


def load_national_scenario(path: str | Path) -> LoadedNational:
    """A national scenario file, or the name of one shipped with ektp-opt."""
    from ektp_opt.national.scenario import load_national, national_path

    return load_national(national_path(Path(path)))


def national_scenario_path(path: str | Path) -> Path:
    from ektp_opt.national.scenario import national_path

    return national_path(Path(path))


def check_ray_address(address: str | None) -> None:
    """A Ray cluster address that answers (exit 3 naming it otherwise); None: a local one."""
    from ektp_opt.national.session import check_address

    check_address(address)


def national_options(**fields: Any) -> NationalOptions:
    from ektp_opt.national.run import NationalOptions

    return NationalOptions(**fields)


def plan_national(ln: LoadedNational, out: str | Path, options: NationalOptions, **kwargs: Any) -> dict[str, Any]:
    """The national master, then every kab/kota on Ray (national/run.py)."""
    from ektp_opt.national.run import run_national

    return run_national(ln, Path(out), options, **kwargs)


def verify_national_folder(
    folder: str | Path, scenario: Path | None, address: str | None, cpus: int | None
) -> NationalReport:
    from ektp_opt.national.verify import verify_national

    return verify_national(Path(folder), scenario, address, cpus)


def national_capacity(ln: LoadedNational, time_limit: float) -> NationalDiagnosis:
    from ektp_opt.national.master import national_diagnosis

    return national_diagnosis(ln, time_limit)


def field_conditions(**fields: Any) -> FieldConditions:
    from ektp_opt.campaign.field import FieldConditions

    return FieldConditions(**fields)


def describe_store(db: str) -> str:
    """A store as messages name it (no user, no password)."""
    from ektp_opt.campaign.store import describe

    return describe(db)


def campaign_replan(
    db: str,
    as_of: dt.date,
    out: str | Path,
    confidence: float = 0.8,
    notice_days: int = 3,
    max_delay: int | None = None,
    options: SolveOptions | None = None,
    reporter: Reporter | None = None,
    by: str | None = None,
) -> CampaignReplan:
    """The next plan version from the records at the measured pace (campaign/replan.py)."""
    from ektp_opt.campaign.replan import replan_from_records

    return replan_from_records(db, as_of, Path(out), confidence, notice_days, max_delay, options, reporter, by)


def study_scaling(*args: Any, **kwargs: Any) -> dict[str, Any]:
    """The scaling study of ``ektp-opt bench`` (bench/__init__.py)."""
    from ektp_opt.bench import run_study

    return run_study(*args, **kwargs)


def scaling_problems(results: dict[str, Any]) -> list[str]:
    from ektp_opt.bench import check_results

    return check_results(results)


def campaign_forecast(db: str, as_of: dt.date | None = None, runs: int = 1000, seed: int = 0) -> tuple[Any, Any]:
    """(Forecast, Status) on ``as_of``: completion, share dates and P(on time) if the campaign goes
    on as the records say (campaign/forecast.py)."""
    from ektp_opt.campaign.forecast import forecast

    snap, ls, status = _campaign_on(db, as_of)
    return forecast(snap, status, ls, runs, seed), status


def campaign_levers(
    db: str, target_p: float, as_of: dt.date | None = None, runs: int = 1000, seed: int = 0, lead_days: int = 10
) -> tuple[Any, Any, dict[str, Any]]:
    """(Forecast, Status, levers): the forecast as ``campaign_forecast`` gives it, and what would lift
    P(on time) to ``target_p`` from ``lead_days`` after as-of: each lever alone and the cheapest mix
    (campaign/levers.py)."""
    from ektp_opt.campaign.forecast import prepare, simulate, summarise
    from ektp_opt.campaign.levers import what_puts_it_back

    snap, ls, status = _campaign_on(db, as_of)
    prep = prepare(snap, status, ls, runs, seed)
    base = simulate(prep)
    return summarise(prep, base), status, what_puts_it_back(prep, base, target_p, lead_days)


def campaign_report(
    db: str, out: str | Path, as_of: dt.date | None = None, runs: int = 1000, seed: int = 0
) -> tuple[Any, Any]:
    """The campaign on one self-contained HTML page at ``out`` (report/campaign.py): the same status
    and forecast as ``campaign_status`` and ``campaign_forecast`` with this seed; returns them."""
    from ektp_opt.campaign.forecast import forecast
    from ektp_opt.plotting.forecast import forecast_figure
    from ektp_opt.plotting.save import png_bytes
    from ektp_opt.report.campaign import figures, render
    from ektp_opt.safety.atomic import write_bytes_atomic

    snap, ls, status = _campaign_on(db, as_of)
    fc = forecast(snap, status, ls, runs, seed)
    past = [(dt.date.fromisoformat(r["date"]), r["enrolled_total"]) for r in status.by_date]
    extra = figures(snap)
    chart = png_bytes(
        forecast_figure(
            past, fc.days, fc.enrolled_quantiles, status.residents, fc.deadline, status.as_of.isoformat(),
            extra.planned,
        )
    )  # fmt: skip
    write_bytes_atomic(Path(out), render(status, fc, extra, ls, chart).encode("utf-8"))
    return fc, status
