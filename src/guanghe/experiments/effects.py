"""Treatment effects of a two-arm experiment with CUPED variance reduction.

Pure and vectorised: per-creator outcomes, pre-period covariates and arms in; an effect with
its confidence interval out.

CUPED (Deng, Xu, Kohavi & Walker, 2013, "Improving the sensitivity of online controlled
experiments by utilizing pre-experiment data") replaces each outcome ``y`` by
``y - theta (x - mean x)`` with ``x`` the same metric before the experiment and
``theta = cov(x, y) / var(x)`` over both arms. ``x`` is independent of the assignment, so the
difference of the adjusted means estimates the same effect as the plain difference, with the
variance shrunk by ``corr(x, y)^2``. The interval is Welch's normal interval on the adjusted
outcomes (the arms may differ in variance); with hundreds of creators per arm the normal
approximation is sound even for heavy-tailed counts, and :data:`MIN_ARM_SIZE` refuses to
conclude below that.
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

#: Fewer creators than this in an arm: the report does not conclude.
MIN_ARM_SIZE: Final = 100
#: The smallest change, relative to the control mean, worth detecting: an interval that
#: includes 0 and reaches past this either way cannot tell a change from none.
MIN_RELATIVE_EFFECT: Final = 0.05


@dataclass(frozen=True, slots=True)
class Effect:
    """The treatment's effect on one metric (treatment minus control, per creator).

    ``effect`` and ``ci_low..ci_high`` are CUPED-adjusted; ``unadjusted_*`` the plain
    difference of means and its interval. ``variance_reduction`` is the share of the
    outcome's variance the pre-period covariate removed (0..1).
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

    @property
    def relative_effect(self) -> float | None:
        """The effect as a share of the control mean (None when that mean is 0)."""
        return self.effect / self.control_mean if self.control_mean else None


def estimate_effect(
    outcome: npt.ArrayLike,
    covariate: npt.ArrayLike,
    treated: npt.ArrayLike,
    *,
    confidence: float = 0.95,
) -> Effect:
    """The effect of treatment on ``outcome`` (shape ``(n,)``), adjusted with ``covariate``
    (the same metric before the experiment, ``(n,)``); ``treated`` marks the treatment arm.

    Complexity O(n).
    """
    y = np.asarray(outcome, dtype=np.float64)
    x = np.asarray(covariate, dtype=np.float64)
    t = np.asarray(treated, dtype=np.bool_)
    if not (y.shape == x.shape == t.shape) or y.ndim != 1:
        raise ValueError("outcome, covariate and treated must be aligned 1-d arrays")
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie in (0, 1)")
    n_t, n_c = int(t.sum()), int((~t).sum())
    var_x = float(np.var(x))
    theta = float(np.cov(x, y)[0, 1] / var_x) if var_x > 0 and y.size > 1 else 0.0
    adjusted = y - theta * (x - float(np.mean(x))) if y.size else y
    z = float(norm.ppf(0.5 + confidence / 2))
    plain, plain_se = _difference(y, t)
    effect, se = _difference(adjusted, t)
    within = _within_variance(y, t)
    reduction = 1.0 - _within_variance(adjusted, t) / within if within > 0 else 0.0
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
        variance_reduction=float(np.clip(reduction, 0.0, 1.0)),
        confidence=confidence,
        verdict=verdict(low, high, control_mean, min(n_t, n_c)),
    )


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


def _within_variance(y: Floats, t: Bools) -> float:
    """The outcome's variance within arms, pooled."""
    parts = [
        y[t] - np.mean(y[t]) if t.any() else y[:0],
        y[~t] - np.mean(y[~t]) if (~t).any() else y[:0],
    ]
    centred = np.concatenate(parts)
    return float(np.mean(centred**2)) if centred.size else 0.0
