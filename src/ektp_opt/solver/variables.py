"""Decision variables of the aggregate model (models/FORMULATION.md, section 2).

The aggregate counts residents, not KK: ``served[k][d]`` residents at site k on working day d.
That is what makes 2.1 M residents a model of a few thousand integers. Variables whose upper bound
is zero (no device there yet) are never created: they are the constant 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from ektp_opt.problem import ProblemData

LinearLike = cp_model.LinearExpr | cp_model.IntVar | int


@dataclass
class AggregateVariables:
    pool_split: list[list[cp_model.IntVar]]  # [pool][kecamatan]: devices sent there
    served: list[list[LinearLike]]  # [kecamatan][day]: residents served at that site
    away: dict[tuple[int, int], cp_model.IntVar]  # (kelurahan, site) -> residents, site != home
    served_ub: npt.NDArray[np.int64]  # [kecamatan, day] upper bound of served


def make_split_variables(
    model: cp_model.CpModel, data: ProblemData
) -> tuple[list[list[cp_model.IntVar]], dict[tuple[int, int], cp_model.IntVar]]:
    """The decisions shared by every form of the aggregate: the pool split and overflow."""
    pool_split = [
        [model.new_int_var(0, b.count, f"pool{p}_to_{code}") for code in data.kecamatan_codes]
        for p, b in enumerate(data.pools)
    ]
    away = {
        (kel, site): model.new_int_var(
            0, int(data.kelurahan_residents[kel]), f"away_{data.kelurahan_codes[kel]}_at_{site}"
        )
        for kel, options in enumerate(data.sites)
        for site, _km in options[1:]
    }
    return pool_split, away


def make_variables(model: cp_model.CpModel, data: ProblemData, horizon: int) -> AggregateVariables:
    """Variables for the first ``horizon`` working days only: level 1 is decided by asking
    whether a horizon is feasible, so later days simply do not exist in the model."""
    seat_ub = data.max_slots()[:, :horizon] * data.seats[:, None]
    kec_res = data.kecamatan_residents
    # A site can serve more than its own residents only when overflow brings others in.
    inflow = np.zeros(data.n_kec, dtype=np.int64)
    for kel, options in enumerate(data.sites):
        for site, _km in options[1:]:
            inflow[site] += data.kelurahan_residents[kel]
    seat_ub = np.minimum(seat_ub, (kec_res + inflow)[:, None])

    pool_split, away = make_split_variables(model, data)
    served: list[list[LinearLike]] = []
    for k, code in enumerate(data.kecamatan_codes):
        row: list[LinearLike] = []
        for d in range(horizon):
            ub = int(seat_ub[k, d])
            row.append(model.new_int_var(0, ub, f"served_{code}_d{d}") if ub > 0 else 0)
        served.append(row)
    return AggregateVariables(pool_split, served, away, seat_ub)
