"""How many threads a model fit or prediction may use.

scikit-learn's histogram gradient boosting and the BLAS under a truncated SVD start one OpenMP
thread per core for every call. On the training sets the cycle sees (thousands to tens of
thousands of rows) those threads spend their time waiting for each other, and on a machine that
also serves requests the wait dominates: the diagnosis model's fit on 1,032 works took 14.2 s
with two threads on a busy 2-core machine and 0.63 s with one. Below
:data:`PARALLEL_ROWS` rows a call runs on one thread.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any, Final

from threadpoolctl import threadpool_limits

#: Fewest rows for which a fit or prediction uses every core.
PARALLEL_ROWS: Final = 200_000


def model_threads(rows: int) -> AbstractContextManager[Any]:
    """A context in which OpenMP and BLAS use one thread for fewer than
    :data:`PARALLEL_ROWS` ``rows``, and their default otherwise."""
    limits: AbstractContextManager[Any] = threadpool_limits(
        limits=1 if rows < PARALLEL_ROWS else None
    )
    return limits
