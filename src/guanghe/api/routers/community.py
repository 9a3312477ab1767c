"""``/v1/community/...``: boards, threads, posts, reactions, search, reports and moderation.

Operators, creators, institutions and agents read; creators post as themselves and operators
as the platform (official answers); creators react and report; operators moderate.
Advertisers, merchants and the ranker have no access (403).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from guanghe import community, creators
from guanghe.api.fields import (
    BodyId,
    Cursor,
    IdPath,
    IdQuery,
    StorableText,
    StrictBool,
    StrictInt,
)
from guanghe.http.deps import PrincipalDep, SessionDep, get_runtime
from guanghe.pagination import MAX_PAGE
from guanghe.runtime import Runtime

router = APIRouter(tags=["community"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Reason = Annotated[StorableText, Field(min_length=1, max_length=1_000)]


class BoardIn(BaseModel):
    slug: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
    title: StorableText = Field(min_length=1, max_length=120)
    description: StorableText = Field(default="", max_length=2_000)
    vertical: Annotated[str, Field(min_length=1, max_length=40)] | None = Field(
        default=None, description="the vertical's slug; none for a topic board"
    )


class BoardOut(BaseModel):
    id: int
    slug: str
    title: str
    description: str
    vertical: str | None
    threads: int
    last_post_at: dt.datetime | None


class ThreadOut(BaseModel):
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
    hidden: bool = Field(description="shown to operators only")


class ThreadList(BaseModel):
    items: list[ThreadOut]
    next_cursor: str | None


class PostOut(BaseModel):
    id: int
    thread_id: int
    reply_to_id: int | None
    author: str
    author_creator_id: int | None
    official: bool
    body_html: str = Field(description="sanitised HTML rendered from body_markdown")
    body_markdown: str
    hidden: bool
    created_at: dt.datetime
    reactions: dict[str, int]


class ThreadPageOut(BaseModel):
    thread: ThreadOut
    posts: list[PostOut]
    next_cursor: str | None


class ThreadIn(BaseModel):
    title: StorableText = Field(min_length=1, max_length=200)
    body: StorableText = Field(min_length=1, max_length=10_000, description="Markdown")


class OpenedOut(BaseModel):
    thread: ThreadOut
    post: PostOut


class PostIn(BaseModel):
    body: StorableText = Field(min_length=1, max_length=10_000, description="Markdown")
    reply_to_id: BodyId | None = None
    official: StrictBool = Field(default=False, description="an operator's official answer")


class ReactionIn(BaseModel):
    kind: Literal["like", "thanks", "helpful"]


class ReactionsOut(BaseModel):
    post_id: int
    reactions: dict[str, int]


class ReasonIn(BaseModel):
    reason: Reason


class ReportOut(BaseModel):
    id: int
    post_id: int
    thread_id: int
    thread_title: str
    post_author: str
    post_excerpt: str
    reporter: str
    reason: str
    created_at: dt.datetime
    resolution: str | None
    resolved_at: dt.datetime | None


class ReportList(BaseModel):
    items: list[ReportOut]
    next_cursor: str | None


class ModerationOut(BaseModel):
    id: int
    action: str
    operator_id: int
    reason: str
    post_id: int | None
    thread_id: int | None
    creator_id: int | None
    until: dt.datetime | None
    created_at: dt.datetime


class ModerationList(BaseModel):
    items: list[ModerationOut]
    next_cursor: str | None


class SuspensionIn(BaseModel):
    hours: Annotated[StrictInt, Field(ge=1, le=24 * 365)]
    reason: Reason


class SuspensionOut(BaseModel):
    until: dt.datetime
    reason: str


class TrustOut(BaseModel):
    level: int
    name: str
    posts_per_hour: int
    threads_per_day: int


class MemberOut(BaseModel):
    creator_id: int
    handle: str
    tier: str | None
    trust: TrustOut
    reasons: list[str]
    suspension: SuspensionOut | None


class SearchHitOut(BaseModel):
    post_id: int
    thread_id: int
    thread_title: str
    board_slug: str
    author: str
    official: bool
    snippet: str
    created_at: dt.datetime


class SearchPage(BaseModel):
    items: list[SearchHitOut]
    next_cursor: str | None


def _tiers(runtime: Runtime) -> tuple[str, ...]:
    rules = creators.load_rules(creators.rules_path(runtime.settings.data_dir))
    return tuple(t.name for t in rules.tiers)


def _thread(view: community.ThreadView) -> ThreadOut:
    return ThreadOut.model_validate(view, from_attributes=True)


def _post(view: community.PostView) -> PostOut:
    return PostOut.model_validate(view, from_attributes=True)


def _entry(view: community.ModerationView) -> ModerationOut:
    return ModerationOut.model_validate(view, from_attributes=True)


@router.get("/v1/community/boards")
def list_boards(session: SessionDep, principal: PrincipalDep) -> list[BoardOut]:
    """Every board with its visible threads' count and newest post time."""
    views = community.list_boards(session, principal)
    return [BoardOut.model_validate(v, from_attributes=True) for v in views]


