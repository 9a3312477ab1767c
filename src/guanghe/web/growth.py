"""The dashboard's growth views: a creator's tier, rights and path to the next tier; the
operators' count of creators per tier."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from fastapi import Request
from sqlalchemy.orm import Session

from guanghe import community, creators
from guanghe.access import Principal
from guanghe.errors import NotFound
from guanghe.http.deps import get_runtime

#: How the page names each tier requirement.
REQUIREMENT_LABELS: Final = {
    "min_followers": "Followers",
    "min_quality": "Quality score",
    "min_works_28d": "Works in 28 days",
    "min_active_days_28d": "Days with a work in 28 days",
    "min_continuous_months": "Consecutive months with a work",
}


def creator_context(request: Request, session: Session, principal: Principal) -> dict[str, Any]:
    """``growth``: the signed-in creator's growth view, ``None`` before their first assessment;
    ``next_tier_lessons``: the lessons addressing what the next tier still needs."""
    assert principal.subject_id is not None
    data_dir = _data_dir(request)
    try:
        growth = creators.creator_growth(
            session,
            principal,
            principal.subject_id,
            snapshots=data_dir / "snapshots",
            rules=creators.load_rules(creators.rules_path(data_dir)),
        )
    except NotFound:
        growth = None
    lessons = () if growth is None else community.lessons_toward_next_tier(session, growth)
    return {
        "growth": growth,
        "requirement_labels": REQUIREMENT_LABELS,
        "next_tier_lessons": lessons,
    }


def operator_context(request: Request, principal: Principal) -> dict[str, Any]:
    """``tier_counts``: how many creators hold each tier."""
    data_dir = _data_dir(request)
    counts = creators.tier_counts(
        principal,
        snapshots=data_dir / "snapshots",
        rules=creators.load_rules(creators.rules_path(data_dir)),
    )
    return {"tier_counts": counts}


def _data_dir(request: Request) -> Path:
    return get_runtime(request).settings.data_dir
