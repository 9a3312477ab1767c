"""``/dashboard/community``: the creator community in the browser. Boards and search; a
board's threads and a form to open one; a thread's posts with reply, reaction-free reading,
report and (for operators) hide, restore and lock buttons; the moderation page with open
reports, the log and the suspension form. The same domain functions as ``/v1/community``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from guanghe import community, creators
from guanghe.access import Principal
from guanghe.bounds import MAX_INT63
from guanghe.errors import GuangheError
from guanghe.http.deps import SessionDep, get_runtime
from guanghe.http.statuses import status_of
from guanghe.runtime import Runtime
from guanghe.text import StorableText
from guanghe.web.signin import signed_in, to_login
from guanghe.web.templating import templates

router = APIRouter()

PAGE: Final = "/dashboard/community"
IdParam = Annotated[int, Path(ge=1, le=MAX_INT63)]
ReasonField = Annotated[StorableText, Form(min_length=1, max_length=1_000)]
BodyField = Annotated[StorableText, Form(min_length=1, max_length=10_000)]
#: One moderation action, given the session, the operator and the time.
ModerationAct = Callable[[Session, Principal, dt.datetime], community.ModerationView]


def _tiers(runtime: Runtime) -> tuple[str, ...]:
    rules = creators.load_rules(creators.rules_path(runtime.settings.data_dir))
    return tuple(t.name for t in rules.tiers)


def _done(url: str, message: str) -> RedirectResponse:
    return RedirectResponse(f"{url}?{urlencode({'message': message})}", status_code=303)


def _base(request: Request, principal: Principal) -> dict[str, Any]:
    return {
        "principal": principal,
        "message": request.query_params.get("message"),
        "error": None,
    }


def _index(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    query: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    context = _base(request, principal) | {"query": query or "", "hits": None, "boards": []}
    try:
        context["boards"] = community.list_boards(session, principal)
        if query:
            context["hits"] = community.search_posts(session, principal, query, limit=50).items
    except GuangheError as exc:
        error, status = exc.detail, status_of(exc)
    context["error"] = error
    return templates.TemplateResponse(request, "community.html", context, status)


@router.get(PAGE)
def community_page(
    request: Request,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The boards, and the posts matching ``q`` when searching."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    return _index(request, session, principal, query=q)


@router.get(PAGE + "/boards/{board_id}")
def board_page(request: Request, session: SessionDep, board_id: IdParam) -> Response:
    """A board's threads, newest activity first, and the form to open one."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    return _board(request, session, principal, board_id)


