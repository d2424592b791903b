"""The forecast's fit (campaign/history.py) and status's cure model (campaign/status.py), each against
an oracle of its own: draws from a known law, counted here."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from ektp_opt.campaign import history
from ektp_opt.campaign.history import COME_BACK, NO_SHOW, PACE, RETURN_DAYS, History, _seat, fit, grid
from ektp_opt.campaign.status import cure_fit


@pytest.mark.parametrize(
    ("booked", "shifts", "miss", "capacity"), [(22, 1, 0.1, 5.0), (400, 50, 0.25, 5.2), (80, 20, 0.05, 3.0)]
)
def test_seating_in_closed_form_is_what_device_shifts_seat(
    booked: int, shifts: int, miss: float, capacity: float
) -> None:
    """E[min(families who come, capacity)] summed over the day's device-shifts, against a count of
    200,000 simulated days (binomial comers per device-shift, capacity 15 % spread and whole)."""
    rng = np.random.default_rng(7)
    days = 200_000
    assert booked % shifts == 0  # the same bookings on every device-shift of the day
    come = rng.binomial(booked // shifts, 1 - miss, (days, shifts))
    cap = rng.normal(capacity, 0.15 * capacity, (days, shifts)) + rng.uniform(-0.5, 0.5, (days, shifts))
    seated = np.minimum(come, np.maximum(cap, 0)).sum(axis=1).mean()
    spare = np.maximum(np.maximum(cap, 0) - come, 0).sum(axis=1).mean()
    seat, left = _seat(
        np.array([[float(booked)]]), np.array([[float(shifts)]]), np.array([[miss]]), np.array([[capacity]])
    )
    assert seat[0, 0] == pytest.approx(seated, rel=0.03)
    assert left[0, 0] == pytest.approx(spare, rel=0.08, abs=0.5)


def _replay_world(
    q: float,
    c: float,
    r: float,
    pace: float,
    rng: np.random.Generator,
    per_day: int = 30,
    slowed: tuple[int, float] | None = None,
) -> History:
    """A past drawn family by family from a known field (not from history.py's replay): 2 kecamatan,
    40 working days, 6 device-shifts a day each, families of 3, comers served first, then a queue.
    ``slowed``: (day, pace from that day on)."""
    n_k, n_t, shifts = 2, 40, 6
    booked = np.full((n_k, n_t), per_day)
    seated = np.zeros((n_k, n_t), dtype=np.int64)
    walk = np.zeros((n_k, n_t), dtype=np.int64)
    for k in range(n_k):
        arrivals = np.zeros(n_t + 200, dtype=np.int64)
        queue = 0
        for t in range(n_t):
            cap_fam = (slowed[1] if slowed and t >= slowed[0] else pace) / 5 / 3.0  # per device-shift, in families
            queue += arrivals[t]
            come = rng.binomial(per_day, 1 - q)
            missed = per_day - come
            back = rng.binomial(missed, c)
            for g in rng.geometric(1 / r, back):
                arrivals[t + g] += 1
            cap = int(
                sum(
                    np.floor(max(rng.normal(cap_fam * 3, 0.15 * cap_fam * 3), 0) / 3 + rng.random())
                    for _ in range(shifts)
                )
            )
            s = min(come, cap)
            w = min(queue, cap - s)
            queue += come - s - w
            seated[k, t], walk[k, t] = s, w
    days = [dt.date(2011, 9, 1) + dt.timedelta(days=i) for i in range(n_t)]
    return History(
        codes=["a", "b"],
        days=days,
        booked=booked,
        turned=np.zeros((n_k, n_t), dtype=np.int64),
        seated=seated,
        walk_ins=walk,
        up_shifts=np.full((n_k, n_t), shifts),
        owed=np.zeros(n_k, dtype=np.int64),
        size=np.full(n_k, 3.0),
    )


def test_the_fit_weighs_the_field_that_made_the_past() -> None:
    """A past drawn from a known field (pace 80 for 30 families of 3 a day on 6 device-shifts, some
    28 of them coming each day for about 32 seats): the fit's weight lies near the truth, not on the
    grid's far corners. The offices seldom fill, so the records bound the pace from below only: the
    fit must rule out a pace well below the truth and keep the truth inside its interval."""
    rng = np.random.default_rng(11)
    truth = {"q": 0.2, "c": 0.8, "r": 4.0, "pace": 80.0}
    past = _replay_world(truth["q"], truth["c"], truth["r"], truth["pace"], rng)
    measured_q = np.full(2, 0.25)  # what status would say: a little high (it counts families turned away)
    f = fit(past, measured_q, np.full(2, truth["pace"]), np.array([5, 5]))  # 5 shifts a device-day
    assert f.weight.sum() == pytest.approx(1.0)
    q = (f.weight * f.no_show * 0.25).sum()
    c = (f.weight * f.come_back).sum()
    assert abs(q - truth["q"]) < 0.05, q
    pace = f.summary(0.25)["pace_multiplier_fitted"]
    assert pace["low"] <= 1.0 <= pace["high"], pace
    assert f.weight[f.pace < 0.9].sum() < 0.1, f.weight[f.pace < 0.9].sum()
    assert c > 0.6, c  # the grid spans 0.5-1.0: the fit must not sit at its bottom
    assert len(grid()[0]) == len(NO_SHOW) * len(COME_BACK) * len(RETURN_DAYS) * len(PACE)


def test_a_slowdown_weeks_ago_is_not_averaged_away(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offices full every day (40 families booked for about 24 seats), their pace down from 60 to 45
    on day 28 of 40; status, over the whole past, would measure about 56. A fit with one long memory
    reads the average and all but rules out today's pace; with a short memory beside it (the
    development knob HALF_LIVES) today's pace gets a real share of the weight."""
    rng = np.random.default_rng(5)
    past = _replay_world(0.1, 0.9, 3.0, 60.0, rng, per_day=40, slowed=(28, 45.0))
    measured_pace = np.full(2, (60.0 * 28 + 45.0 * 12) / 40)

    def weight_at_todays_pace() -> float:
        f = fit(past, np.full(2, 0.1), measured_pace, np.array([5, 5]))
        return float(f.weight[f.pace * measured_pace[0] <= 45.0 * 1.07].sum())

    monkeypatch.setattr(history, "HALF_LIVES", (4.0, 20.0))
    two = weight_at_todays_pace()
    monkeypatch.setattr(history, "HALF_LIVES", (20.0,))
    long_only = weight_at_todays_pace()
    assert two > 0.3, two
    assert long_only < 0.1, long_only


def test_the_cure_model_separates_who_never_comes_from_who_comes_late() -> None:
    """Families who missed: 60 % come back after an exponential 6 days, 40 % never; each observed
    for a while (ages 1-60 days). The EM recovers both; a mean of the returns alone would not."""
    rng = np.random.default_rng(3)
    n = 20_000
    returner = rng.random(n) < 0.6
    delay = np.maximum(1, np.round(rng.exponential(6.0, n))).astype(np.int64)
    age = rng.integers(1, 61, n)
    came = returner & (delay <= age)
    share, mean = cure_fit(np.ones(n, dtype=bool), came, np.where(came, delay, 0), age)
    assert share == pytest.approx(0.6, abs=0.03)
    assert mean == pytest.approx(6.0, rel=0.1)
    naive = delay[came].mean()
    assert naive < mean  # the returns alone, read early, say "soon"