@router.post("/v1/community/boards", status_code=201)
def create_board(runtime: RuntimeDep, principal: PrincipalDep, body: BoardIn) -> BoardOut:
    """A new board for a vertical or a topic (operators; 409 when the slug is taken)."""
    spec = community.BoardSpec(body.slug, body.title, body.description, body.vertical)
    now = dt.datetime.now(dt.UTC)
    view = runtime.write(lambda s: community.create_board(s, principal, spec, now=now))
    return BoardOut.model_validate(view, from_attributes=True)


@router.get("/v1/community/boards/{board_id}/threads")
def list_threads(
    session: SessionDep,
    principal: PrincipalDep,
    board_id: IdPath,
    cursor: Cursor = None,
    limit: Limit = 30,
) -> ThreadList:
    """The board's threads, newest activity first."""
    page = community.list_threads(session, principal, board_id, cursor=cursor, limit=limit)
    return ThreadList(items=[_thread(t) for t in page.items], next_cursor=page.next_cursor)


@router.post("/v1/community/boards/{board_id}/threads", status_code=201)
def open_thread(
    runtime: RuntimeDep, principal: PrincipalDep, board_id: IdPath, body: ThreadIn
) -> OpenedOut:
    """Open a thread with its first post (creators as themselves, operators; 429 over the
    trust level's limits, with Retry-After; 403 while suspended)."""
    tiers, now = _tiers(runtime), dt.datetime.now(dt.UTC)
    thread, post = runtime.write(
        lambda s: community.open_thread(
            s, principal, board_id, body.title, body.body, tier_order=tiers, now=now
        )
    )
    return OpenedOut(thread=_thread(thread), post=_post(post))


