"""The relational store as ingest's referee: which creators, works, campaigns and products
exist."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.store import Campaign, Creator, Product, Work

_CHUNK = 5_000


class StoreReferents:
    """Answers :class:`guanghe.events.ingest.Referents` questions from a session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def unknown_creators(self, creator_ids: list[int]) -> set[int]:
        known: set[int] = set()
        for chunk in _chunks(creator_ids):
            known.update(self._session.scalars(select(Creator.id).where(Creator.id.in_(chunk))))
        return set(creator_ids) - known

    def work_owners(self, work_ids: list[int]) -> dict[int, int]:
        owners: dict[int, int] = {}
        for chunk in _chunks(work_ids):
            rows = self._session.execute(select(Work.id, Work.creator_id).where(Work.id.in_(chunk)))
            owners.update({row.id: row.creator_id for row in rows})
        return owners

    def unknown_campaigns(self, campaign_ids: list[int]) -> set[int]:
        known: set[int] = set()
        for chunk in _chunks(campaign_ids):
            known.update(self._session.scalars(select(Campaign.id).where(Campaign.id.in_(chunk))))
        return set(campaign_ids) - known

    def unknown_products(self, product_ids: list[int]) -> set[int]:
        known: set[int] = set()
        for chunk in _chunks(product_ids):
            known.update(self._session.scalars(select(Product.id).where(Product.id.in_(chunk))))
        return set(product_ids) - known


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]
