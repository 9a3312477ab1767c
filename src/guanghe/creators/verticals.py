"""The vertical taxonomy, as stored."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

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
