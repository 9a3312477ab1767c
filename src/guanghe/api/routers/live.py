"""``/v1/live/sessions``: the live room's sessions, RSVPs, questions and votes, and the stream
of Server-Sent Events an open page follows."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Final, Literal, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from redis.exceptions import RedisError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from guanghe import community
from guanghe.access import Principal, authenticate
from guanghe.api.fields import IdPath, Instant, StorableText
from guanghe.http.deps import SESSION_COOKIE, PrincipalDep, SessionDep, bearer, get_runtime
from guanghe.runtime import Runtime
from guanghe.store import transaction

router = APIRouter(tags=["live"])
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
T = TypeVar("T")

#: A comment line keeps idle streams open through proxies.
KEEPALIVE_S: Final = 15.0
#: How long a browser waits before reconnecting a dropped stream.
RETRY_MS: Final = 2_000
#: A stream is closed (``resync``) after this long and the browser reconnects: what the
#: caller may see is checked again (a revoked token stops), and no connection lives forever.
MAX_STREAM_S: Final = 300.0
_log = logging.getLogger(__name__)

Url = Annotated[str, Field(max_length=500, pattern=r"^https?://\S+$")]


class LiveSessionIn(BaseModel):
    topic: StorableText = Field(min_length=1, max_length=200)
    description: StorableText = Field(default="", max_length=4_000)
    host_creator_id: int = Field(ge=1)
    verticals: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=16, description="empty: every vertical"
    )
    starts_at: Instant
    ends_at: Instant
    capacity: int = Field(ge=1, le=100_000)


class LiveSessionPatch(BaseModel):
    recording_url: Url | None = None
    cancelled: bool | None = None


class LiveSessionOut(BaseModel):
    id: int
    topic: str
    description: str
    host_creator_id: int
    host: str
    verticals: list[str]
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    rsvp_count: int
    recording_url: str | None
    cancelled: bool
    state: Literal["upcoming", "live", "over", "cancelled"]


class QuestionIn(BaseModel):
    body: StorableText = Field(min_length=1, max_length=500)


class AnswerIn(BaseModel):
    answer: StorableText = Field(default="", max_length=2_000)


class QuestionOut(BaseModel):
    id: int
    session_id: int
    creator_id: int
    asker: str
    body: str
    votes: int
    asked_at: dt.datetime
    answered_at: dt.datetime | None
    answer: str


class RsvpOut(BaseModel):
    session_id: int
    creator_id: int
    attending: bool
    rsvp_count: int
    capacity: int


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _session(view: community.LiveSessionView) -> LiveSessionOut:
    return LiveSessionOut.model_validate(view, from_attributes=True)


def _question(view: community.QuestionView) -> QuestionOut:
    return QuestionOut.model_validate(view, from_attributes=True)


async def _write(runtime: Runtime, work: Callable[[Session], T]) -> T:
    return await run_in_threadpool(runtime.write, work)


async def _publish(request: Request, question: community.QuestionView) -> None:
    """Push a changed question to the session's open pages, after its write committed. A
    feed that cannot be reached loses only the push: pages catch up when they reconnect."""
    frame = community.sse_frame("question", dataclasses.asdict(question))
    try:
        await request.app.state.live_feed.publish(question.session_id, frame)
    except (TimeoutError, OSError, RedisError) as exc:
        _log.warning("live feed publish failed for question %s: %s", question.id, exc)


@router.get("/v1/live/sessions")
def list_sessions(
    session: SessionDep,
    principal: PrincipalDep,
    when: Literal["upcoming", "past"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[LiveSessionOut]:
    """Upcoming (soonest first), past (latest first) or all sessions."""
    views = community.list_sessions(session, principal, when=when, now=_now(), limit=limit)
    return [_session(v) for v in views]


@router.post("/v1/live/sessions", status_code=201)
async def schedule_session(
    runtime: RuntimeDep, principal: PrincipalDep, body: LiveSessionIn
) -> LiveSessionOut:
    """Operators: schedule a session."""
    spec = community.LiveSessionSpec(
        topic=body.topic,
        description=body.description,
        host_creator_id=body.host_creator_id,
        verticals=tuple(body.verticals),
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        capacity=body.capacity,
    )
    now = _now()
    made = await _write(runtime, lambda s: community.schedule_session(s, principal, spec, now=now))
    return _session(made)


@router.get("/v1/live/sessions/{session_id}")
def get_session(session: SessionDep, principal: PrincipalDep, session_id: IdPath) -> LiveSessionOut:
    """One session."""
    return _session(community.get_session(session, principal, session_id, now=_now()))


@router.patch("/v1/live/sessions/{session_id}")
async def change_session(
    runtime: RuntimeDep, principal: PrincipalDep, session_id: IdPath, body: LiveSessionPatch
) -> LiveSessionOut:
    """Operators: set the recording link (once started) or cancel the session."""
    change = community.LiveSessionChange(recording_url=body.recording_url, cancelled=body.cancelled)
    now = _now()
    changed = await _write(
        runtime, lambda s: community.change_session(s, principal, session_id, change, now=now)
    )
    return _session(changed)


@router.put("/v1/live/sessions/{session_id}/rsvp")
async def rsvp(runtime: RuntimeDep, principal: PrincipalDep, session_id: IdPath) -> RsvpOut:
    """Creators: take a place (409 when full, cancelled or over); a reminder follows."""
    now = _now()
    made = await _write(runtime, lambda s: community.rsvp(s, principal, session_id, now=now))
    return RsvpOut.model_validate(made, from_attributes=True)


@router.delete("/v1/live/sessions/{session_id}/rsvp")
async def cancel_rsvp(runtime: RuntimeDep, principal: PrincipalDep, session_id: IdPath) -> RsvpOut:
    """Creators: give the place back."""
    now = _now()
    gone = await _write(runtime, lambda s: community.cancel_rsvp(s, principal, session_id, now=now))
    return RsvpOut.model_validate(gone, from_attributes=True)


@router.get("/v1/live/sessions/{session_id}/questions")
def list_questions(
    session: SessionDep,
    principal: PrincipalDep,
    session_id: IdPath,
    answered: bool = False,
) -> list[QuestionOut]:
    """The session's questions, most votes first (``answered=true``: the answered ones)."""
    views = community.list_questions(session, principal, session_id, answered_only=answered)
    return [_question(v) for v in views]


