"""The profile-slot auction: generalised second price with a quality factor, and pacing.

Each eligible campaign bids an eCPM (fen per thousand impressions): a CPM bid as is, a CPC bid
times its predicted click-through rate times 1,000. Campaigns are ranked by
``score = ecpm × quality``; the one ranked ``i`` pays the least eCPM that would still have
beaten the one ranked ``i + 1`` (``score[i+1] / quality[i]``, rounded up to a whole fen per
thousand), never more than its own bid and never less than the floor. The whole ranking is
returned with each rank's price so the caller can move down it when a budget reservation
fails.

Quality is the campaign's smoothed click-through rate relative to the platform's prior,
square-rooted and clipped (``QUALITY_RANGE``): engaging creatives win cheaper, a bad one
cannot buy the slot by bid alone, and no campaign's quality can dominate.

References: Edelman, Ostrovsky & Schwarz (2007), "Internet Advertising and the Generalized
Second-Price Auction"; Varian (2007), "Position Auctions".
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from guanghe.errors import InvalidInput

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

PRIOR_CTR: Final = 0.02
PRIOR_IMPRESSIONS: Final = 500.0
QUALITY_RANGE: Final = (0.5, 2.0)
#: Even pacing lets spend run ahead of the straight line by this much of the schedule.
PACING_SLACK: Final = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Ranking:
    """Candidates in rank order (indices into the inputs) and the eCPM each would pay."""

    order: Ints
    price_ecpm_fen: Ints


def predicted_ctr(impressions: Ints, clicks: Ints) -> Floats:
    """Click-through rate shrunk towards :data:`PRIOR_CTR` by :data:`PRIOR_IMPRESSIONS`."""
    imps = np.asarray(impressions, dtype=np.float64)
    return (np.asarray(clicks, dtype=np.float64) + PRIOR_CTR * PRIOR_IMPRESSIONS) / (
        imps + PRIOR_IMPRESSIONS
    )


def quality_factor(ctr: Floats) -> Floats:
    """``sqrt(ctr / PRIOR_CTR)`` clipped to :data:`QUALITY_RANGE`."""
    return np.clip(np.sqrt(np.asarray(ctr) / PRIOR_CTR), *QUALITY_RANGE)


def bid_ecpm(billing: list[str], bid_fen: Ints, ctr: Floats) -> Floats:
    """eCPM bids (fen per thousand impressions): CPM bids as is, CPC bids × CTR × 1000."""
    cpc = np.array([b == "cpc" for b in billing], dtype=bool)
    bids = np.asarray(bid_fen, dtype=np.float64)
    return np.where(cpc, bids * np.asarray(ctr) * 1_000.0, bids)


def rank_bids(bid_ecpm_fen: Floats, quality: Floats, *, floor_ecpm_fen: int) -> Ranking:
    """Rank candidates by ``bid × quality`` and price each rank by the next (GSP).

    Parameters
    ----------
    bid_ecpm_fen, quality
        Shape ``(n,)``: each candidate's eCPM bid and quality factor (> 0). Ties rank the
        lower index first, so callers pass candidates in a stable order (campaign id).
    floor_ecpm_fen
        Reserve price: bids under it do not take part; the last rank pays it.

    Returns
    -------
    Ranking
        ``order`` (indices, best first; only bids at or above the floor) and
        ``price_ecpm_fen`` (int, floor ≤ price ≤ own bid rounded up). O(n log n).
    """
    bids = np.asarray(bid_ecpm_fen, dtype=np.float64)
    q = np.asarray(quality, dtype=np.float64)
    if bids.shape != q.shape or bids.ndim != 1:
        raise InvalidInput("bids and quality must be vectors of one length")
    if np.any(q <= 0) or np.any(~np.isfinite(bids)):
        raise InvalidInput("quality must be positive and bids finite")
    eligible = np.flatnonzero(bids >= floor_ecpm_fen)
    scores = bids[eligible] * q[eligible]
    order = eligible[np.lexsort((eligible, -scores))]
    next_score = np.append(bids[order[1:]] * q[order[1:]], 0.0)
    runner_up = np.ceil(next_score / q[order] - 1e-9)
    price = np.minimum(np.maximum(runner_up, floor_ecpm_fen), np.ceil(bids[order] - 1e-9))
    return Ranking(order=order.astype(np.int64), price_ecpm_fen=price.astype(np.int64))


def spend_cap_millifen(
    budget_fen: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    now: dt.datetime,
    pacing: str,
    *,
    slack: dt.timedelta = PACING_SLACK,
) -> int:
    """What the campaign may have committed by ``now`` (milli-fen).

    ``asap``: the whole budget. ``even``: the budget prorated over the schedule, plus
    ``slack`` of run-ahead, so spend follows a straight line from start to end and a burst of
    views early in the schedule cannot take the budget meant for later.
    """
    total = budget_fen * 1_000
    if pacing == "asap":
        return total
    if pacing != "even":
        raise InvalidInput(f"unknown pacing {pacing!r}")
    if now < starts_at:
        return 0
    fraction = (now - starts_at + slack) / (ends_at - starts_at)
    return min(total, math.floor(total * fraction))
