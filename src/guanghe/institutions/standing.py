"""What the cycle keeps of institutions: their creators' affiliation (from the contracts in
force) and their monthly level; and what institutions see of it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import Forbidden, NotFound
from guanghe.institutions.contracts import IN_FORCE_STATUSES, contract_book
from guanghe.institutions.levels import METRICS, LevelAssessment
from guanghe.store import (
    Creator,
    Institution,
    InstitutionContract,
    InstitutionLevel,
    Work,
    WorkOriginality,
)
from guanghe.store.bulk import execute_many


@dataclass(frozen=True, slots=True)
class InstitutionView:
    """An institution with its latest level (None before the cycle first judged it)."""

    id: int
    name: str
    founded_on: dt.date
    level: str | None
    level_month: dt.date | None
    metrics: dict[str, float]
    next_level: str | None
    shortfalls: list[dict[str, float | str]]
    creators: int


def contracted_on(session: Session, day: dt.date) -> dict[int, int]:
    """Creator -> institution of the contracts in force on ``day`` (an exclusive one first)."""
    c = InstitutionContract
    rows = session.execute(
        select(c.creator_id, c.institution_id)
        .where(
            c.status.in_(IN_FORCE_STATUSES),
            c.valid_from <= day,
            (c.valid_to.is_(None)) | (c.valid_to > day),
        )
        .order_by(c.creator_id, c.exclusive, c.valid_from, c.id)
    )
    return {int(creator): int(institution) for creator, institution in rows}


def sync_affiliations(session: Session, day: dt.date) -> int:
    """Point each contracted creator at its institution on ``day`` and clear creators whose
    contracts all ended before it; returns how many creators changed."""
    now_with = contracted_on(session, day)
    ended = set(
        session.scalars(
            select(InstitutionContract.creator_id).where(
                InstitutionContract.status == "ended", InstitutionContract.valid_to <= day
            )
        )
    ) - set(now_with)
    wanted = now_with | dict.fromkeys(ended, None)
    ids = sorted(wanted)
    changes: list[dict[str, int | None]] = []
    for start in range(0, len(ids), 5_000):
        for creator_id, current in session.execute(
            select(Creator.id, Creator.institution_id).where(
                Creator.id.in_(ids[start : start + 5_000])
            )
        ):
            if current != wanted[creator_id]:
                changes.append({"creator": creator_id, "institution": wanted[creator_id]})
    if changes:  # one executemany by primary key, not an ORM object per creator
        execute_many(
            session.connection(),
            update(Creator)
            .where(Creator.id == bindparam("creator"))
            .values(institution_id=bindparam("institution")),
            changes,
        )
    session.flush()
    return len(changes)


def duplicates_by_creator(session: Session, first: dt.datetime, end: dt.datetime) -> dict[int, int]:
    """Works published in ``[first, end)`` judged duplicates of another's, per creator."""
    rows = session.execute(
        select(Work.creator_id, func.count())
        .join(WorkOriginality, WorkOriginality.work_id == Work.id)
        .where(
            WorkOriginality.verdict == "duplicate",
            Work.published_at >= first,
            Work.published_at < end,
        )
        .group_by(Work.creator_id)
    )
    return {int(c): int(n) for c, n in rows}


def record_levels(
    session: Session, month: dt.date, levels: Sequence[LevelAssessment], *, now: dt.datetime
) -> int:
    """Keep each institution's level for ``month`` (a re-run replaces it)."""
    for item in levels:
        row = session.get(InstitutionLevel, (item.institution_id, month))
        document = {
            "metrics": item.metrics,
            "next_level": item.next_level,
            "shortfalls": [
                {"metric": s.metric, "required": s.required, "current": s.current}
                for s in item.shortfalls
            ],
        }
        if row is None:
            session.add(
                InstitutionLevel(
                    institution_id=item.institution_id,
                    month=month,
                    level=item.level,
                    metrics=document,
                    computed_at=now,
                )
            )
        else:
            row.level, row.metrics, row.computed_at = item.level, document, now
    session.flush()
    return len(levels)


