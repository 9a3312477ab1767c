"""Creators' authorisations of profile-page ads and product display, with their history.

The current state lives in ``creator_monetization`` (read on every profile view, so an opt-out
takes effect on the very next one); every change is also appended to
``monetization_consents`` with its time and the user who made it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import Forbidden, InvalidInput, NotFound
from guanghe.store import Creator, CreatorMonetization, MonetizationConsent
from guanghe.store.monetize_tables import CONSENT_KINDS

MAX_HISTORY = 500


@dataclass(frozen=True, slots=True)
class Authorisations:
    """What a creator currently allows on their profile page."""

    creator_id: int
    profile_ads: bool
    product_display: bool
    updated_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class ConsentChange:
    """One change of one authorisation."""

    kind: str
    granted: bool
    changed_at: dt.datetime
    changed_by: int | None


def check_creator_access(session: Session, principal: Principal, creator_id: int) -> None:
    """Operators reach every creator; a creator only itself (another is :class:`Forbidden`)."""
    if principal.role == "operator":
        if session.get(Creator, creator_id) is None:
            raise NotFound(f"creator {creator_id} does not exist")
        return
    if principal.role != "creator":
        raise Forbidden(f"the {principal.role} role cannot manage creators' authorisations")
    if principal.subject_id != creator_id:
        raise Forbidden(f"this creator token acts only for creator {principal.subject_id}")


def authorisations(session: Session, creator_id: int) -> Authorisations:
    """The creator's current authorisations (both off until first granted)."""
    row = session.get(CreatorMonetization, creator_id)
    if row is None:
        return Authorisations(creator_id, False, False, None)
    return Authorisations(creator_id, row.profile_ads, row.product_display, row.updated_at)


def set_authorisation(
    session: Session,
    creator_id: int,
    kind: str,
    granted: bool,
    *,
    changed_by: int | None,
    now: dt.datetime,
) -> Authorisations:
    """Grant or withdraw ``kind`` for the creator; a change is recorded in the history, a
    repeat of the current state records nothing."""
    if kind not in CONSENT_KINDS:
        raise InvalidInput(f"unknown authorisation {kind!r}; expected one of {CONSENT_KINDS}")
    if session.get(Creator, creator_id) is None:
        raise NotFound(f"creator {creator_id} does not exist")
    row = session.get(CreatorMonetization, creator_id, with_for_update=True)
    if row is None:
        row = CreatorMonetization(
            creator_id=creator_id, profile_ads=False, product_display=False, updated_at=now
        )
        session.add(row)
    if getattr(row, kind) != granted:
        setattr(row, kind, granted)
        row.updated_at = now
        session.add(
            MonetizationConsent(
                creator_id=creator_id,
                kind=kind,
                granted=granted,
                changed_at=now,
                changed_by=changed_by,
            )
        )
    session.flush()
    return Authorisations(creator_id, row.profile_ads, row.product_display, row.updated_at)


def authorisation_history(
    session: Session, creator_id: int, *, limit: int = MAX_HISTORY
) -> list[ConsentChange]:
    """The creator's changes of authorisation, newest first."""
    if not 1 <= limit <= MAX_HISTORY:
        raise InvalidInput(f"limit must be between 1 and {MAX_HISTORY}")
    c = MonetizationConsent
    rows = session.scalars(
        select(c).where(c.creator_id == creator_id).order_by(c.id.desc()).limit(limit)
    )
    return [ConsentChange(r.kind, r.granted, r.changed_at, r.changed_by) for r in rows]
