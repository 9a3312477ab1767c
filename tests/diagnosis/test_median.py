"""The training set's creator priors: the running median of sorted outcomes is exactly
``np.median``'s float, so the training set and the model are what they were."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from guanghe.diagnosis.model import median_of_sorted

outcomes = st.lists(
    st.floats(min_value=0.0, max_value=25.0, allow_nan=False, allow_infinity=False),
    min_size=1,
    max_size=60,
)


@given(outcomes)
def test_median_of_sorted_is_numpys_median_bit_for_bit(values: list[float]) -> None:
    assert median_of_sorted(sorted(values)) == float(np.median(values))


def test_median_of_sorted_of_log_plays() -> None:
    """The outcomes the training set sees: log1p of play counts, odd and even lengths."""
    rng = np.random.default_rng(3)
    for n in range(1, 200):
        values = np.log1p(rng.poisson(rng.gamma(1.0, 300.0), n)).tolist()
        assert median_of_sorted(sorted(values)) == float(np.median(values))
