"""Writing the cycle's results for serving: each creator's matched products and estimates.

Both are replaced whole for the day (a re-run of a date writes the same rows).
Lock requirement: inside a writer transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import Table, delete, insert
from sqlalchemy.orm import Session

from guanghe.monetize.estimates import EstimateResult
from guanghe.store import EarningsEstimate, ProductPlacement
from guanghe.store.bulk import execute_many

_CHUNK = 10_000
#: Rows are inserted through the table (Core executemany), not the ORM's bulk insert.
_PLACEMENTS = cast(Table, ProductPlacement.__table__)
_ESTIMATES = cast(Table, EarningsEstimate.__table__)


def replace_placements(
    session: Session,
    creator_id: npt.NDArray[np.int64],
    rank: npt.NDArray[np.int64],
    product_id: npt.NDArray[np.int64],
    score: npt.NDArray[np.float64],
    *,
    as_of: dt.date,
) -> int:
    """Replace every placement with the given rows; returns how many were written."""
    session.execute(delete(ProductPlacement))
    rows = [
        {"creator_id": c, "rank": r, "product_id": p, "score": s, "as_of": as_of}
        for c, r, p, s in zip(
            creator_id.tolist(), rank.tolist(), product_id.tolist(), score.tolist(), strict=True
        )
    ]
    for start in range(0, len(rows), _CHUNK):
        execute_many(session.connection(), insert(_PLACEMENTS), rows[start : start + _CHUNK])
    return len(rows)


def replace_estimates(
    session: Session,
    creator_id: npt.NDArray[np.int64],
    result: EstimateResult,
    *,
    as_of: dt.date,
) -> None:
    """Replace every creator's earnings estimate."""
    session.execute(delete(EarningsEstimate))
    rows = [
        {
            "creator_id": c,
            "as_of": as_of,
            "profile_views_28d": v,
            "profile_ads_fen_28d": a,
            "product_display_fen_28d": p,
            "basis": result.basis,
        }
        for c, v, a, p in zip(
            creator_id.tolist(),
            result.profile_views.tolist(),
            result.profile_ads_fen.tolist(),
            result.product_display_fen.tolist(),
            strict=True,
        )
    ]
    for start in range(0, len(rows), _CHUNK):
        execute_many(session.connection(), insert(_ESTIMATES), rows[start : start + _CHUNK])
