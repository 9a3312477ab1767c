"""The dashboard's institution views: an institution's level and what it needs for the next,
its creators with their contracts' splits, and its Torch pool and how it was allocated."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.http.deps import get_runtime
from guanghe.institutions import standing, support

#: How the page names each level metric.
METRIC_LABELS = {
    "active_creators": "Active creators",
    "follower_growth": "Follower growth",
    "quality": "Mean quality",
    "originality": "Originality",
    "earnings_fen": "Earnings (fen)",
    "retention": "Retention",
}


def institution_context(request: Request, session: Session, principal: Principal) -> dict[str, Any]:
    """``standing`` (level, metrics, shortfalls), ``signed`` (creators with splits),
    ``support`` and ``allocation`` of the signed-in institution."""
    assert principal.subject_id is not None
    institution_id = principal.subject_id
    today = dt.datetime.now(dt.UTC).date()
    solved, allocation = support.pool_allocation(
        get_runtime(request).settings.snapshots_dir, institution_id, today
    )
    return {
        "standing": standing.institution_view(session, principal, institution_id),
        "signed": standing.institution_creators(
            session, principal, institution_id, today, limit=50
        ),
        "support": support.support_of(session, principal, institution_id, today),
        "allocation_solved_on": solved,
        "allocation": sorted(allocation, key=lambda r: -int(r["impressions"]))[:50],
        "metric_labels": METRIC_LABELS,
    }
