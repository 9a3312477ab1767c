"""Users with one role each, and bearer tokens of which only a SHA-256 digest is stored;
operators list and revoke them."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from guanghe.errors import InvalidInput, NotFound, Unauthenticated
from guanghe.store import Advertiser, ApiToken, Creator, Institution, Merchant, User
from guanghe.vocabulary import ROLES

TOKEN_PREFIX = "gh_"

#: Roles that act for a subject, and the table the subject id must exist in (an agent acts
#: for the institution it belongs to).
_SUBJECT_TABLES: dict[str, type[Creator | Institution | Advertiser | Merchant]] = {
    "creator": Creator,
    "institution": Institution,
    "agent": Institution,
    "advertiser": Advertiser,
    "merchant": Merchant,
}
#: Tokens listed per page at most.
MAX_TOKEN_PAGE = 1_000


@dataclass(frozen=True, slots=True)
class TokenView:
    """A token as operators see it (never the token itself): whose it is and whether it is
    revoked."""

    id: int
    user_id: int
    name: str
    role: str
    subject_id: int | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a user with one role, acting for ``subject_id`` if any."""

    user_id: int
    role: str
    subject_id: int | None


def create_token(
    session: Session, *, role: str, subject_id: int | None, name: str, now: dt.datetime
) -> tuple[Principal, str]:
    """Create a user with ``role`` and a fresh bearer token for it.

    Returns the principal and the token; the token is shown once and only its digest kept.
    Raises :class:`InvalidInput` for an unknown role or a missing subject, :class:`NotFound`
    for a subject that does not exist.
    """
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    if role in _SUBJECT_TABLES:
        if subject_id is None:
            raise InvalidInput(f"role {role!r} needs --subject (the {role} id it acts for)")
        if session.get(_SUBJECT_TABLES[role], subject_id) is None:
            raise NotFound(f"{role} {subject_id} does not exist")
    elif subject_id is not None:
        raise InvalidInput(f"role {role!r} acts for the whole platform; it takes no subject")
    user = User(name=name, role=role, subject_id=subject_id, created_at=now)
    session.add(user)
    session.flush()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_sha256=_digest(token), created_at=now))
    session.flush()
    return Principal(user_id=user.id, role=role, subject_id=subject_id), token


def authenticate(session: Session, token: str | None) -> Principal:
    """The principal a bearer token belongs to; :class:`Unauthenticated` if none."""
    if not token:
        raise Unauthenticated("missing bearer token")
    row = session.execute(
        select(User.id, User.role, User.subject_id)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_sha256 == _digest(token), ApiToken.revoked_at.is_(None))
    ).one_or_none()
    if row is None:
        raise Unauthenticated("unknown or revoked token")
    return Principal(user_id=row.id, role=row.role, subject_id=row.subject_id)


def list_tokens(
    session: Session, *, after_id: int = 0, limit: int = MAX_TOKEN_PAGE
) -> list[TokenView]:
    """Tokens with an id above ``after_id``, oldest first, at most ``limit`` of them."""
    if not 1 <= limit <= MAX_TOKEN_PAGE:
        raise InvalidInput(f"limit must be 1..{MAX_TOKEN_PAGE}, not {limit}")
    rows = session.execute(
        _views().where(ApiToken.id > after_id).order_by(ApiToken.id).limit(limit)
    ).all()
    return [_view(row) for row in rows]


def revoke_token(session: Session, token_id: int, *, now: dt.datetime) -> TokenView:
    """Revoke token ``token_id`` from ``now`` on (a token already revoked keeps its time);
    :class:`NotFound` if there is no such token."""
    token = session.get(ApiToken, token_id, with_for_update=True)
    if token is None:
        raise NotFound(f"token {token_id} does not exist")
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()
    row = session.execute(_views().where(ApiToken.id == token_id)).one()
    return _view(row)


def _views() -> Select[int, int, str, str, int | None, dt.datetime, dt.datetime | None]:
    return select(
        ApiToken.id,
        User.id,
        User.name,
        User.role,
        User.subject_id,
        ApiToken.created_at,
        ApiToken.revoked_at,
    ).join(User, User.id == ApiToken.user_id)


def _view(row: Row[int, int, str, str, int | None, dt.datetime, dt.datetime | None]) -> TokenView:
    token_id, user_id, name, role, subject_id, created_at, revoked_at = row
    return TokenView(token_id, user_id, name, role, subject_id, created_at, revoked_at)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
