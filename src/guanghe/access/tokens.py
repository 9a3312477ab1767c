"""Users with one role each, and bearer tokens of which only a SHA-256 digest is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.errors import InvalidInput, NotFound, Unauthenticated
from guanghe.store import ApiToken, Creator, Institution, User
from guanghe.vocabulary import ROLES

TOKEN_PREFIX = "gh_"

#: Roles that act for a subject, and the table the subject id must exist in (None: any id,
#: the subject's own table arrives with its capability).
_SUBJECT_TABLES: dict[str, type[Creator] | type[Institution] | None] = {
    "creator": Creator,
    "institution": Institution,
    "advertiser": None,
    "merchant": None,
}


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
        table = _SUBJECT_TABLES[role]
        if table is not None and session.get(table, subject_id) is None:
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


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
