"""Advertisers and merchants: registered by operators, each the subject of its own role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import Conflict, Forbidden, InvalidInput, NotFound
from guanghe.store import Advertiser, Merchant

PartyTable = type[Advertiser] | type[Merchant]
_TABLES: dict[str, PartyTable] = {"advertiser": Advertiser, "merchant": Merchant}


@dataclass(frozen=True, slots=True)
class Party:
    """An advertiser or a merchant."""

    kind: str
    id: int
    name: str
    created_at: dt.datetime


def register_party(session: Session, kind: str, name: str, *, now: dt.datetime) -> Party:
    """Register an advertiser or merchant named ``name`` (unique per kind)."""
    table = _table(kind)
    name = name.strip()
    if not 1 <= len(name) <= 120:
        raise InvalidInput(f"an {kind} name is 1 to 120 characters")
    if session.scalar(select(table.id).where(table.name == name)) is not None:
        raise Conflict(f"an {kind} named {name!r} exists")
    row = (
        Advertiser(name=name, created_at=now)
        if kind == "advertiser"
        else Merchant(name=name, created_at=now)
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent registration took the name
        raise Conflict(f"an {kind} named {name!r} exists") from exc
    return Party(kind, row.id, row.name, row.created_at)


def get_party(session: Session, principal: Principal, kind: str, party_id: int) -> Party:
    """One advertiser or merchant, as seen by ``principal`` (operators, or the party itself)."""
    check_acts_for(principal, kind, party_id)
    table = _table(kind)
    row = session.execute(
        select(table.id, table.name, table.created_at).where(table.id == party_id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"{kind} {party_id} does not exist")
    return Party(kind, int(row[0]), str(row[1]), row[2])


def list_parties(session: Session, kind: str) -> list[Party]:
    """Every advertiser or merchant, in id order (for operators)."""
    table = _table(kind)
    rows = session.execute(select(table.id, table.name, table.created_at).order_by(table.id))
    return [Party(kind, int(i), str(n), c) for i, n, c in rows]


def check_acts_for(principal: Principal, kind: str, party_id: int) -> None:
    """Operators act for anyone; an advertiser or merchant token only for its own subject."""
    if principal.role == "operator":
        return
    if principal.role == kind and principal.subject_id == party_id:
        return
    if principal.role == kind:
        raise Forbidden(f"this {kind} token acts only for {kind} {principal.subject_id}")
    raise Forbidden(f"the {principal.role} role cannot act for an {kind}")


def require_party(session: Session, kind: str, party_id: int) -> None:
    """:class:`NotFound` unless the advertiser or merchant ``party_id`` is registered."""
    if session.get(_table(kind), party_id) is None:
        raise NotFound(f"{kind} {party_id} is not registered; an operator registers it first")


def _table(kind: str) -> PartyTable:
    if kind not in _TABLES:
        raise InvalidInput(f"unknown party kind {kind!r}")
    return _TABLES[kind]
