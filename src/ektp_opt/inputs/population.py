"""The households of a scenario, wherever they come from (a CSV file or a generator spec)."""

from __future__ import annotations

from ektp_opt.inputs.generate import generate_cached
from ektp_opt.inputs.households import Households, load_households_csv
from ektp_opt.inputs.scenario import GeneratorSpec, LoadedScenario


def load_population(ls: LoadedScenario, *, use_cache: bool = True) -> Households:
    spec = ls.scenario.households
    if isinstance(spec, GeneratorSpec):
        if use_cache:
            return generate_cached(spec, ls.admin)
        from ektp_opt.inputs.generate import generate_population

        return generate_population(spec, ls.admin)
    path = ls.households_path
    assert path is not None
    return load_households_csv(path, ls.admin)