def _board(
    request: Request,
    session: Session,
    principal: Principal,
    board_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    try:
        board = community.get_board(session, principal, board_id)
        threads = community.list_threads(session, principal, board_id, limit=100).items
    except GuangheError as exc:
        if error is None:
            error, status = exc.detail, status_of(exc)
        return _index(request, session, principal, error=error, status=status)
    context = _base(request, principal) | {"board": board, "threads": threads, "error": error}
    return templates.TemplateResponse(request, "community_board.html", context, status)


@router.post(PAGE + "/boards/{board_id}/threads")
def open_thread(
    request: Request,
    session: SessionDep,
    board_id: IdParam,
    title: Annotated[StorableText, Form(min_length=1, max_length=200)],
    body: BodyField,
) -> Response:
    """Open a thread as the signed-in creator or operator."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    runtime, now = get_runtime(request), dt.datetime.now(dt.UTC)
    tiers = _tiers(runtime)
    try:
        thread, _ = runtime.write(
            lambda s: community.open_thread(
                s, principal, board_id, title, body, tier_order=tiers, now=now
            )
        )
    except GuangheError as exc:
        return _board(
            request, session, principal, board_id, error=exc.detail, status=status_of(exc)
        )
    return _done(f"{PAGE}/threads/{thread.id}", "Thread opened")


@router.get(PAGE + "/threads/{thread_id}")
def thread_page(request: Request, session: SessionDep, thread_id: IdParam) -> Response:
    """A thread's posts, oldest first, with the reply form and moderation buttons."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    return _thread(request, session, principal, thread_id)


def _thread(
    request: Request,
    session: Session,
    principal: Principal,
    thread_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    try:
        page = community.thread_page(session, principal, thread_id, limit=200)
    except GuangheError as exc:
        if error is None:
            error, status = exc.detail, status_of(exc)
        return _index(request, session, principal, error=error, status=status)
    context = _base(request, principal) | {"page": page, "error": error}
    return templates.TemplateResponse(request, "community_thread.html", context, status)


@router.post(PAGE + "/threads/{thread_id}/posts")
def add_post(
    request: Request,
    session: SessionDep,
    thread_id: IdParam,
    body: BodyField,
    reply_to_id: Annotated[int | None, Form(ge=1, le=MAX_INT63)] = None,
    official: Annotated[bool, Form()] = False,
) -> Response:
    """Post (or reply) in a thread as the signed-in creator or operator."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    runtime, now = get_runtime(request), dt.datetime.now(dt.UTC)
    tiers = _tiers(runtime)
    try:
        post = runtime.write(
            lambda s: community.add_post(
                s,
                principal,
                thread_id,
                body,
                reply_to_id=reply_to_id,
                official=official,
                tier_order=tiers,
                now=now,
            )
        )
    except GuangheError as exc:
        return _thread(
            request, session, principal, thread_id, error=exc.detail, status=status_of(exc)
        )
    return _done(f"{PAGE}/threads/{thread_id}", f"Posted #{post.id}")


@router.post(PAGE + "/posts/{post_id}/report")
def report_post(
    request: Request, session: SessionDep, post_id: IdParam, reason: ReasonField
) -> Response:
    """The signed-in creator reports a post to the operators."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    now = dt.datetime.now(dt.UTC)
    try:
        report = get_runtime(request).write(
            lambda s: community.report_post(s, principal, post_id, reason, now=now)
        )
    except GuangheError as exc:
        return _index(request, session, principal, error=exc.detail, status=status_of(exc))
    return _done(f"{PAGE}/threads/{report.thread_id}", "Reported to the operators")


@router.post(PAGE + "/posts/{post_id}/hide")
def hide_post(
    request: Request, session: SessionDep, post_id: IdParam, reason: ReasonField
) -> Response:
    """Hide a post (operators)."""
    return _moderate(
        request, session, lambda s, p, now: community.hide_post(s, p, post_id, reason, now=now)
    )


@router.post(PAGE + "/posts/{post_id}/restore")
def restore_post(
    request: Request, session: SessionDep, post_id: IdParam, reason: ReasonField
) -> Response:
    """Show a hidden post again (operators)."""
    return _moderate(
        request, session, lambda s, p, now: community.restore_post(s, p, post_id, reason, now=now)
    )


@router.post(PAGE + "/threads/{thread_id}/lock")
def lock_thread(
    request: Request,
    session: SessionDep,
    thread_id: IdParam,
    reason: ReasonField,
    locked: Annotated[bool, Form()] = True,
) -> Response:
    """Lock (or, with ``locked=false``, unlock) a thread (operators)."""
    return _moderate(
        request,
        session,
        lambda s, p, now: community.lock_thread(s, p, thread_id, reason, locked=locked, now=now),
    )


@router.post(PAGE + "/reports/{report_id}/dismiss")
def dismiss_report(
    request: Request, session: SessionDep, report_id: IdParam, reason: ReasonField
) -> Response:
    """Close a report without acting on its post (operators)."""
    return _moderate(
        request,
        session,
        lambda s, p, now: community.dismiss_report(s, p, report_id, reason, now=now),
    )


@router.post(PAGE + "/suspensions")
def suspend_member(
    request: Request,
    session: SessionDep,
    creator_id: Annotated[int, Form(ge=1, le=MAX_INT63)],
    hours: Annotated[int, Form(ge=1, le=24 * 365)],
    reason: ReasonField,
) -> Response:
    """Suspend a creator from posting for a number of hours (operators)."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    now = dt.datetime.now(dt.UTC)
    try:
        suspension = get_runtime(request).write(
            lambda s: community.suspend_member(s, principal, creator_id, hours, reason, now=now)
        )
    except GuangheError as exc:
        return _moderation(request, session, principal, error=exc.detail, status=status_of(exc))
    until = f"{suspension.until:%Y-%m-%d %H:%M} UTC"
    return _done(f"{PAGE}/moderation", f"Creator {creator_id} suspended until {until}")


@router.get(PAGE + "/moderation")
def moderation_page(request: Request, session: SessionDep) -> Response:
    """Open reports, the moderation log and the suspension form (operators)."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    return _moderation(request, session, principal)


def _moderation(
    request: Request,
    session: Session,
    principal: Principal,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    context = _base(request, principal) | {"reports": [], "log": [], "error": error}
    try:
        context["reports"] = community.list_reports(session, principal, limit=200).items
        context["log"] = community.moderation_log(session, principal, limit=100).items
    except GuangheError as exc:
        context["error"], status = exc.detail, status_of(exc)
    return templates.TemplateResponse(request, "community_moderation.html", context, status)


def _moderate(request: Request, session: Session, act: ModerationAct) -> Response:
    """Run one moderation action as the signed-in operator; back to the thread it concerns
    (or the moderation page)."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    now = dt.datetime.now(dt.UTC)
    try:
        entry = get_runtime(request).write(lambda s: act(s, principal, now))
    except GuangheError as exc:
        return _moderation(request, session, principal, error=exc.detail, status=status_of(exc))
    message = f"{entry.action.replace('_', ' ').capitalize()}: {entry.reason}"
    if entry.thread_id is not None:
        return _done(f"{PAGE}/threads/{entry.thread_id}", message)
    return _done(f"{PAGE}/moderation", message)
