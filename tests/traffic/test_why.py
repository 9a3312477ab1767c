"""A creator's why reads true: the figures the sentence compares are in the same unit."""

from __future__ import annotations

import math
import re

import pytest

from guanghe.traffic.why import allocation_why

DAYS = 7


def _row(
    per_day: float, *, weight: float, pool_price: float, floor: float = 0.0
) -> dict[str, object]:
    """A ``traffic_allocation`` row of a creator with the daily curve 100 (1 - exp(-x / 10,000))."""
    return {
        "impressions": per_day * DAYS,
        "saturation": 100.0 * DAYS,
        "scale": 10_000.0 * DAYS,
        "weight": weight,
        "pool_price": pool_price,
        "group_price": 0.0,
        "floor": floor * DAYS,
        "cap": 1e9,
        "boostable": True,
    }


def _figures(sentence: str) -> list[float]:
    return [float(f) for f in re.findall(r"\d+\.\d+", sentence)]


@pytest.mark.parametrize("weight", [0.5, 1.0, 2.0])
def test_at_the_budget_the_sentence_says_the_marginal_follows_equal_the_price(
    weight: float,
) -> None:
    # At x = s ln 2 one more impression brings a/s / 2 = 0.005 follows; the optimum's weighted
    # marginal equals the pool's price.
    row = _row(10_000 * math.log(2), weight=weight, pool_price=weight * 0.005)
    why = allocation_why(row, DAYS, "High-quality creators", operator=False)
    assert why.bound == "pool budget"
    marginal, price = _figures(why.sentence)
    assert marginal == pytest.approx(5.0, abs=0.01)
    assert price == pytest.approx(marginal, abs=0.01), why.sentence


def test_at_the_floor_the_sentence_says_the_marginal_is_below_the_price() -> None:
    # Weighted 0.5, a price of 4 weighted follows per 1,000 is 8 of this creator's follows; at
    # the floor they would bring 6, below it (and above the raw 4).
    x = 10_000 * math.log(10 / 6)
    row = _row(x, weight=0.5, pool_price=0.004, floor=x)
    why = allocation_why(row, DAYS, "High-quality creators", operator=False)
    assert why.bound == "floor"
    marginal, price = _figures(why.sentence)
    assert (marginal, price) == pytest.approx((6.0, 8.0), abs=0.01), why.sentence


def test_a_creator_priced_out_on_their_curve_but_explored_is_told_so() -> None:
    # On the curve the first 1,000 impressions bring a/s * 1,000 = 10 follows, below a price
    # of 20; all 3,000 a day come from the exploration share.
    row = _row(3_000, weight=1.0, pool_price=0.02) | {"explored": 3_000 * DAYS}
    why = allocation_why(row, DAYS, "General", operator=False)
    assert why.bound == "explored"
    assert (why.allocated_per_day, why.explored_per_day) == (3_000, 3_000)
    assert "3,000 of them exploring" in why.sentence
    marginal, price = _figures(why.sentence)
    assert (marginal, price) == pytest.approx((10.0, 20.0), abs=0.01), why.sentence
