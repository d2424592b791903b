"""What the records say about the field: each figure with a 90 % interval and the number of
observations behind it, citywide and per kecamatan (pooled towards the city where a kecamatan
has few observations).

- Shares (device-shifts down, no-shows, no-shows who came back) use the Wilson score interval.
  A kecamatan's share is pooled with the city's as ``PRIOR`` pseudo-observations at the city's
  share (the beta-binomial posterior mean with a prior worth ``PRIOR`` observations), so a
  kecamatan with 3 device-shifts does not claim 0 % or 100 %.
- Means (residents per up device-shift, working days until a no-show came back) use the normal
  interval of the mean; a kecamatan's mean is pooled with ``PRIOR_MEAN`` pseudo-observations at
  the city's mean.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

Z90 = 1.6448536269514722  # the 95th percentile of the standard normal: two-sided 90 %
PRIOR = 30.0
PRIOR_MEAN = 10.0
# Filled device-shifts that enrolled all their regular seats at least this often: the devices keep
# up, and the pace measured is the families' (already counted as no-shows), not the devices'.
DEVICES_KEEP_UP = 0.10


@dataclass(frozen=True)
class Estimate:
    estimate: float
    low: float
    high: float
    observations: int

    def json(self) -> dict[str, float | int | None]:
        """NaN (nothing observed) is written as null: JSON has no NaN."""
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else round(v, 4) if isinstance(v, float) else v)
            for k, v in asdict(self).items()
        }


def wilson(successes: float, n: float) -> Estimate:
    """A share and its 90 % Wilson score interval (0 observations: the whole of [0, 1])."""
    if n <= 0:
        return Estimate(math.nan, 0.0, 1.0, 0)
    p = successes / n
    z2 = Z90 * Z90
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z90 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return Estimate(p, max(0.0, centre - half), min(1.0, centre + half), round(n))


def pooled_share(successes: int, n: int, city: Estimate) -> Estimate:
    """A kecamatan's share pooled towards the city's (see the module docstring)."""
    if n <= 0 or math.isnan(city.estimate):
        return Estimate(city.estimate, city.low, city.high, 0) if n <= 0 else wilson(successes, n)
    est = wilson(successes + PRIOR * city.estimate, n + PRIOR)
    return Estimate(est.estimate, est.low, est.high, n)


def mean_interval(values: npt.NDArray[np.float64]) -> Estimate:
    n = len(values)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0)
    m = float(values.mean())
    sd = float(values.std(ddof=1)) if n > 1 else 0.0
    half = Z90 * sd / math.sqrt(n)
    return Estimate(m, m - half, m + half, n)


def pooled_mean(values: npt.NDArray[np.float64], city: Estimate, city_sd: float) -> Estimate:
    n = len(values)
    if n == 0:
        return Estimate(city.estimate, city.low, city.high, 0)
    if math.isnan(city.estimate):
        return mean_interval(values)
    m = (float(values.sum()) + PRIOR_MEAN * city.estimate) / (n + PRIOR_MEAN)
    sd = float(values.std(ddof=1)) if n > 1 else city_sd
    half = Z90 * sd / math.sqrt(n + PRIOR_MEAN)
    return Estimate(m, m - half, m + half, n)


def devices_keep_up(filled_shifts_served_whole: Estimate) -> bool:
    """Whether the devices keep up (``DEVICES_KEEP_UP``): the re-plan then keeps the nominal pace.
    (The forecast no longer asks: its fit starts from the measured pace, see forecast.measured.)"""
    est = filled_shifts_served_whole
    return bool(est.observations and est.estimate >= DEVICES_KEEP_UP)
