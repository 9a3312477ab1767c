"""Writing the cycle's results for serving: each creator's matched products and estimates.

Both are replaced whole for the day (a re-run of a date writes the same rows).
Lock requirement: inside a writer transaction.
"""

from __future__ import annotations

import datetime as dt
from itertools import repeat
from typing import cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import Table, delete, insert
from sqlalchemy.orm import Session

from guanghe.monetize.estimates import EstimateResult
from guanghe.store import EarningsEstimate, ProductPlacement
from guanghe.store.bulk import execute_many_tuples

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
    names = ("creator_id", "rank", "product_id", "score", "as_of")
    rows = list(
        zip(
            creator_id.tolist(),
            rank.tolist(),
            product_id.tolist(),
            score.tolist(),
            repeat(as_of),
            strict=False,  # as_of repeats for every row
        )
    )
    for start in range(0, len(rows), _CHUNK):
        execute_many_tuples(
            session.connection(), insert(_PLACEMENTS), names, rows[start : start + _CHUNK]
        )
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
    names = (
        "creator_id",
        "profile_views_28d",
        "profile_ads_fen_28d",
        "product_display_fen_28d",
        "as_of",
        "basis",
    )
    rows = list(
        zip(
            creator_id.tolist(),
            result.profile_views.tolist(),
            result.profile_ads_fen.tolist(),
            result.product_display_fen.tolist(),
            repeat(as_of),
            repeat(result.basis),
            strict=False,  # as_of and basis repeat for every row
        )
    )
    for start in range(0, len(rows), _CHUNK):
        execute_many_tuples(
            session.connection(), insert(_ESTIMATES), names, rows[start : start + _CHUNK]
        )
