"""Reading the community: a board's threads (newest activity first) and a thread's page of
posts (oldest first) with their reactions. Hidden posts and threads are shown to operators
only, marked; to everyone else a hidden thread does not exist."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from guanghe import creators
from guanghe.access import Principal
from guanghe.community.members import check_reader
from guanghe.errors import InvalidInput, NotFound
from guanghe.pagination import Page, after_id, check_limit, decode_cursor, page_of
from guanghe.store import CommunityBoard, CommunityPost, CommunityReaction, CommunityThread

OPERATIONS_NAME = "Guanghe operations"


@dataclass(frozen=True, slots=True)
class ThreadView:
    id: int
    board_id: int
    board_slug: str
    title: str
    author: str
    author_creator_id: int | None
    created_at: dt.datetime
    last_post_at: dt.datetime
    post_count: int
    locked: bool
    answered: bool
    hidden: bool


@dataclass(frozen=True, slots=True)
class PostView:
    id: int
    thread_id: int
    reply_to_id: int | None
    author: str
    author_creator_id: int | None
    official: bool
    body_html: str
    body_markdown: str
    hidden: bool
    created_at: dt.datetime
    reactions: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ThreadPage:
    thread: ThreadView
    posts: Page[PostView]


def author_name(handles: dict[int, str], creator_id: int | None) -> str:
    """How an author is shown: the creator's handle, or the platform's name for operators."""
    if creator_id is None:
        return OPERATIONS_NAME
    return "@" + handles.get(creator_id, str(creator_id))


def list_threads(
    session: Session,
    principal: Principal,
    board_id: int,
    *,
    cursor: str | None = None,
    limit: int = 30,
) -> Page[ThreadView]:
    """The visible threads of ``board_id``, newest activity first."""
    check_reader(principal)
    check_limit(limit)
    board = session.get(CommunityBoard, board_id)
    if board is None:
        raise NotFound(f"board {board_id} does not exist")
    query = select(CommunityThread).where(CommunityThread.board_id == board_id)
    if principal.role != "operator":
        query = query.where(CommunityThread.hidden.is_(False))
    if cursor is not None:
        at, last_id = decode_cursor(cursor, 2)
        try:
            moment = dt.datetime.fromisoformat(str(at))
        except ValueError as exc:
            raise InvalidInput("cursor is malformed") from exc
        if moment.tzinfo is None:
            raise InvalidInput("cursor is malformed")
        query = query.where(
            tuple_(CommunityThread.last_post_at, CommunityThread.id) < (moment, last_id)
        )
    rows = (
        session.execute(
            query.order_by(CommunityThread.last_post_at.desc(), CommunityThread.id.desc()).limit(
                limit + 1
            )
        )
        .scalars()
        .all()
    )
    handles = creators.handles_of(session, {t.creator_id for t in rows if t.creator_id})
    views = [thread_view(t, board.slug, handles) for t in rows]
    return page_of(views, limit, lambda t: [t.last_post_at.isoformat(), t.id])


def thread_page(
    session: Session,
    principal: Principal,
    thread_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> ThreadPage:
    """A thread and a page of its posts, oldest first; :class:`NotFound` for an unknown thread
    or, but for operators, a hidden one."""
    check_reader(principal)
    check_limit(limit)
    operator = principal.role == "operator"
    found = session.execute(
        select(CommunityThread, CommunityBoard.slug)
        .join(CommunityBoard, CommunityBoard.id == CommunityThread.board_id)
        .where(CommunityThread.id == thread_id)
    ).one_or_none()
    if found is None or (found[0].hidden and not operator):
        raise NotFound(f"thread {thread_id} does not exist")
    thread, slug = found
    query = select(CommunityPost).where(CommunityPost.thread_id == thread_id)
    if not operator:
        query = query.where(CommunityPost.hidden.is_(False))
    after = after_id(cursor)
    if after is not None:
        query = query.where(CommunityPost.id > after)
    posts = session.execute(query.order_by(CommunityPost.id).limit(limit + 1)).scalars().all()
    shown = posts[:limit]
    reactions = _reactions(session, [p.id for p in shown])
    authors = {p.creator_id for p in shown if p.creator_id} | (
        {thread.creator_id} if thread.creator_id else set()
    )
    handles = creators.handles_of(session, authors)
    views = [post_view(p, handles, reactions.get(p.id, {})) for p in posts]
    return ThreadPage(thread_view(thread, slug, handles), page_of(views, limit, lambda p: [p.id]))


def thread_view(thread: CommunityThread, board_slug: str, handles: dict[int, str]) -> ThreadView:
    return ThreadView(
        id=thread.id,
        board_id=thread.board_id,
        board_slug=board_slug,
        title=thread.title,
        author=author_name(handles, thread.creator_id),
        author_creator_id=thread.creator_id,
        created_at=thread.created_at,
        last_post_at=thread.last_post_at,
        post_count=thread.post_count,
        locked=thread.locked,
        answered=thread.answered,
        hidden=thread.hidden,
    )


def post_view(post: CommunityPost, handles: dict[int, str], reactions: dict[str, int]) -> PostView:
    return PostView(
        id=post.id,
        thread_id=post.thread_id,
        reply_to_id=post.reply_to_id,
        author=author_name(handles, post.creator_id),
        author_creator_id=post.creator_id,
        official=post.official,
        body_html=post.body_html,
        body_markdown=post.body_markdown,
        hidden=post.hidden,
        created_at=post.created_at,
        reactions=reactions,
    )


def _reactions(session: Session, post_ids: list[int]) -> dict[int, dict[str, int]]:
    if not post_ids:
        return {}
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = session.execute(
        select(CommunityReaction.post_id, CommunityReaction.kind, func.count())
        .where(CommunityReaction.post_id.in_(post_ids))
        .group_by(CommunityReaction.post_id, CommunityReaction.kind)
    )
    for post_id, kind, count in rows:
        counts[post_id][kind] = int(count)
    return dict(counts)
