"""The vertical taxonomy, as stored."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.errors import InvalidInput
from guanghe.store import Vertical


@dataclass(frozen=True, slots=True)
class VerticalView:
    id: int
    slug: str
    name: str


def list_verticals(session: Session) -> list[VerticalView]:
    """Every vertical, in id order."""
    rows = session.execute(select(Vertical.id, Vertical.slug, Vertical.name).order_by(Vertical.id))
    return [VerticalView(*row) for row in rows]


def vertical_ids(session: Session, slugs: Sequence[str], *, field: str) -> tuple[int, ...]:
    """The ids of the verticals named ``slugs``, in order; :class:`InvalidInput` naming
    ``field`` and every unknown name."""
    known = {v.slug: v.id for v in list_verticals(session)}
    unknown = sorted({s for s in slugs if s not in known})
    if unknown:
        raise InvalidInput(
            f"{field}: unknown verticals {unknown}; GET /v1/verticals lists the names"
        )
    return tuple(known[s] for s in slugs)