def has_levels(session: Session, month: dt.date) -> bool:
    return (
        session.scalar(
            select(InstitutionLevel.month).where(InstitutionLevel.month == month).limit(1)
        )
        is not None
    )


def check_can_see_institution(session: Session, principal: Principal, institution_id: int) -> None:
    """Operators see every institution (404 for an id nothing has), an institution itself,
    an agent its own; 403 for the rest."""
    if principal.role in ("institution", "agent") and principal.subject_id == institution_id:
        return
    if principal.role != "operator":
        raise Forbidden(f"institution {institution_id} is not visible to this token")
    if session.get(Institution, institution_id) is None:
        raise NotFound(f"institution {institution_id} does not exist")


def list_institutions(
    session: Session, principal: Principal, *, after_id: int = 0, limit: int = 50
) -> list[InstitutionView]:
    """Institutions above ``after_id`` the caller may see, by id."""
    query = select(Institution.id).where(Institution.id > after_id).order_by(Institution.id)
    if principal.role != "operator":
        query = query.where(Institution.id == (principal.subject_id or 0))
        if principal.role not in ("institution", "agent"):
            return []
    ids = list(session.scalars(query.limit(limit)))
    return [institution_view(session, principal, i) for i in ids]


def institution_view(
    session: Session, principal: Principal, institution_id: int
) -> InstitutionView:
    """One institution: its latest level, metrics, and distance to the next level."""
    check_can_see_institution(session, principal, institution_id)
    row = session.get(Institution, institution_id)
    if row is None:
        raise NotFound(f"institution {institution_id} does not exist")
    level = session.scalars(
        select(InstitutionLevel)
        .where(InstitutionLevel.institution_id == institution_id)
        .order_by(InstitutionLevel.month.desc())
        .limit(1)
    ).one_or_none()
    creators = session.scalar(
        select(func.count()).select_from(Creator).where(Creator.institution_id == institution_id)
    )
    document = level.metrics if level else {}
    return InstitutionView(
        id=row.id,
        name=row.name,
        founded_on=row.founded_on,
        level=level.level if level else None,
        level_month=level.month if level else None,
        metrics={m: float(document.get("metrics", {}).get(m, 0.0)) for m in METRICS}
        if level
        else {},
        next_level=document.get("next_level"),
        shortfalls=list(document.get("shortfalls", [])),
        creators=int(creators or 0),
    )


@dataclass(frozen=True, slots=True)
class ContractedCreator:
    """One of an institution's creators, with the contract that binds it (if any)."""

    creator_id: int
    handle: str
    stage: str
    follower_count: int
    contract_id: int | None
    splits: dict[str, int]
    exclusive: bool
    valid_to: dt.date | None


def institution_creators(
    session: Session,
    principal: Principal,
    institution_id: int,
    day: dt.date,
    *,
    after_id: int = 0,
    limit: int = 50,
) -> list[ContractedCreator]:
    """The institution's creators above ``after_id`` by id, with their contracts on ``day``."""
    check_can_see_institution(session, principal, institution_id)
    rows = session.execute(
        select(Creator.id, Creator.handle, Creator.stage, Creator.follower_count)
        .where(Creator.institution_id == institution_id, Creator.id > after_id)
        .order_by(Creator.id)
        .limit(limit)
    ).all()
    book = contract_book(session, [r[0] for r in rows])
    found = []
    for creator_id, handle, stage, followers in rows:
        current = [
            c
            for c in book.by_creator.get(creator_id, [])
            if c.institution_id == institution_id and c.in_force(day)
        ]
        contract = current[0] if current else None
        found.append(
            ContractedCreator(
                creator_id,
                handle,
                stage,
                followers,
                contract.id if contract else None,
                dict(contract.splits) if contract else {},
                contract.exclusive if contract else False,
                contract.valid_to if contract else None,
            )
        )
    return found
