"""Constraints of the aggregate model, one function per hard rule (models/FORMULATION.md, §3).

Each is a relaxation of the KK-level rule it stands for: any KK-level plan that obeys SPEC.md's
hard rules induces an aggregate solution that obeys these. That is why the aggregate's proven
bounds are bounds on every real plan.
"""

from __future__ import annotations

import itertools

from ortools.sat.python import cp_model

from ektp_opt.problem import ProblemData
from ektp_opt.solver.variables import AggregateVariables, LinearLike

Split = list[list[cp_model.IntVar]]
Away = dict[tuple[int, int], cp_model.IntVar]


def add_pool_split(model: cp_model.CpModel, data: ProblemData, pool_split: Split) -> None:
    """Rule 6: a pool places no more devices than it delivered."""
    for p, batch in enumerate(data.pools):
        model.add(sum(pool_split[p]) <= batch.count).with_name(f"pool{p}_split")


def devices_on(data: ProblemData, pool_split: Split, k: int, d: int) -> LinearLike:
    """Devices in service at kecamatan k on day d (rule 3: only from ``available_from``)."""
    pooled = [pool_split[p][k] for p, b in enumerate(data.pools) if b.first_day <= d]
    return int(data.fixed_devices_at(k, d)) + sum(pooled)


def site_demand(data: ProblemData, away: Away) -> list[LinearLike]:
    """Residents each site must serve (rules 1 and 5): its own, less those sent away, plus those
    it receives from kelurahan within ``overflow_km``."""
    demand: list[LinearLike] = [int(r) for r in data.kecamatan_residents]
    for (kel, site), var in away.items():
        home = int(data.kelurahan_kecamatan[kel])
        demand[home] = demand[home] - var
        demand[site] = demand[site] + var
    return demand


def add_away_limits(model: cp_model.CpModel, data: ProblemData, away: Away) -> None:
    for kel, options in enumerate(data.sites):
        if len(options) > 1:
            moved = [away[(kel, site)] for site, _ in options[1:]]
            model.add(sum(moved) <= int(data.kelurahan_residents[kel])).with_name(
                f"away_le_pop_{data.kelurahan_codes[kel]}"
            )


def add_seat_capacity(model: cp_model.CpModel, data: ProblemData, v: AggregateVariables) -> None:
    """Rules 2, 3, 7: residents served at a site on a day fit in the regular (net) seats of the
    devices in service there; the operator limit is already in ``served``'s upper bound."""
    for k, code in enumerate(data.kecamatan_codes):
        per_device = int(data.seats[k] * data.shifts[k])
        for d, served in enumerate(v.served[k]):
            if isinstance(served, int):
                continue
            devices = devices_on(data, v.pool_split, k, d)
            model.add(served <= per_device * devices).with_name(f"seats_{code}_d{d}")


def add_demand(model: cp_model.CpModel, data: ProblemData, v: AggregateVariables) -> None:
    """Rule 1 in aggregate: every resident is served once, at home or at an allowed site."""
    demand = site_demand(data, v.away)
    for k, code in enumerate(data.kecamatan_codes):
        total = sum(x for x in v.served[k] if not isinstance(x, int))
        model.add(total == demand[k]).with_name(f"demand_{code}")
    add_away_limits(model, data, v.away)


def add_all(model: cp_model.CpModel, data: ProblemData, v: AggregateVariables) -> None:
    add_pool_split(model, data, v.pool_split)
    add_seat_capacity(model, data, v)
    add_demand(model, data, v)


def add_period_capacity(
    model: cp_model.CpModel, data: ProblemData, pool_split: Split, away: Away, horizon: int
) -> None:
    """The feasibility form used for level 1: between two device arrivals a site's daily seats are
    constant, so "enough seats in the first ``horizon`` days" needs one variable per (site,
    period), not per (site, day). Exactly equivalent to the day form for feasibility."""
    add_pool_split(model, data, pool_split)
    add_away_limits(model, data, away)
    breaks = data.capacity_breaks(horizon)
    demand = site_demand(data, away)
    for k, code in enumerate(data.kecamatan_codes):
        per_device = int(data.seats[k] * data.shifts[k])
        limit = int(data.slot_limit[k] * data.seats[k]) if data.slot_limit[k] >= 0 else -1
        seats: list[LinearLike] = []
        for a, b in itertools.pairwise(breaks):
            daily = per_device * devices_on(data, pool_split, k, a)
            if limit >= 0:
                capped = model.new_int_var(0, limit, f"daily_seats_{code}_p{a}")
                model.add(capped <= daily)
                daily = capped
            seats.append((b - a) * daily)
        model.add(sum(seats) >= demand[k]).with_name(f"enough_seats_{code}")
