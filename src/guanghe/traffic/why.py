"""Why a creator gets the boosted traffic they get: the estimated curve, the marginal follows
at their allocation, the pool's price and which limit bound, in a sentence and figures.

At the allocation's optimum a creator strictly between their floor and cap takes impressions
until the weighted marginal follow of one more impression, ``w a/s exp(-x/s)``, falls to their
cell's price ``q = lambda_pool + mu_vertical`` (:class:`~guanghe.traffic.TrafficAllocator`).
So the price is what an impression is worth elsewhere in the pool, and the comparison of the
two says which limit set the figure.

Where the period explores (:mod:`~guanghe.traffic.exploration`), a creator's impressions are
the exploiting solve's plus those a Thompson draw of their curve won; the prices are the
exploiting solve's, so the marginal is taken at the exploiting part and the explored part is
stated beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final, Literal

Bound = Literal[
    "floor",
    "cap",
    "vertical cap",
    "pool budget",
    "curve saturated",
    "priced out",
    "explored",
    "no boostable work",
]
#: Relative slack under which an allocation counts as at its floor or cap.
_AT_LIMIT: Final = 1e-6


@dataclass(frozen=True, slots=True)
class AllocationWhy:
    """The figures behind a creator's allocation, per day of the period.

    ``saturation_follows`` and ``scale_impressions`` are the estimated daily curve
    ``a (1 - exp(-x / s))``; ``allocated_per_day`` includes ``explored_per_day``, the
    impressions spent learning the curve; marginal follows (at the allocation less the explored
    part) and prices are per 1,000 impressions; the price is in weighted follows (``weight``
    is the value of one follow of this creator in the pool, given only to operators); the
    sentence states prices in the creator's own follows.
    """

    sentence: str
    allocated_per_day: float
    explored_per_day: float
    saturation_follows: float
    scale_impressions: float
    expected_follows_per_day: float
    marginal_follows_per_1000: float
    pool_price_per_1000: float
    vertical_price_per_1000: float
    floor_per_day: float
    cap_per_day: float
    bound: Bound
    weight: float | None


def allocation_why(
    row: dict[str, Any], days: int, pool_title: str, *, operator: bool
) -> AllocationWhy:
    """The why of one ``traffic_allocation`` row of a period of ``days`` days."""
    k = max(days, 1)
    impressions = float(row["impressions"])
    explored = float(row.get("explored") or 0.0) / k
    a, s = float(row["saturation"]) / k, float(row["scale"]) / k
    allocated = impressions / k
    x = allocated - explored  # the exploiting solve's, where its prices hold
    weight = float(row["weight"])
    marginal = a / s * math.exp(-x / s) * 1000.0 if s > 0 else 0.0
    pool_price = float(row["pool_price"]) * 1000.0
    vertical_price = float(row["group_price"]) * 1000.0
    price = pool_price + vertical_price
    # The sentence states prices in the creator's own follows, the unit of their marginal:
    # prices are in weighted follows, and one of this creator's follows is worth ``weight``.
    own = 1.0 / weight if weight > 0 else 1.0
    threshold = price * own
    floor, cap = float(row["floor"]) / k, float(row["cap"]) / k
    at_floor = floor > 0 and x <= floor * (1 + _AT_LIMIT)
    at_cap = x >= cap * (1 - _AT_LIMIT)
    bound: Bound
    if not row.get("boostable", True):
        bound = "no boostable work"
    elif at_floor and weight * marginal <= price:
        bound = "floor"
    elif at_cap:
        bound = "cap"
    elif x <= 0:
        bound = "explored" if explored > 0 else "priced out"
    elif price <= 0:
        bound = "curve saturated"
    else:
        bound = "vertical cap" if vertical_price > 0 else "pool budget"
    expected = a * -math.expm1(-allocated / s) if s > 0 else 0.0
    figures = f"{allocated:,.0f} boosted impressions a day from the {pool_title} pool"
    value = f"1,000 more would bring about {marginal:.2f} follows"
    if explored > 0:
        figures += (
            f", {explored:,.0f} of them exploring (the pool spends a share of its budget "
            "where a boost teaches it most about a creator's curve)"
        )
        value = f"beyond the {x:,.0f} a day planned on your estimated curve, {value}"
    sentence = {
        "floor": (
            f"You get the pool's guaranteed minimum, {figures}: its floor binds ({value}, "
            f"less than the {threshold:.2f} the pool's traffic earns elsewhere)."
        ),
        "cap": (
            f"You get the most the pool gives one creator, {figures}: its cap binds ({value}, "
            f"more than the pool's price of {threshold:.2f} per 1,000)."
        ),
        "vertical cap": (
            f"You get {figures}: {value}, which is the pool's price of {threshold:.2f} per 1,000 "
            f"including {vertical_price * own:.2f} for your vertical's cap, which binds."
        ),
        "pool budget": (
            f"You get {figures}: {value}, which is the pool's price of {threshold:.2f} per 1,000; "
            "more impressions are worth more to other creators while the budget binds."
        ),
        "curve saturated": (
            f"You get {figures}: the pool's budget is not all needed, and more impressions "
            f"would add little ({value})."
        ),
        "priced out": (
            f"You get no boosted impressions from the {pool_title} pool this period: your "
            f"first 1,000 would bring about {marginal:.2f} follows, less than the pool's price "
            f"of {threshold:.2f} per 1,000."
        ),
        "explored": (
            f"You get {figures}: on your estimated curve the first 1,000 would bring about "
            f"{marginal:.2f} follows, less than the pool's price of {threshold:.2f} per 1,000, "
            "but the curve is uncertain enough that boosting you now teaches the pool most."
        ),
        "no boostable work": (
            f"You get no boosted impressions from the {pool_title} pool this period: you have "
            "no work the feed can boost (none published, or all judged duplicates), so the "
            "pool's traffic goes to creators who can use it. Publish an original work to be "
            "planned from the next period."
        ),
    }[bound]
    return AllocationWhy(
        sentence=sentence,
        allocated_per_day=allocated,
        explored_per_day=explored,
        saturation_follows=a,
        scale_impressions=s,
        expected_follows_per_day=expected,
        marginal_follows_per_1000=marginal,
        pool_price_per_1000=pool_price,
        vertical_price_per_1000=vertical_price,
        floor_per_day=floor,
        cap_per_day=cap,
        bound=bound,
        weight=weight if operator else None,
    )
