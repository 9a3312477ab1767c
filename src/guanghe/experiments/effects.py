"""Treatment effects of a two-arm experiment: CUPED variance reduction, post-stratified.

Pure and vectorised: per-creator outcomes, pre-period covariates, arms and (optionally)
pre-treatment strata in; an effect with its confidence interval out.

CUPED (Deng, Xu, Kohavi & Walker, 2013, "Improving the sensitivity of online controlled
experiments by utilizing pre-experiment data") replaces each outcome ``y`` by
``y - theta (x - mean x)`` with ``x`` the same metric before the experiment and
``theta = cov(x, y) / var(x)`` over both arms. ``x`` is independent of the assignment, so the
difference of the adjusted means estimates the same effect as the plain difference, with the
variance shrunk by ``corr(x, y)^2``.

With ``strata`` (a label per creator fixed before the experiment, e.g. a follower-size band)
the estimate is post-stratified (Miratrix, Sekhon & Yu, 2013): ``theta`` is the pooled
within-stratum regression slope, the means are centred per stratum, and the effect is the
strata's adjusted differences weighted by their share of the creators, with the variance
``sum w_h^2 (s_th^2 / n_th + s_ch^2 / n_ch)``. Heavy-tailed outcomes vary mostly between
sizes of creator; stratifying by size removes that part and keeps a few large creators landing
in one arm from deciding the estimate. A stratum with few creators in an arm
(:data:`MIN_STRATUM_ARM`) is merged into the next one (strata are ordered labels).

The interval is the normal interval on the adjusted outcomes with Welch's (per arm, per
stratum) variance; with hundreds of creators per arm the normal approximation is sound, and
:data:`MIN_ARM_SIZE` refuses to conclude below that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from scipy.stats import norm

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]
Verdict = Literal["increase", "decrease", "no detectable change", "too small to tell"]
Estimator = Literal["cuped", "post-stratified cuped"]

#: Fewer creators than this in an arm: the report does not conclude.
MIN_ARM_SIZE: Final = 100
#: A stratum with fewer creators than this in either arm is merged into the next: Welch's
#: variance from a handful of heavy-tailed values is too unreliable to weigh on its own.
MIN_STRATUM_ARM: Final = 10
#: The smallest change, relative to the control mean, worth detecting: an interval that
#: includes 0 and reaches past this either way cannot tell a change from none.
MIN_RELATIVE_EFFECT: Final = 0.05


@dataclass(frozen=True, slots=True)
class Effect:
    """The treatment's effect on one metric (treatment minus control, per creator).

    ``effect`` and ``ci_low..ci_high`` are CUPED-adjusted (and post-stratified when
    ``strata`` > 1, see ``estimator``); ``unadjusted_*`` the plain difference of means and its
    interval. ``variance_reduction`` is the share of the plain difference's variance that the
    pre-period covariate and the strata removed (0..1).
    """

    control_creators: int
    treatment_creators: int
    control_mean: float
    treatment_mean: float
    effect: float
    ci_low: float
    ci_high: float
    unadjusted_effect: float
    unadjusted_ci_low: float
    unadjusted_ci_high: float
    variance_reduction: float
    confidence: float
    verdict: Verdict
    estimator: Estimator = "cuped"
    #: Strata the estimate combines (1: none).
    strata: int = 1

    @property
    def relative_effect(self) -> float | None:
        """The effect as a share of the control mean (None when that mean is 0)."""
        return self.effect / self.control_mean if self.control_mean else None


def estimate_effect(
    outcome: npt.ArrayLike,
    covariate: npt.ArrayLike,
    treated: npt.ArrayLike,
    *,
    strata: npt.ArrayLike | None = None,
    confidence: float = 0.95,
) -> Effect:
    """The effect of treatment on ``outcome`` (shape ``(n,)``), adjusted with ``covariate``
    (the same metric before the experiment, ``(n,)``); ``treated`` marks the treatment arm;
    ``strata`` (``(n,)`` ordered integer labels fixed before the experiment, optional)
    post-stratifies the estimate.

    Complexity O(n log n) (sorting the strata).
    """
    y = np.asarray(outcome, dtype=np.float64)
    x = np.asarray(covariate, dtype=np.float64)
    t = np.asarray(treated, dtype=np.bool_)
    if not (y.shape == x.shape == t.shape) or y.ndim != 1:
        raise ValueError("outcome, covariate and treated must be aligned 1-d arrays")
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie in (0, 1)")
    if strata is None:
        h = np.zeros(y.shape, np.int64)
    else:
        labels = np.asarray(strata)
        if labels.shape != y.shape:
            raise ValueError("strata must be aligned with the outcome")
        h = merge_thin_strata(labels, t)
    n_t, n_c = int(t.sum()), int((~t).sum())
    k = int(h.max()) + 1 if h.size else 1
    x_centred = x - _stratum_means(x, h, k)[h] if x.size else x
    y_centred = y - _stratum_means(y, h, k)[h] if y.size else y
    sxx = float(np.dot(x_centred, x_centred))
    theta = float(np.dot(x_centred, y_centred) / sxx) if sxx > 0 and y.size > 1 else 0.0
    adjusted = y - theta * x_centred
    z = float(norm.ppf(0.5 + confidence / 2))
    plain, plain_se = _difference(y, t)
    effect, se = _stratified_difference(adjusted, t, h, k)
    reduction = 1.0 - (se / plain_se) ** 2 if plain_se > 0 else 0.0
    control_mean = float(np.mean(y[~t])) if n_c else 0.0
    low, high = effect - z * se, effect + z * se
    return Effect(
        control_creators=n_c,
        treatment_creators=n_t,
        control_mean=control_mean,
        treatment_mean=float(np.mean(y[t])) if n_t else 0.0,
        effect=effect,
        ci_low=low,
        ci_high=high,
        unadjusted_effect=plain,
        unadjusted_ci_low=plain - z * plain_se,
        unadjusted_ci_high=plain + z * plain_se,
        variance_reduction=float(np.clip(np.nan_to_num(reduction), 0.0, 1.0)),
        confidence=confidence,
        verdict=verdict(low, high, control_mean, min(n_t, n_c)),
        estimator="post-stratified cuped" if k > 1 else "cuped",
        strata=k,
    )


def merge_thin_strata(labels: npt.ArrayLike, treated: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Stratum index ``0..k-1`` per creator: the ordered ``labels`` with every stratum that has
    fewer than :data:`MIN_STRATUM_ARM` creators in either arm merged into the next (the last
    such into the one before it)."""
    values, inverse = np.unique(np.asarray(labels), return_inverse=True)
    t = np.asarray(treated, dtype=np.bool_)
    in_t = np.bincount(inverse, weights=t, minlength=values.size)
    in_c = np.bincount(inverse, weights=~t, minlength=values.size)
    group = np.zeros(values.size, np.int64)
    current, count_t, count_c = 0, 0.0, 0.0
    for i in range(values.size):
        group[i] = current
        count_t, count_c = count_t + in_t[i], count_c + in_c[i]
        full = count_t >= MIN_STRATUM_ARM and count_c >= MIN_STRATUM_ARM
        if full and i < values.size - 1:
            current, count_t, count_c = current + 1, 0.0, 0.0
    if current > 0 and (count_t < MIN_STRATUM_ARM or count_c < MIN_STRATUM_ARM):
        group[group == current] = current - 1  # a thin last group joins the one before
    return group[inverse.reshape(-1)]


