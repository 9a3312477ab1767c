"""The response curves' grid search in one Numba pass per search, creator by creator.

:func:`grid_points` evaluates, for every creator and each grid scale asked for, the Newton
steps on ``log a`` and the profile posterior's score there. A creator's rows are consecutive,
so all of their work happens while those few dozen rows sit in cache, instead of the dozen
full-length passes over every creator's rows (and their temporaries) per Newton step and grid
point that vectorised sums take. Creators are independent, so they are spread over threads
(``prange``) and the answer does not depend on how many there are. Per creator the float64
operations are those of ``response``'s model, each sum added in row order; no fused
multiply-adds (Numba does not contract without ``fastmath``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

_FLOOR = 1e-12  # the smallest mean a follow count is divided by
_STEP = 2.0  # the largest Newton step on log a
#: Newton's method on ``log a`` stops after a step this small (the next would be far smaller)…
TOLERANCE = 1e-9
#: … or after this many steps.
MAX_STEPS = 50


@njit(cache=True, parallel=True, error_model="numpy")
def grid_points(
    offsets: NDArray[np.int64],
    baseline: NDArray[np.float64],
    boosted: NDArray[np.float64],
    follows: NDArray[np.float64],
    mean_a: NDArray[np.float64],
    mean_s: NDArray[np.float64],
    spread_a: float,
    spread_s: float,
    log_scales: NDArray[np.float64],
    scales: NDArray[np.float64],
    ks: NDArray[np.int64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """For creator ``c`` (rows ``offsets[c]:offsets[c + 1]``) and each grid index ``k`` of
    row ``ks[c]`` (or of ``ks[0]`` for every creator when ``ks`` has one row): ``log a``'s
    posterior mode at scale ``scales[k]``, its information there (prior precision included)
    and the log posterior at that point. Returns three ``(n, width)`` arrays."""
    n = offsets.shape[0] - 1
    width = ks.shape[1]
    stride = 0 if ks.shape[0] == 1 else 1
    log_a = np.empty((n, width))
    info = np.empty((n, width))
    score = np.empty((n, width))
    for each in prange(n):
        c = np.int64(each)
        lo, hi = offsets[c], offsets[c + 1]
        shape = np.empty(hi - lo)
        row = c * stride
        for j in range(width):
            k = ks[row, j]
            for r in range(lo, hi):
                shape[r - lo] = -math.expm1(-boosted[r] / scales[k])
            mode, posterior, information = _mode_of_log_a(
                shape, baseline[lo:hi], follows[lo:hi], mean_a[c], spread_a
            )
            log_a[c, j] = mode
            info[c, j] = information
            off_s = (log_scales[k] - mean_s[c]) / spread_s
            score[c, j] = posterior - 0.5 * (off_s * off_s)
    return log_a, info, score


@njit(cache=True, inline="always")
def _sums(
    a: float,
    shape: NDArray[np.float64],
    baseline: NDArray[np.float64],
    follows: NDArray[np.float64],
) -> tuple[float, float, float]:
    """With ``boost = a * shape`` and ``mu = max(baseline + boost, 1e-12)``: the gradient
    ``sum((follows / mu - 1) * boost)`` of the Poisson log-likelihood in ``log a``, its Fisher
    information ``sum(boost**2 / mu)`` and its observed information (minus the second
    derivative) ``sum(follows * boost**2 / mu**2) - gradient``."""
    grad = 0.0
    fisher = 0.0
    weighted = 0.0
    for i in range(shape.shape[0]):
        boost = a * shape[i]
        mu = baseline[i] + boost
        inverse = 1.0 / (_FLOOR if mu < _FLOOR else mu)  # as np.maximum: NaN stays NaN
        ratio = follows[i] * inverse
        grad += (ratio - 1.0) * boost
        square = boost * boost * inverse
        fisher += square
        weighted += ratio * square
    return grad, fisher, weighted - grad


@njit(cache=True, inline="always")
def _newton(
    x: float,
    shape: NDArray[np.float64],
    baseline: NDArray[np.float64],
    follows: NDArray[np.float64],
    mean: float,
    precision: float,
) -> float:
    """Newton's method on the log posterior of ``log a`` from ``x``: the observed information
    where it is positive, Fisher's otherwise, each step clipped to 2, until a step is under
    :data:`TOLERANCE` (at most :data:`MAX_STEPS`)."""
    for _ in range(MAX_STEPS):
        grad, fisher, observed = _sums(math.exp(x), shape, baseline, follows)
        grad -= (x - mean) * precision
        curvature = observed + precision
        if not curvature > 0.0:
            curvature = fisher + precision
        move = grad / curvature
        if move < -_STEP:
            move = -_STEP
        elif move > _STEP:
            move = _STEP
        x += move
        if not abs(move) > TOLERANCE:  # a NaN stops too
            break
    return x


@njit(cache=True, inline="always")
def _log_posterior(
    x: float,
    shape: NDArray[np.float64],
    baseline: NDArray[np.float64],
    follows: NDArray[np.float64],
    mean: float,
    spread: float,
) -> float:
    """The Poisson log-likelihood at ``log a = x`` (up to a constant) plus ``log a``'s prior."""
    a = math.exp(x)
    fit = 0.0
    for r in range(shape.shape[0]):
        mu = baseline[r] + a * shape[r]
        fit += follows[r] * math.log(_FLOOR if mu < _FLOOR else mu) - mu
    off = (x - mean) / spread
    return fit - 0.5 * (off * off)


@njit(cache=True, inline="always")
def _mode_of_log_a(
    shape: NDArray[np.float64],
    baseline: NDArray[np.float64],
    follows: NDArray[np.float64],
    mean: float,
    spread: float,
) -> tuple[float, float, float]:
    """The posterior mode of ``log a`` at one scale, the log posterior there and the Fisher
    information there (prior precision included).

    At a fixed scale the likelihood is unimodal in ``log a`` but flat far below the data's
    level, so with the prior it can have two peaks: one near the prior's mean, one near the
    curve through the follows beyond the baseline. Newton's method runs from both and the
    higher is kept (the mean alone where no follows exceed the baseline). Both starts depend
    on the creator's rows and the scale alone, so a grid point's answer does not depend on
    which others a search computes."""
    precision = 1.0 / (spread * spread)
    x = _newton(mean, shape, baseline, follows, mean, precision)
    best = _log_posterior(x, shape, baseline, follows, mean, spread)
    excess = 0.0
    total = 0.0
    for i in range(shape.shape[0]):
        excess += follows[i] - baseline[i]
        total += shape[i]
    if excess > 0.0 and total > 0.0:
        other = _newton(math.log(excess / total), shape, baseline, follows, mean, precision)
        if other != x:
            score = _log_posterior(other, shape, baseline, follows, mean, spread)
            if score > best:
                x, best = other, score
    _, fisher, _ = _sums(math.exp(x), shape, baseline, follows)
    return x, best, fisher + precision
