"""The scenario: one TOML file that says what must be planned (SPEC.md, "Input: a scenario")."""

from ektp_opt.inputs.scenario.load import LoadedScenario, load_scenario
from ektp_opt.inputs.scenario.model import (
    BacklogSpec,
    CalendarSpec,
    Delivery,
    DeviceSpec,
    GeneratorSpec,
    HomeVisitSpec,
    HouseholdsFile,
    OperatorsSpec,
    Scenario,
)

__all__ = [
    "BacklogSpec",
    "CalendarSpec",
    "Delivery",
    "DeviceSpec",
    "GeneratorSpec",
    "HomeVisitSpec",
    "HouseholdsFile",
    "LoadedScenario",
    "OperatorsSpec",
    "Scenario",
    "load_scenario",
]
