"""A household's rhythm and how surprising a silence is against it, over many households at once.

Signs of life closer together than a few minutes are merged into one *episode* (a shower sends a
water reading every minute; it is one use). Episodes are modelled as a non-homogeneous Poisson
process whose rate λ_b depends on the hour of the week b (0 = Monday 00:00-01:00 local).

Rates are posterior means under conjugate Gamma priors, shrunk in two levels (empirical Bayes;
Gelman et al., *Bayesian Data Analysis*, 3rd ed., §2.6 and §5.3):

    λ_day[h]  = (n_h + a_day · λ_pop[h]) / (e_h + a_day)        hour of day, pooled over weekdays
    λ[b]      = (n_b + a_week · λ_day[h(b)]) / (e_b + a_week)    hour of week

where n are (decayed) episode counts, e the (decayed) hours the elder was at home (outings,
announced absences and times we could not hear the home are not exposure), λ_pop the
population's hour-of-day rate and a_day, a_week prior strengths in days. Rates are therefore
rates *while at home*: a home whose elder is usually out at 10:00 is still expected to be busy
at 10:00 on a day she stayed in. A new household starts at λ = λ_pop and moves to its own rhythm
as days accrue.

Expected episodes during a silence from s to t (local hours) is Λ = ∫_s^t λ(u) du, computed from
the cumulative rate with linear interpolation inside each hour. Under the Poisson model the
silence has probability e^-Λ; real homes are burstier than Poisson, so the reported surprise is
the negative-binomial (Gamma-mixed Poisson) one, S = k · ln(1 + Λ/k), which is heavier-tailed
for small dispersion k. S is a monotone function of Λ, so alerting thresholds are calibrated
on Λ directly (see `detector.calibration`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from detector.localtime import HOURS_PER_WEEK

Floats = npt.NDArray[np.float64]
Counts = npt.NDArray[np.floating[Any]]

# Episodes per hour for an elder living alone, before any household has history of its own: a
# rough shape (quiet nights, a busy waking hour, steady days) replaced by the population's own
# rhythm once households have a few days of history.
DEFAULT_DAY_PRIOR = np.array(
    [0.12, 0.12, 0.12, 0.12, 0.12, 0.2, 0.8, 1.8, 1.6, 1.3, 1.2, 1.4,
     1.5, 1.1, 1.0, 1.1, 1.2, 1.6, 1.6, 1.3, 1.2, 1.0, 0.6, 0.25],
    dtype=np.float64,
)


def blur(rates: Floats, sigma_h: float) -> Floats:
    """Rates smoothed around the week with a Gaussian of `sigma_h` hours.

    A household does the same things at slightly different times each day; the rate at hour b
    is then the expected rate over that jitter, λ'(b) = Σ_j w_j λ(b - j), w ∝ exp(-j²/2σ²).
    This keeps a morning half an hour later than usual from looking like a sudden silence.
    """
    if sigma_h <= 0:
        return rates
    radius = max(1, int(3 * sigma_h + 0.5))
    offsets = np.arange(-radius, radius + 1)
    weights = np.exp(-(offsets**2) / (2 * sigma_h**2))
    weights /= weights.sum()
    out = np.zeros_like(rates)
    for offset, weight in zip(offsets, weights, strict=True):
        out += weight * np.roll(rates, int(offset), axis=1)
    return out


def shrunk_rates(
    counts: Counts, exposure: Counts, day_prior: Floats, *, day_strength: float,
    week_strength: float, jitter_h: float = 0.0,
) -> Floats:
    """Episodes per hour for each household (rows) and hour of the week (168 columns).

    `counts` is (N, 168) episodes seen per hour of week, `exposure` (N, 168) hours at home in
    each; both may be exponentially decayed. See the module docstring for the formula.
    """
    n = counts.shape[0]
    by_weekday = counts.reshape(n, 7, 24).astype(np.float64)
    hours = exposure.reshape(n, 7, 24).astype(np.float64)
    per_hour = (by_weekday.sum(axis=1) + day_strength * day_prior) / (
        hours.sum(axis=1) + day_strength
    )
    rates = (by_weekday + week_strength * per_hour[:, None, :]) / (hours + week_strength)
    return blur(rates.reshape(n, HOURS_PER_WEEK), jitter_h)


def cumulative(rates: Floats) -> Floats:
    """Expected episodes from Monday 00:00 to the start of each hour of the week, (N, 169)."""
    cum = np.zeros((rates.shape[0], HOURS_PER_WEEK + 1), dtype=np.float64)
    np.cumsum(rates, axis=1, out=cum[:, 1:])
    return cum


def _position(cum: npt.NDArray[np.generic], hours: Floats, scale: Floats | float) -> Floats:
    """Expected episodes from the epoch to `hours` (local), one value per row of `cum` (in units
    of `scale` episodes: a household table keeps it as uint16, `HouseholdTable.cum`)."""
    weeks = np.floor(hours / HOURS_PER_WEEK)
    within = hours - weeks * HOURS_PER_WEEK
    hour = np.minimum(within.astype(np.int64), HOURS_PER_WEEK - 1)
    lo = np.take_along_axis(cum, hour[:, None], axis=1)[:, 0].astype(np.float64)
    hi = np.take_along_axis(cum, hour[:, None] + 1, axis=1)[:, 0].astype(np.float64)
    position: Floats = (weeks * cum[:, -1].astype(np.float64) + lo + (hi - lo) * (within - hour)) * scale
    return position


def expected_signs(cum: npt.NDArray[np.generic], start_h: Floats, end_h: Floats,
                   scale: Floats | float = 1.0) -> Floats:
    """Λ: episodes each household would normally show between two local-hour positions.

    Λ = G(end) - G(start), with G the piecewise-linear cumulative rate (`cum` · `scale`);
    non-decreasing in `end_h` because every rate is non-negative.
    """
    return np.maximum(_position(cum, end_h, scale) - _position(cum, start_h, scale), 0.0)


def surprise(expected: Floats, dispersion: float) -> Floats:
    """S = k · ln(1 + Λ/k): -ln P(no episode) under a negative binomial with dispersion k.

    As k → ∞ this tends to the Poisson value Λ. Reference: Cameron & Trivedi, *Regression
    Analysis of Count Data*, 2nd ed., §4.2 (P(0) = (1 + μ/k)^-k).
    """
    return dispersion * np.log1p(np.asarray(expected, dtype=np.float64) / dispersion)


def expected_one(cum: npt.NDArray[np.generic], start_h: float, end_h: float,
                 scale: float = 1.0) -> float:
    """Λ for one household (one row of `cum`, in units of `scale`), without numpy's per-call
    overhead."""

    def position(hours: float) -> float:
        weeks = hours // HOURS_PER_WEEK
        within = hours - weeks * HOURS_PER_WEEK
        hour = min(int(within), HOURS_PER_WEEK - 1)
        lo, hi = float(cum[hour]), float(cum[hour + 1])
        return weeks * float(cum[HOURS_PER_WEEK]) + lo + (hi - lo) * (within - hour)

    return max(position(end_h) - position(start_h), 0.0) * scale
