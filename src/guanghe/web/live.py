"""``/dashboard/live`` and ``/dashboard/courses``: the live room's sessions and the room page
(questions whose votes move as they are cast, through the session's Server-Sent Events
stream; after the session, its answered questions and recording), and teaching resources (a
creator's recommended lessons, weakest growth rule first, with completion). The pages' buttons
call the ``/v1/live`` and ``/v1/courses`` API with the session cookie."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from guanghe import community, creators
from guanghe.access import Principal
from guanghe.bounds import MAX_INT63
from guanghe.errors import GuangheError, NotFound
from guanghe.http.deps import SessionDep, get_runtime
from guanghe.http.statuses import status_of
from guanghe.web.signin import signed_in, to_login
from guanghe.web.templating import templates

router = APIRouter()
SessionId = Annotated[int, Path(ge=1, le=MAX_INT63)]


@router.get("/dashboard/live")
def live_sessions_page(request: Request, session: SessionDep) -> Response:
    """Upcoming and past sessions."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    now = dt.datetime.now(dt.UTC)
    context: dict[str, Any] = {"principal": principal, "error": None}
    try:
        context["upcoming"] = community.list_sessions(session, principal, when="upcoming", now=now)
        context["past"] = community.list_sessions(session, principal, when="past", now=now)
    except GuangheError as exc:
        context["error"] = exc.detail
        return templates.TemplateResponse(request, "live.html", context, status_of(exc))
    return templates.TemplateResponse(request, "live.html", context)


@router.get("/dashboard/live/{session_id}")
def live_room_page(request: Request, session: SessionDep, session_id: SessionId) -> Response:
    """One session's room: live while it runs, its answered questions and recording after."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    now = dt.datetime.now(dt.UTC)
    context: dict[str, Any] = {"principal": principal, "error": None}
    try:
        live = community.get_session(session, principal, session_id, now=now)
        over = live.state in ("over", "cancelled")
        context |= {
            "live": live,
            "questions": community.list_questions(
                session, principal, session_id, answered_only=over
            ),
            "voted": community.votes_of(session, principal, session_id),
            "attending": community.is_attending(session, principal, session_id),
            "is_host": principal.role == "creator" and principal.subject_id == live.host_creator_id,
        }
    except GuangheError as exc:
        context["error"] = exc.detail
        return templates.TemplateResponse(request, "live_room.html", context, status_of(exc))
    return templates.TemplateResponse(request, "live_room.html", context)


@router.get("/dashboard/courses")
def courses_page(request: Request, session: SessionDep) -> Response:
    """A creator's recommended lessons and gaps, and the courses of their stage; the whole
    catalogue for other readers."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    context: dict[str, Any] = {"principal": principal, "error": None, "recommended": None}
    try:
        if principal.role == "creator":
            context |= _creator_courses(request, session, principal)
        else:
            context["courses"] = community.list_courses(session, principal)
    except GuangheError as exc:
        context["error"] = exc.detail
        return templates.TemplateResponse(request, "courses.html", context, status_of(exc))
    return templates.TemplateResponse(request, "courses.html", context)


def _creator_courses(request: Request, session: Session, principal: Principal) -> dict[str, Any]:
    assert principal.subject_id is not None
    settings = get_runtime(request).settings
    try:
        growth = creators.creator_growth(
            session,
            principal,
            principal.subject_id,
            snapshots=settings.snapshots_dir,
            rules=creators.load_rules(creators.rules_path(settings.data_dir)),
        )
    except NotFound:
        return {"courses": community.list_courses(session, principal)}
    return {
        "recommended": community.recommend_lessons(session, growth),
        "courses": community.list_courses(session, principal, stage=growth.stage),
    }
