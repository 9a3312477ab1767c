"""The response curves' Newton sums in one Numba pass over the boosted rows.

:func:`newton_sums` is, bit for bit, what ``_mode_of_log_a``'s NumPy expressions and
``np.bincount`` give: the same float64 operations in the same order per row (no fused
multiply-adds: Numba does not contract without ``fastmath``), each creator's sum added in row
order as ``bincount`` adds it. What it saves is the dozen full-length temporaries per Newton
step, run 12 times at each of the 49 scales of both passes.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

_FLOOR = 1e-12  # the smallest mean a follow count is divided by


@njit(cache=True, error_model="numpy")
def newton_sums(
    creator: NDArray[np.int64],
    a: NDArray[np.float64],
    shape: NDArray[np.float64],
    baseline: NDArray[np.float64],
    follows: NDArray[np.float64],
    n: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per creator (``n``), with ``boost = a[creator] * shape`` and ``mu = baseline + boost``:
    the gradient ``sum((follows / max(mu, 1e-12) - 1) * boost)`` and the Fisher information
    ``sum(boost * boost / max(mu, 1e-12))`` of ``log a``."""
    grad = np.zeros(n)
    info = np.zeros(n)
    for i in range(creator.shape[0]):
        c = creator[i]
        boost = a[c] * shape[i]
        mu = baseline[i] + boost
        floored = _FLOOR if mu < _FLOOR else mu  # np.maximum: NaN stays NaN
        grad[c] += (follows[i] / floored - 1.0) * boost
        info[c] += boost * boost / floored
    return grad, info