@router.post("/v1/live/sessions/{session_id}/questions", status_code=201)
async def ask_question(
    request: Request,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    session_id: IdPath,
    body: QuestionIn,
) -> QuestionOut:
    """Creators: ask, before or during the session."""
    now = _now()
    asked = await _write(
        runtime, lambda s: community.ask_question(s, principal, session_id, body.body, now=now)
    )
    await _publish(request, asked)
    return _question(asked)


@router.put("/v1/live/sessions/{session_id}/questions/{question_id}/vote")
async def vote(
    request: Request,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    session_id: IdPath,
    question_id: IdPath,
) -> QuestionOut:
    """Creators: upvote a question (once each)."""
    now = _now()
    voted = await _write(
        runtime, lambda s: community.vote(s, principal, session_id, question_id, now=now)
    )
    await _publish(request, voted)
    return _question(voted)


@router.post("/v1/live/sessions/{session_id}/questions/{question_id}/answer")
async def mark_answered(
    request: Request,
    runtime: RuntimeDep,
    principal: PrincipalDep,
    session_id: IdPath,
    question_id: IdPath,
    body: AnswerIn,
) -> QuestionOut:
    """The host (or an operator): mark a question answered."""
    now = _now()
    answered = await _write(
        runtime,
        lambda s: community.mark_answered(
            s, principal, session_id, question_id, body.answer, now=now
        ),
    )
    await _publish(request, answered)
    return _question(answered)


@router.get(
    "/v1/live/sessions/{session_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def live_events(
    request: Request,
    session_id: IdPath,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> StreamingResponse:
    """Server-Sent Events for an open page: a ``snapshot`` of every question, then a
    ``question`` event each time one is asked, voted or answered (from any server process);
    ``ended`` when the session is over (the stream closes), ``resync`` when this page fell
    behind or the stream is five minutes old (it closes; reconnect for a fresh snapshot)."""
    runtime: Runtime = request.app.state.runtime
    token = credentials.credentials if credentials else request.cookies.get(SESSION_COOKIE)

    def check() -> tuple[Principal, community.LiveSessionView]:
        with transaction(runtime.sessions) as session:
            principal = authenticate(session, token)
            return principal, community.get_session(session, principal, session_id, now=_now())

    principal, live = await run_in_threadpool(check)

    def snapshot() -> list[community.QuestionView]:
        with transaction(runtime.sessions) as session:
            return community.list_questions(session, principal, session_id)

    async def frames() -> AsyncIterator[str]:
        try:
            async for frame in follow():
                yield frame
        except (TimeoutError, OSError, RedisError) as exc:  # the feed could not subscribe
            _log.warning("live feed subscription failed for session %s: %s", session_id, exc)
            yield f"retry: {RETRY_MS}\n\n"
            yield community.sse_frame("resync", {"session_id": session_id})

    async def follow() -> AsyncIterator[str]:
        async with request.app.state.live_feed.subscribe(session_id) as page:
            questions = await run_in_threadpool(snapshot)
            yield f"retry: {RETRY_MS}\n\n"
            yield community.sse_frame("snapshot", [dataclasses.asdict(q) for q in questions])
            recycle_at = time.monotonic() + MAX_STREAM_S
            while live.state in ("upcoming", "live"):
                if page.behind or time.monotonic() >= recycle_at:
                    yield community.sse_frame("resync", {"session_id": session_id})
                    return
                left = (live.ends_at - _now()).total_seconds()
                if left <= 0:
                    break
                left = min(left, recycle_at - time.monotonic())
                try:
                    async with asyncio.timeout(min(KEEPALIVE_S, left)):
                        frame = await page.frames.get()
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                yield frame
            yield community.sse_frame("ended", {"session_id": session_id})

    return StreamingResponse(
        frames(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