@router.get("/v1/community/threads/{thread_id}")
def thread_page(
    session: SessionDep,
    principal: PrincipalDep,
    thread_id: IdPath,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ThreadPageOut:
    """A thread and a page of its posts, oldest first (hidden ones for operators only)."""
    page = community.thread_page(session, principal, thread_id, cursor=cursor, limit=limit)
    return ThreadPageOut(
        thread=_thread(page.thread),
        posts=[_post(p) for p in page.posts.items],
        next_cursor=page.posts.next_cursor,
    )


@router.post("/v1/community/threads/{thread_id}/posts", status_code=201)
def add_post(
    runtime: RuntimeDep, principal: PrincipalDep, thread_id: IdPath, body: PostIn
) -> PostOut:
    """Post in a thread, or reply to one of its posts (409 when the thread is locked)."""
    tiers, now = _tiers(runtime), dt.datetime.now(dt.UTC)
    view = runtime.write(
        lambda s: community.add_post(
            s,
            principal,
            thread_id,
            body.body,
            reply_to_id=body.reply_to_id,
            official=body.official,
            tier_order=tiers,
            now=now,
        )
    )
    return _post(view)


@router.post("/v1/community/posts/{post_id}/reactions")
def react(
    runtime: RuntimeDep, principal: PrincipalDep, post_id: IdPath, body: ReactionIn
) -> ReactionsOut:
    """The creator reacts to a post (once per kind); the post's reaction counts."""
    now = dt.datetime.now(dt.UTC)
    counts = runtime.write(lambda s: community.react(s, principal, post_id, body.kind, now=now))
    return ReactionsOut(post_id=post_id, reactions=counts)


@router.post("/v1/community/posts/{post_id}/reports", status_code=201)
def report_post(
    runtime: RuntimeDep, principal: PrincipalDep, post_id: IdPath, body: ReasonIn
) -> ReportOut:
    """A creator reports a post to the operators (again: the first report)."""
    now = dt.datetime.now(dt.UTC)
    view = runtime.write(
        lambda s: community.report_post(s, principal, post_id, body.reason, now=now)
    )
    return ReportOut.model_validate(view, from_attributes=True)


@router.get("/v1/community/search")
def search(
    session: SessionDep,
    principal: PrincipalDep,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    board: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z0-9-]+$")] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SearchPage:
    """Visible posts holding every word of ``q`` (Chinese segmented), newest first."""
    page = community.search_posts(
        session, principal, q, board_slug=board, cursor=cursor, limit=limit
    )
    items = [SearchHitOut.model_validate(h, from_attributes=True) for h in page.items]
    return SearchPage(items=items, next_cursor=page.next_cursor)


@router.get("/v1/community/reports")
def list_reports(
    session: SessionDep,
    principal: PrincipalDep,
    status: Literal["open", "all"] = "open",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ReportList:
    """Members' reports, oldest first (operators)."""
    page = community.list_reports(
        session, principal, open_only=status == "open", cursor=cursor, limit=limit
    )
    items = [ReportOut.model_validate(r, from_attributes=True) for r in page.items]
    return ReportList(items=items, next_cursor=page.next_cursor)


@router.post("/v1/community/reports/{report_id}/dismiss")
def dismiss_report(
    runtime: RuntimeDep, principal: PrincipalDep, report_id: IdPath, body: ReasonIn
) -> ModerationOut:
    """Close a report without acting on its post (operators)."""
    now = dt.datetime.now(dt.UTC)
    return _entry(
        runtime.write(
            lambda s: community.dismiss_report(s, principal, report_id, body.reason, now=now)
        )
    )


@router.post("/v1/community/posts/{post_id}/hide")
def hide_post(
    runtime: RuntimeDep, principal: PrincipalDep, post_id: IdPath, body: ReasonIn
) -> ModerationOut:
    """Hide a post from pages and search at once (its thread too if it opens it)."""
    now = dt.datetime.now(dt.UTC)
    return _entry(
        runtime.write(lambda s: community.hide_post(s, principal, post_id, body.reason, now=now))
    )


@router.post("/v1/community/posts/{post_id}/restore")
def restore_post(
    runtime: RuntimeDep, principal: PrincipalDep, post_id: IdPath, body: ReasonIn
) -> ModerationOut:
    """Show a hidden post again (operators)."""
    now = dt.datetime.now(dt.UTC)
    return _entry(
        runtime.write(lambda s: community.restore_post(s, principal, post_id, body.reason, now=now))
    )


@router.post("/v1/community/threads/{thread_id}/lock")
def lock_thread(
    runtime: RuntimeDep, principal: PrincipalDep, thread_id: IdPath, body: ReasonIn
) -> ModerationOut:
    """Lock a thread: no more posts (operators)."""
    now = dt.datetime.now(dt.UTC)
    return _entry(
        runtime.write(
            lambda s: community.lock_thread(s, principal, thread_id, body.reason, now=now)
        )
    )


@router.post("/v1/community/threads/{thread_id}/unlock")
def unlock_thread(
    runtime: RuntimeDep, principal: PrincipalDep, thread_id: IdPath, body: ReasonIn
) -> ModerationOut:
    """Unlock a thread (operators)."""
    now = dt.datetime.now(dt.UTC)
    return _entry(
        runtime.write(
            lambda s: community.lock_thread(
                s, principal, thread_id, body.reason, locked=False, now=now
            )
        )
    )


@router.post("/v1/community/members/{creator_id}/suspensions", status_code=201)
def suspend_member(
    runtime: RuntimeDep, principal: PrincipalDep, creator_id: IdPath, body: SuspensionIn
) -> SuspensionOut:
    """Suspend a creator from posting for ``hours`` (operators)."""
    now = dt.datetime.now(dt.UTC)
    suspension = runtime.write(
        lambda s: community.suspend_member(
            s, principal, creator_id, body.hours, body.reason, now=now
        )
    )
    return SuspensionOut(until=suspension.until, reason=suspension.reason)


@router.get("/v1/community/members/{creator_id}")
def member(
    runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep, creator_id: IdPath
) -> MemberOut:
    """A creator's trust level, its limits and why, and any suspension in force (operators,
    the creator, their institution)."""
    creators.get_creator(session, principal, creator_id)
    trust = community.member_trust(
        session, creator_id, tier_order=_tiers(runtime), now=dt.datetime.now(dt.UTC)
    )
    return MemberOut.model_validate(trust, from_attributes=True)


@router.get("/v1/community/moderation-log")
def moderation_log(
    session: SessionDep,
    principal: PrincipalDep,
    creator_id: IdQuery = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> ModerationList:
    """Every moderation action with its reason, newest first (operators)."""
    page = community.moderation_log(
        session, principal, creator_id=creator_id, cursor=cursor, limit=limit
    )
    return ModerationList(items=[_entry(e) for e in page.items], next_cursor=page.next_cursor)
