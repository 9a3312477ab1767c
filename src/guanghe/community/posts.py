"""Writing in the community: opening a thread, posting and replying, reacting.

Rules, in the order they are checked:

- creators post as themselves, operators as the platform; only an operator's post may be an
  official answer (and marks its thread answered);
- a hidden thread does not exist for a creator; a locked thread takes no posts
  (:class:`Conflict`); a reply answers a post of the same thread;
- a creator's post passes their trust level's checks
  (:func:`~guanghe.community.trust.check_may_post`:
  not suspended, under the anti-flood limits);
- the body is rendered and sanitised once (:mod:`~guanghe.community.markup`), segmented and
  indexed for search (:mod:`~guanghe.community.search`), and each creator it mentions is
  notified through the outbox: all in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe import creators
from guanghe.access import Principal
from guanghe.community.markup import mentioned_handles, render_markdown
from guanghe.community.members import Author, author_of, check_member, check_reader
from guanghe.community.search import add_to_index, index_tokens
from guanghe.community.threads import (
    PostView,
    ThreadView,
    author_name,
    post_view,
    thread_view,
)
from guanghe.community.trust import check_may_post, member_trust
from guanghe.errors import Conflict, Forbidden, InvalidInput, NotFound
from guanghe.notifications import NoticeDraft, notify_many
from guanghe.store import (
    REACTION_KINDS,
    CommunityBoard,
    CommunityPost,
    CommunityReaction,
    CommunityThread,
)
from guanghe.text import check_text

MAX_TITLE_CHARS: Final = 200
MAX_BODY_CHARS: Final = 10_000
_EXCERPT_CHARS: Final = 300


def open_thread(
    session: Session,
    principal: Principal,
    board_id: int,
    title: str,
    body: str,
    *,
    tier_order: Sequence[str],
    now: dt.datetime,
) -> tuple[ThreadView, PostView]:
    """A new thread on ``board_id`` with its opening post."""
    author = author_of(principal)
    check_reader(principal)
    title = check_text(title.strip(), field="title", max_chars=MAX_TITLE_CHARS)
    if not title:
        raise InvalidInput("title must not be blank")
    body = _check_body(body)
    board = session.get(CommunityBoard, board_id)
    if board is None:
        raise NotFound(f"board {board_id} does not exist")
    _check_author(session, author, opens_thread=True, tier_order=tier_order, now=now)
    thread = CommunityThread(
        board_id=board_id,
        title=title,
        creator_id=author.creator_id,
        operator_id=author.operator_id,
        created_at=now,
        last_post_at=now,
        post_count=0,
        locked=False,
        hidden=False,
        answered=False,
    )
    session.add(thread)
    session.flush()
    post = _write_post(session, thread, author, body, None, official=False, now=now)
    handles = creators.handles_of(session, {author.creator_id} if author.creator_id else set())
    return thread_view(thread, board.slug, handles), post_view(post, handles, {})


def add_post(
    session: Session,
    principal: Principal,
    thread_id: int,
    body: str,
    *,
    reply_to_id: int | None = None,
    official: bool = False,
    tier_order: Sequence[str],
    now: dt.datetime,
) -> PostView:
    """A post in ``thread_id`` (a reply to ``reply_to_id`` when given)."""
    author = author_of(principal)
    if official and author.operator_id is None:
        raise Forbidden("only operators give official answers")
    body = _check_body(body)
    thread = session.get(CommunityThread, thread_id)
    if thread is None or (thread.hidden and author.operator_id is None):
        raise NotFound(f"thread {thread_id} does not exist")
    if thread.locked:
        raise Conflict(f"thread {thread_id} is locked")
    if reply_to_id is not None:
        parent = session.get(CommunityPost, reply_to_id)
        if parent is None or parent.thread_id != thread_id:
            raise InvalidInput(f"reply_to_id {reply_to_id} is not a post of thread {thread_id}")
    _check_author(session, author, opens_thread=False, tier_order=tier_order, now=now)
    post = _write_post(session, thread, author, body, reply_to_id, official=official, now=now)
    handles = creators.handles_of(session, {author.creator_id} if author.creator_id else set())
    return post_view(post, handles, {})


def react(
    session: Session, principal: Principal, post_id: int, kind: str, *, now: dt.datetime
) -> dict[str, int]:
    """Creator's reaction ``kind`` to a visible post (again: no change); the post's counts."""
    creator_id = check_member(principal)
    if kind not in REACTION_KINDS:
        raise InvalidInput(f"unknown reaction {kind!r}; expected one of {REACTION_KINDS}")
    visible_post(session, post_id)
    known = session.get(CommunityReaction, (post_id, creator_id, kind))
    if known is None:
        session.add(
            CommunityReaction(post_id=post_id, creator_id=creator_id, kind=kind, created_at=now)
        )
        session.flush()
    rows = session.execute(
        select(CommunityReaction.kind).where(CommunityReaction.post_id == post_id)
    ).scalars()
    counts: dict[str, int] = {}
    for name in rows:
        counts[name] = counts.get(name, 0) + 1
    return counts


def visible_post(session: Session, post_id: int) -> CommunityPost:
    """A post a member can see; :class:`NotFound` otherwise."""
    found = session.execute(
        select(CommunityPost)
        .join(CommunityThread, CommunityThread.id == CommunityPost.thread_id)
        .where(
            CommunityPost.id == post_id,
            CommunityPost.hidden.is_(False),
            CommunityThread.hidden.is_(False),
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"post {post_id} does not exist")
    return found


def _check_body(body: str) -> str:
    body = check_text(body, field="body", max_chars=MAX_BODY_CHARS)
    if not body.strip():
        raise InvalidInput("body must not be blank")
    return body


def _check_author(
    session: Session,
    author: Author,
    *,
    opens_thread: bool,
    tier_order: Sequence[str],
    now: dt.datetime,
) -> None:
    if author.creator_id is None:
        return
    member = member_trust(session, author.creator_id, tier_order=tier_order, now=now)
    check_may_post(session, member, opens_thread=opens_thread, now=now)


def _write_post(
    session: Session,
    thread: CommunityThread,
    author: Author,
    body: str,
    reply_to_id: int | None,
    *,
    official: bool,
    now: dt.datetime,
) -> CommunityPost:
    opening = thread.post_count == 0 and reply_to_id is None
    tokens = index_tokens(thread.title if opening else "", body)
    post = CommunityPost(
        thread_id=thread.id,
        reply_to_id=reply_to_id,
        creator_id=author.creator_id,
        operator_id=author.operator_id,
        body_markdown=body,
        body_html=render_markdown(body),
        search_tokens=tokens,
        official=official,
        hidden=False,
        created_at=now,
    )
    session.add(post)
    session.flush()
    add_to_index(session, post.id, tokens)
    thread.post_count += 1
    thread.last_post_at = now
    thread.answered = thread.answered or official
    _notify_mentions(session, thread, post, author, now=now)
    return post


def _notify_mentions(
    session: Session,
    thread: CommunityThread,
    post: CommunityPost,
    author: Author,
    *,
    now: dt.datetime,
) -> None:
    mentioned = creators.ids_by_handle(session, mentioned_handles(post.body_markdown))
    targets = sorted(set(mentioned.values()) - {author.creator_id})
    if not targets:
        return
    handles = creators.handles_of(session, {author.creator_id} if author.creator_id else set())
    who = author_name(handles, author.creator_id)
    excerpt = " ".join(post.body_markdown.split())[:_EXCERPT_CHARS]
    notify_many(
        session,
        [
            NoticeDraft(
                creator_id=target,
                kind="community_mention",
                subject=f"{who} mentioned you in “{thread.title}”"[:200],
                body=excerpt,
                dedupe_key=f"community-mention-{post.id}",
                data={"thread_id": thread.id, "post_id": post.id},
            )
            for target in targets
        ],
        now=now,
    )
