"""Boards of the community: one per vertical or topic, made by operators."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanghe import creators
from guanghe.access import Principal
from guanghe.community.members import check_operator, check_reader
from guanghe.errors import Conflict, InvalidInput, NotFound
from guanghe.store import CommunityBoard, CommunityThread
from guanghe.text import check_text

SLUG: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@dataclass(frozen=True, slots=True)
class BoardSpec:
    slug: str
    title: str
    description: str = ""
    vertical: str | None = None


@dataclass(frozen=True, slots=True)
class BoardView:
    id: int
    slug: str
    title: str
    description: str
    vertical: str | None
    threads: int
    last_post_at: dt.datetime | None


def list_boards(session: Session, principal: Principal) -> list[BoardView]:
    """Every board with its count of visible threads and newest post time, in slug order."""
    check_reader(principal)
    return _boards(session, None)


def get_board(session: Session, principal: Principal, board_id: int) -> BoardView:
    """One board; :class:`NotFound` for an unknown id."""
    check_reader(principal)
    found = _boards(session, board_id)
    if not found:
        raise NotFound(f"board {board_id} does not exist")
    return found[0]


def create_board(
    session: Session, principal: Principal, spec: BoardSpec, *, now: dt.datetime
) -> BoardView:
    """A new board (operators); :class:`Conflict` when its slug is taken."""
    check_operator(principal)
    if not SLUG.match(spec.slug):
        raise InvalidInput("slug must be 1-40 lowercase letters, digits and hyphens")
    title = check_text(spec.title.strip(), field="title", max_chars=120)
    if not title:
        raise InvalidInput("title must not be blank")
    description = check_text(spec.description, field="description", max_chars=2_000)
    vertical_id = None
    if spec.vertical is not None:
        vertical_id = creators.vertical_ids(session, [spec.vertical], field="vertical")[0]
    taken = session.execute(
        select(CommunityBoard.id).where(CommunityBoard.slug == spec.slug)
    ).scalar_one_or_none()
    if taken is not None:
        raise Conflict(f"a board with the slug {spec.slug!r} exists (board {taken})")
    board = CommunityBoard(
        slug=spec.slug,
        title=title,
        description=description,
        vertical_id=vertical_id,
        created_at=now,
    )
    session.add(board)
    session.flush()
    return BoardView(board.id, board.slug, title, description, spec.vertical, 0, None)


def _boards(session: Session, board_id: int | None) -> list[BoardView]:
    slugs = {v.id: v.slug for v in creators.list_verticals(session)}
    visible = select(
        CommunityThread.board_id,
        func.count().label("threads"),
        func.max(CommunityThread.last_post_at).label("last_post_at"),
    ).where(CommunityThread.hidden.is_(False))
    if board_id is not None:
        visible = visible.where(CommunityThread.board_id == board_id)
    counts = visible.group_by(CommunityThread.board_id).subquery()
    query = (
        select(CommunityBoard, counts.c.threads, counts.c.last_post_at)
        .outerjoin(counts, counts.c.board_id == CommunityBoard.id)
        .order_by(CommunityBoard.slug)
    )
    if board_id is not None:
        query = query.where(CommunityBoard.id == board_id)
    return [
        BoardView(
            b.id,
            b.slug,
            b.title,
            b.description,
            slugs.get(b.vertical_id) if b.vertical_id is not None else None,
            int(threads or 0),
            last,
        )
        for b, threads, last in session.execute(query)
    ]