def verdict(low: float, high: float, control_mean: float, smaller_arm: int) -> Verdict:
    """What the interval ``low..high`` says: a change when it excludes 0; no detectable change
    when it lies within :data:`MIN_RELATIVE_EFFECT` of the control mean either way; too small
    to tell otherwise, or when an arm has fewer than :data:`MIN_ARM_SIZE` creators."""
    if smaller_arm < MIN_ARM_SIZE or not (np.isfinite(low) and np.isfinite(high)):
        return "too small to tell"
    if low > 0:
        return "increase"
    if high < 0:
        return "decrease"
    margin = MIN_RELATIVE_EFFECT * abs(control_mean)
    if margin > 0 and -margin <= low and high <= margin:
        return "no detectable change"
    return "too small to tell"


def _difference(y: Floats, t: Bools) -> tuple[float, float]:
    """Difference of the arms' means and its Welch standard error (NaN with < 2 per arm)."""
    a, b = y[t], y[~t]
    if a.size < 2 or b.size < 2:
        return float("nan"), float("nan")
    se = np.sqrt(np.var(a, ddof=1) / a.size + np.var(b, ddof=1) / b.size)
    return float(np.mean(a) - np.mean(b)), float(se)


def _stratum_means(y: Floats, h: npt.NDArray[np.int64], k: int) -> Floats:
    """Each stratum's mean of ``y`` over both arms."""
    return np.bincount(h, weights=y, minlength=k) / np.maximum(np.bincount(h, minlength=k), 1)


def _stratified_difference(
    y: Floats, t: Bools, h: npt.NDArray[np.int64], k: int
) -> tuple[float, float]:
    """The strata's differences of arm means weighted by their share of the creators, and its
    standard error (Welch within each stratum); NaN with < 2 per arm in a stratum."""
    if k == 1:
        return _difference(y, t)
    n = np.bincount(h, minlength=k).astype(np.float64)
    effect, variance = 0.0, 0.0
    for stratum in range(k):
        here = h == stratum
        d, se = _difference(y[here], t[here])
        w = n[stratum] / y.size
        effect += w * d
        variance += (w * se) ** 2
    return effect, float(np.sqrt(variance))
