"""Institution contracts: which institution takes what split of a creator's earnings, when."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.store import InstitutionContract

_CHUNK = 5_000


@dataclass(frozen=True, slots=True)
class Contract:
    """``split_bp`` of the creator's earnings to the institution on ``valid_from <= day <
    valid_to`` (no end when ``valid_to`` is None)."""

    institution_id: int
    creator_id: int
    split_bp: int
    valid_from: dt.date
    valid_to: dt.date | None

    def in_force(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True, slots=True)
class ContractBook:
    """The contracts of a set of creators, answering which one is in force on a day."""

    by_creator: dict[int, list[Contract]]

    def in_force(self, creator_id: int, day: dt.date) -> Contract | None:
        """The contract in force for the creator on ``day``; the latest-starting one if
        periods overlap."""
        current = [c for c in self.by_creator.get(creator_id, []) if c.in_force(day)]
        return max(current, key=lambda c: c.valid_from) if current else None


def contract_book(session: Session, creator_ids: Iterable[int]) -> ContractBook:
    """All contracts of ``creator_ids``."""
    wanted = sorted(set(creator_ids))
    by_creator: dict[int, list[Contract]] = {}
    c = InstitutionContract
    for start in range(0, len(wanted), _CHUNK):
        rows = session.execute(
            select(c.institution_id, c.creator_id, c.split_bp, c.valid_from, c.valid_to).where(
                c.creator_id.in_(wanted[start : start + _CHUNK])
            )
        )
        for row in rows:
            by_creator.setdefault(row.creator_id, []).append(Contract(*row))
    return ContractBook(by_creator)
