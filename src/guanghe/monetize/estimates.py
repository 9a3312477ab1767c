"""What authorising is worth: each creator's profile views priced at the market's rates.

From the last 28 days of events: profile views are estimated from plays at the rate observed
on authorised profiles (ad impressions per play); the market's ad revenue per view is what
advertisers paid per estimated view of an authorised profile, times the creator's share; the
commission per view is what product-displaying creators of the same vertical earned per view
(the whole platform's rate where a vertical has too few views).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
#: A vertical's own commission rate is used once its displaying creators had this many views.
MIN_VERTICAL_VIEWS = 1_000


@dataclass(frozen=True, slots=True)
class EstimateInputs:
    """Per-creator arrays of shape (n,) over the last 28 days."""

    vertical: Ints
    plays: Ints
    ad_impressions: Ints
    ad_charged_fen: Ints
    commission_fen: Ints
    profile_ads: Bools
    product_display: Bools


@dataclass(frozen=True, slots=True)
class EstimateResult:
    profile_views: Ints
    profile_ads_fen: Ints
    product_display_fen: Ints
    basis: str


def estimate_earnings(inputs: EstimateInputs, *, creator_ad_share_bp: int) -> EstimateResult:
    """Estimated views and earnings (fen, before any institution's split) per creator."""
    x = inputs
    ads_plays = int(x.plays[x.profile_ads].sum())
    view_rate = int(x.ad_impressions[x.profile_ads].sum()) / ads_plays if ads_plays else 0.0
    views = np.rint(x.plays * view_rate).astype(np.int64)
    ad_views = int(views[x.profile_ads].sum())
    ad_per_view = int(x.ad_charged_fen[x.profile_ads].sum()) / ad_views if ad_views else 0.0
    ads = np.floor(views * ad_per_view * creator_ad_share_bp / 10_000).astype(np.int64)

    shown = x.product_display & (views > 0)
    size = int(x.vertical.max()) + 1 if x.vertical.size else 1
    v_views = np.bincount(x.vertical[shown], weights=views[shown], minlength=size)
    v_commission = np.bincount(x.vertical[shown], weights=x.commission_fen[shown], minlength=size)
    overall = v_commission.sum() / v_views.sum() if v_views.sum() else 0.0
    rate = np.where(v_views >= MIN_VERTICAL_VIEWS, v_commission / np.maximum(v_views, 1), overall)
    products = np.floor(views * rate[x.vertical]).astype(np.int64)
    basis = (
        f"{view_rate:.4f} profile views per play; ads {ad_per_view * 1000:.0f} fen per "
        f"thousand views at a {creator_ad_share_bp / 100:g}% share; commission "
        f"{overall * 1000:.0f} fen per thousand views across the platform"
    )
    return EstimateResult(views, ads, products, basis)
