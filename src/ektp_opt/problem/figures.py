"""What a scenario amounts to before any planning: deliveries in device-days, residents per
kecamatan, and the simple seat bound (every seat of every device to the last regular day). The
`scenario` command prints these; the arithmetic lives here, beside ``ProblemData``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ektp_opt.inputs.households import Households
from ektp_opt.problem import ProblemData


@dataclass(frozen=True)
class DeliveryFigures:
    delivered: dt.date
    serves_from: dt.date
    devices: int
    where: str  # a kecamatan code, or "pool (optimiser splits)"
    device_days: int  # to the last regular day


@dataclass(frozen=True)
class KecamatanFigures:
    code: str
    kelurahan: int
    kk: int
    residents: int


@dataclass(frozen=True)
class ScenarioFigures:
    seats_per_device_shift: tuple[int, ...]
    deliveries: tuple[DeliveryFigures, ...]
    kecamatan: tuple[KecamatanFigures, ...]
    seats_named: int  # regular seats of named deliveries to the last regular day
    seats_pools: int
    residents: int

    @property
    def enough_seats(self) -> bool:
        return self.seats_named + self.seats_pools >= self.residents

    @property
    def seats_per_resident(self) -> float:
        return (self.seats_named + self.seats_pools) / self.residents if self.residents else float("inf")


def scenario_figures(data: ProblemData, h: Households) -> ScenarioFigures:
    deliveries = tuple(
        DeliveryFigures(
            b.delivery,
            b.available_from,
            b.count,
            "pool (optimiser splits)" if b.kecamatan is None else data.kecamatan_codes[b.kecamatan],
            b.count * max(0, data.regular_days - b.first_day),
        )
        for b in sorted(data.batches, key=lambda b: (b.delivery, b.kecamatan is None))
    )
    kk_kec = data.kelurahan_kecamatan[h.kelurahan]
    kk = np.bincount(kk_kec, minlength=data.n_kec)
    res = np.bincount(kk_kec, weights=h.members, minlength=data.n_kec).astype(np.int64)
    nkel = np.bincount(data.kelurahan_kecamatan, minlength=data.n_kec)
    kecamatan = tuple(
        KecamatanFigures(code, int(nkel[k]), int(kk[k]), int(res[k])) for k, code in enumerate(data.kecamatan_codes)
    )
    fixed_per_day, pooled_per_day = data.best_case_seats()
    return ScenarioFigures(
        seats_per_device_shift=tuple(sorted({int(s) for s in data.seats})),
        deliveries=deliveries,
        kecamatan=kecamatan,
        seats_named=int(fixed_per_day[: data.regular_days].sum()),
        seats_pools=int(pooled_per_day[: data.regular_days].sum()),
        residents=h.residents,
    )
