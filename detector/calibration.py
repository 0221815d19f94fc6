"""Turning a target rate of false alerts into a threshold per household, from its own history.

For each household we keep, per day, the largest normal silence it showed (in expected episodes
Λ for silences at home; in hours for outings). An alert threshold θ is crossed on a normal day
exactly when that day's maximum exceeds θ, so the false-alert rate per day is P(M > θ).

Daily maxima are modelled with a Gumbel distribution (the extreme-value limit for maxima of
light-tailed variables; Coles, *An Introduction to Statistical Modeling of Extreme Values*,
2001, §3.1), fitted by L-moments, which are robust for the short samples we have (Hosking,
"L-moments", J. R. Stat. Soc. B 52, 1990):

    l1 = mean(x),  l2 = 2·b1 - b0,  b1 = (1/n) Σ_j (j / (n-1)) x_(j)  (x ascending, j from 0)
    β = l2 / ln 2,  μ = l1 - γ·β                                      (γ = Euler's constant)

and θ is the quantile exceeded with probability p per day:  θ = μ - β · ln(-ln(1 - p)).

Real homes have heavier tails than a Gumbel fitted to a few weeks admits, so θ_own is never
below the largest maximum seen: if days are exchangeable, a new day exceeds the largest of the
last n with probability 1/(n+1) (a rank argument, as in conformal prediction), which for four
weeks of history is about one day a month already.

With n days of history the fitted θ_own is shrunk towards the population's θ_pop:
θ = (n·θ_own + κ·θ_pop)/(n + κ), then held between an absolute floor and ceiling.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

EULER_GAMMA = 0.5772156649015329
DAYS_PER_MONTH = 30.44
MIN_DAYS_TO_FIT = 3


def gumbel_fit(maxima: npt.ArrayLike) -> tuple[float, float]:
    """(μ, β) of a Gumbel distribution fitted to `maxima` by L-moments."""
    x = np.sort(np.asarray(maxima, dtype=np.float64))
    n = x.size
    if n < 2:
        raise ValueError("a Gumbel fit needs at least two maxima")
    b0 = float(x.mean())
    b1 = float(np.sum(np.arange(n) / (n - 1) * x) / n)
    beta = max((2 * b1 - b0) / math.log(2), 1e-9)
    return b0 - EULER_GAMMA * beta, beta


def gumbel_quantile(mu: float, beta: float, p_exceed: float) -> float:
    """The value a Gumbel(μ, β) variable exceeds with probability `p_exceed`."""
    p = min(max(p_exceed, 1e-12), 1 - 1e-12)
    return mu - beta * math.log(-math.log(1.0 - p))


def daily_probability(per_month: float) -> float:
    """A rate per month as a probability per day."""
    return min(per_month / DAYS_PER_MONTH, 0.5)


def exponential_tail_quantile(maxima: npt.ArrayLike, p_exceed: float) -> float:
    """The value exceeded with probability `p_exceed`, from an exponential tail above the median.

    Peaks over threshold with a generalised Pareto tail of shape 0 (Coles 2001, §4.3): above
    u = median(x), P(X > u + y) = ½ · exp(-y/σ), σ = mean(x - u | x > u), so
    θ = u + σ · ln(½ / p). Unlike a Gumbel fitted to all the days, σ comes from the upper half
    only, so a heavy upper tail makes θ larger rather than being averaged away.
    """
    x = np.asarray(maxima, dtype=np.float64)
    u = float(np.median(x))
    excess = x[x > u] - u
    sigma = float(excess.mean()) if excess.size else 0.0
    return u + sigma * math.log(0.5 / min(max(p_exceed, 1e-12), 0.5))


def predictive_tail_quantile(maxima: npt.ArrayLike, p_exceed: float) -> float:
    """The value a *new* day exceeds with probability `p_exceed`, from an exponential tail above
    the median whose scale is itself estimated from the few days seen.

    With m excesses above u = median(x) and σ̂ their mean, a new excess Y over σ̂ is distributed
    as F(2, 2m) when excesses are exponential, so P(X > u + y) = ½ · (1 + y/(m·σ̂))^(-m) exactly
    (the Lomax predictive distribution; Aitchison & Dunsmore, *Statistical Prediction Analysis*,
    1975, ch. 6), and θ = u + m·σ̂ · ((2p)^(-1/m) - 1). It tends to `exponential_tail_quantile`
    as m grows; with a week or two of history it is markedly higher. Plugging σ̂ in as if it
    were σ spends the budget several times over on so few days: on exchangeable gamma-distributed
    days, 5x at 7 days of history and 2.4x at 14 (tests/unit/detector/test_budget.py).
    """
    x = np.asarray(maxima, dtype=np.float64)
    u = float(np.median(x))
    excess = x[x > u] - u
    if not excess.size:
        return u
    m = excess.size
    q = min(max(2.0 * p_exceed, 1e-12), 1.0)
    return u + m * float(excess.mean()) * (math.pow(q, -1.0 / m) - 1.0)


def pooled_tail_quantile(maxima: npt.ArrayLike, p_exceed: float, *, prior_excesses: float,
                         prior_relative: float) -> float:
    """`predictive_tail_quantile` with the tail's scale learned from other households too.

    The excesses over u = median(x) are exponential with rate λ; a gamma prior on λ (the
    conjugate prior of an exponential rate: Gelman et al., *Bayesian Data Analysis*, 3rd ed.,
    2013, §2.6) worth `prior_excesses` excesses which, relative to their own household's median,
    add up to `prior_relative` (so they sum to u · prior_relative hours here: the community
    lends the tail's *shape*, each household keeps its own scale) gives, with this household's
    m excesses summing to S, a = prior_excesses + m and b = u · prior_relative + S, the
    predictive P(X > u + y) = ½ · (1 + y/b)^(-a), so θ = u + b · ((2p)^(-1/a) - 1). Without a
    prior (0, 0), or with u = 0, it is `predictive_tail_quantile`. Never below the largest seen.
    """
    x = np.asarray(maxima, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size < MIN_DAYS_TO_FIT:
        return math.nan
    u = float(np.median(x))
    return pooled_scale_quantile(x, p_exceed, prior_excesses=prior_excesses,
                                 prior_total=u * prior_relative)


def pooled_scale_quantile(maxima: npt.ArrayLike, p_exceed: float, *, prior_excesses: float,
                          prior_total: float) -> float:
    """`pooled_tail_quantile` for values whose tail's scale does not grow with their median
    (clock hours: how far from her usual bedtime a household goes to bed early): the community
    lends `prior_excesses` excesses over their own households' medians adding up to
    `prior_total` (in the values' unit), so a = prior_excesses + m, b = prior_total + S and
    θ = u + b · ((2p)^(-1/a) - 1). Without a prior (0, 0), `predictive_tail_quantile`. Never
    below the largest seen; NaN with fewer than `MIN_DAYS_TO_FIT` values."""
    x = np.asarray(maxima, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size < MIN_DAYS_TO_FIT:
        return math.nan
    u = float(np.median(x))
    excess = x[x > u] - u
    lent = prior_excesses > 0 and prior_total > 0
    a = float(excess.size) + (prior_excesses if lent else 0.0)
    b = float(excess.sum()) + (prior_total if lent else 0.0)
    if a <= 0 or b <= 0:
        return float(x.max())
    q = min(max(2.0 * p_exceed, 1e-12), 1.0)
    return max(u + b * (math.pow(q, -1.0 / a) - 1.0), float(x.max()))


def excesses(maxima: npt.ArrayLike) -> tuple[int, float]:
    """How many of `maxima` exceed their median, and by how much in all (a tail to lend to other
    households, `pooled_scale_quantile`); (0, 0) when too few."""
    x = np.asarray(maxima, dtype=np.float64)
    x = x[np.isfinite(x)]
    if x.size < MIN_DAYS_TO_FIT:
        return 0, 0.0
    excess = x[x > np.median(x)] - np.median(x)
    return int(excess.size), float(excess.sum())


def gamma_prior(counts: npt.ArrayLike, totals: npt.ArrayLike, *,
                max_a: float) -> tuple[float, float]:
    """The gamma prior (a, b) on households' exponential tail rates that best explains their
    excesses (household h: `counts[h]` excesses adding up to `totals[h]`), by empirical Bayes:
    the maximum of the marginal likelihood Π_h Γ(a+m_h)/Γ(a) · b^a / (b+S_h)^(a+m_h) (Carlin &
    Louis, *Bayesian Methods for Data Analysis*, 3rd ed., 2009, ch. 5). Households whose scales
    differ make a small (a weak prior: each keeps its own); households alike make it large,
    held at `max_a` (b then the best for that a). On a grid of a, b profiled out."""
    m = np.asarray(counts, dtype=np.float64)
    total = np.asarray(totals, dtype=np.float64)
    grid = np.exp(np.linspace(math.log(0.05), math.log(max_a), 97))
    best_ll, best = -math.inf, (0.0, 0.0)
    for a, b in zip(grid.tolist(), _best_b(grid, m, total), strict=True):
        ll = float(sum(math.lgamma(a + k) for k in m)) - m.size * math.lgamma(a) + float(
            np.sum(a * math.log(b) - (a + m) * np.log(b + total)))
        if ll > best_ll:
            best_ll, best = ll, (a, b)
    return best


def _best_b(a: npt.NDArray[np.float64], m: npt.NDArray[np.float64],
            total: npt.NDArray[np.float64]) -> list[float]:
    """For each of `a`, the b maximising the marginal likelihood: the root of
    Σ_h a/b = Σ_h (a+m_h)/(b+S_h), whose left side falls faster (bisection in log b, every a
    at once: a refresh of the population prior fits one grid)."""
    lo, hi = np.full(a.size, math.log(1e-6)), np.full(a.size, math.log(1e6))
    for _ in range(60):
        mid = (lo + hi) / 2
        b = np.array([math.exp(x) for x in mid.tolist()])
        below = m.size * a / b > np.sum((a[:, None] + m) / (b[:, None] + total), axis=1)
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    return [math.exp(x) for x in ((lo + hi) / 2).tolist()]


def relative_excesses(maxima: npt.ArrayLike) -> tuple[int, float]:
    """How many of `maxima` exceed their median u, and by how much in all relative to u (a tail
    to lend to other households); (0, 0) when too few or u = 0."""
    x = np.asarray(maxima, dtype=np.float64)
    x = x[np.isfinite(x)]
    u = float(np.median(x)) if x.size >= MIN_DAYS_TO_FIT else 0.0
    if u <= 0:
        return 0, 0.0
    excess = x[x > u] - u
    return int(excess.size), float(excess.sum() / u)


def own_threshold(maxima: npt.ArrayLike, p_exceed: float, *, method: str = "predictive") -> float:
    """θ_own from a household's daily maxima, or NaN when there are too few days."""
    values = np.asarray(maxima, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size < MIN_DAYS_TO_FIT:
        return math.nan
    if method == "gumbel":
        mu, beta = gumbel_fit(values)
        fitted = gumbel_quantile(mu, beta, p_exceed)
    elif method == "tail":
        fitted = exponential_tail_quantile(values, p_exceed)
    else:
        fitted = predictive_tail_quantile(values, p_exceed)
    return max(fitted, float(values.max()))


def shrink(own: float, days: float, prior: float, strength: float) -> float:
    """(n·own + κ·prior)/(n + κ); the prior alone when there is no own estimate."""
    if not math.isfinite(own) or days <= 0:
        return prior
    return (days * own + strength * prior) / (days + strength)


def clamp(value: float, floor: float, ceiling: float) -> float:
    return min(max(value, floor), ceiling)
