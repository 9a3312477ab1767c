"""Creators by handle and the standing other capabilities judge them by: the handles of ids
(to name authors), the ids of handles (to resolve mentions), and a creator's join day and
current growth-rights tier."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.errors import NotFound
from guanghe.store import Creator, CreatorTierHistory


@dataclass(frozen=True, slots=True)
class Standing:
    """When a creator joined and their tier now (``None``: never assessed)."""

    creator_id: int
    handle: str
    joined_on: dt.date
    tier: str | None


def handles_of(session: Session, creator_ids: Collection[int]) -> dict[int, str]:
    """The handle of each of ``creator_ids`` that exists."""
    if not creator_ids:
        return {}
    rows = session.execute(
        select(Creator.id, Creator.handle).where(Creator.id.in_(sorted(set(creator_ids))))
    )
    return {int(i): str(h) for i, h in rows}


def ids_by_handle(session: Session, handles: Collection[str]) -> dict[str, int]:
    """The creator id of each of ``handles`` that names a creator."""
    if not handles:
        return {}
    rows = session.execute(
        select(Creator.handle, Creator.id).where(Creator.handle.in_(sorted(set(handles))))
    )
    return {str(h): int(i) for h, i in rows}


def standing_of(session: Session, creator_id: int) -> Standing:
    """``creator_id``'s join day and newest tier; :class:`NotFound` for an unknown id."""
    creator = session.execute(
        select(Creator.handle, Creator.joined_on).where(Creator.id == creator_id)
    ).one_or_none()
    if creator is None:
        raise NotFound(f"creator {creator_id} does not exist")
    tier = session.execute(
        select(CreatorTierHistory.tier)
        .where(CreatorTierHistory.creator_id == creator_id)
        .order_by(CreatorTierHistory.since.desc())
        .limit(1)
    ).scalar_one_or_none()
    return Standing(creator_id, creator.handle, creator.joined_on, tier)
