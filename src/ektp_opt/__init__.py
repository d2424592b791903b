"""ektp-opt: plan citywide e-KTP enrolment campaigns with CP-SAT and prove how good the plan is.

The public API, one import away (loaded on first use, so ``import ektp_opt`` stays light)::

    from ektp_opt import load_scenario, plan_city, write_plan, verify_plan

    ls = load_scenario("data/medan/medan-10k.toml")   # or a shipped name via the CLI
    planned = plan_city(ls, options=SolveOptions(workers=1))
    write_plan(planned, "plans/10k")

See api.py for the calls and docs/SPEC.md for the contract they keep.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers see: the same names as below, with their real types
    from ektp_opt.analysis.capacity import diagnose, pool_sensitivity
    from ektp_opt.analysis.simulate import campaign_from_plan, simulate
    from ektp_opt.api import (
        PlannedCity,
        ReplannedCity,
        capacity,
        plan_city,
        replan_city,
        simulate_plan,
        tradeoff_city,
        write_diagnosis,
        write_plan,
        write_replan,
    )
    from ektp_opt.errors import (
        DelayCapError,
        EktpError,
        InfeasibleError,
        InputError,
        NoSolutionError,
        VerificationError,
    )
    from ektp_opt.inputs.population import load_population
    from ektp_opt.inputs.scenario import LoadedScenario, load_scenario
    from ektp_opt.plan.view import Plan
    from ektp_opt.problem import ProblemData, build_problem
    from ektp_opt.results import Diagnosis, PlanSummary, Proof
    from ektp_opt.solver import Result, SolveOptions, solve
    from ektp_opt.verify import verify_plan

    __version__: str

# Nothing is imported here at start-up (not even importlib.metadata for the version): the console
# script installs its signal handlers through this package, and a Ctrl-C must find them in place.

_EXPORTS = {
    # inputs
    "load_scenario": "ektp_opt.inputs.scenario",
    "LoadedScenario": "ektp_opt.inputs.scenario",
    "load_population": "ektp_opt.inputs.population",
    "build_problem": "ektp_opt.problem",
    "ProblemData": "ektp_opt.problem",
    # planning
    "SolveOptions": "ektp_opt.solver",
    "solve": "ektp_opt.solver",
    "Result": "ektp_opt.solver",
    "plan_city": "ektp_opt.api",
    "PlannedCity": "ektp_opt.api",
    "write_plan": "ektp_opt.api",
    "write_diagnosis": "ektp_opt.api",
    "replan_city": "ektp_opt.api",
    "ReplannedCity": "ektp_opt.api",
    "write_replan": "ektp_opt.api",
    "tradeoff_city": "ektp_opt.api",
    "simulate_plan": "ektp_opt.api",
    "capacity": "ektp_opt.api",
    "Plan": "ektp_opt.plan.view",
    # results
    "Diagnosis": "ektp_opt.results",
    "PlanSummary": "ektp_opt.results",
    "Proof": "ektp_opt.results",
    # checking and analysis
    "verify_plan": "ektp_opt.verify",
    "diagnose": "ektp_opt.analysis.capacity",
    "pool_sensitivity": "ektp_opt.analysis.capacity",
    "simulate": "ektp_opt.analysis.simulate",
    "campaign_from_plan": "ektp_opt.analysis.simulate",
    # errors
    "EktpError": "ektp_opt.errors",
    "InputError": "ektp_opt.errors",
    "InfeasibleError": "ektp_opt.errors",
    "NoSolutionError": "ektp_opt.errors",
    "DelayCapError": "ektp_opt.errors",
    "VerificationError": "ektp_opt.errors",
}

__all__ = [  # a literal list, so that type checkers see what the front door exports
    "DelayCapError",
    "Diagnosis",
    "EktpError",
    "InfeasibleError",
    "InputError",
    "LoadedScenario",
    "NoSolutionError",
    "Plan",
    "PlanSummary",
    "PlannedCity",
    "ProblemData",
    "Proof",
    "ReplannedCity",
    "Result",
    "SolveOptions",
    "VerificationError",
    "__version__",
    "build_problem",
    "campaign_from_plan",
    "capacity",
    "diagnose",
    "load_population",
    "load_scenario",
    "plan_city",
    "pool_sensitivity",
    "replan_city",
    "simulate",
    "simulate_plan",
    "solve",
    "tradeoff_city",
    "verify_plan",
    "write_diagnosis",
    "write_plan",
    "write_replan",
]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ektp-opt")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0.0.0+local"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        value = _version()
        globals()["__version__"] = value
        return value
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ektp_opt' has no attribute {name!r}")
