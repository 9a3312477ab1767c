"""``/dashboard/tasks``: the task center per role. A creator sees their recommended tasks with
the reasons and accepts one (the same domain function as ``POST /v1/tasks/{task_id}/accept``)
and follows their slots; operators see every task's fill and reserved budget; an advertiser
its own tasks and their results."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from guanghe import creators, tasks
from guanghe.access import Principal
from guanghe.bounds import MAX_INT63
from guanghe.errors import GuangheError
from guanghe.http.deps import SessionDep, get_runtime
from guanghe.http.statuses import status_of
from guanghe.pagination import MAX_PAGE
from guanghe.web.signin import signed_in, to_login
from guanghe.web.templating import templates

router = APIRouter()

PAGE: Final = "/dashboard/tasks"
#: Roles with a task-center page (and its link in the navigation).
TASK_ROLES: Final = ("operator", "creator", "advertiser")


def _context(request: Request, session: Session, principal: Principal) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    context: dict[str, Any] = {
        "principal": principal,
        "message": request.query_params.get("message"),
        "error": None,
        "vertical_names": {v.id: v.slug for v in creators.list_verticals(session)},
    }
    if principal.role == "creator":
        assert principal.subject_id is not None
        context["offers"] = tasks.creator_offers(session, principal, principal.subject_id, now=now)
        context["claims"] = tasks.creator_claims(session, principal, principal.subject_id)
        return context
    context["tasks"] = tasks.list_tasks(session, principal, now=now, limit=MAX_PAGE).items
    return context


def _page(request: Request, session: Session, *, error: str = "", status: int = 200) -> Response:
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    if principal.role not in TASK_ROLES:
        context = {
            "principal": principal,
            "error": "The task center is for operators, creators and advertisers.",
        }
        return templates.TemplateResponse(request, "tasks.html", context, status_code=403)
    context = _context(request, session, principal) | {"error": error or None}
    return templates.TemplateResponse(request, "tasks.html", context, status_code=status)


@router.get(PAGE)
def tasks_page(request: Request, session: SessionDep) -> Response:
    """Recommended tasks and one's slots (creators), tasks with their fill (operators,
    advertisers)."""
    return _page(request, session)


@router.post(PAGE + "/{task_id}/accept")
def accept(
    request: Request, session: SessionDep, task_id: Annotated[int, Path(ge=1, le=MAX_INT63)]
) -> Response:
    """The signed-in creator accepts a recommended task: a slot held until its deadline."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    if principal.role != "creator" or principal.subject_id is None:
        return _page(request, session, error="Only creators accept tasks.", status=403)
    creator_id, now = principal.subject_id, dt.datetime.now(dt.UTC)
    runtime = get_runtime(request)
    rules = creators.load_rules(creators.rules_path(runtime.settings.data_dir))
    try:
        claim = runtime.write(
            lambda s: tasks.accept_task(
                s,
                principal,
                task_id,
                creator_id,
                holds_priority=tasks.priority_holder(s, rules),
                now=now,
            )
        )
    except GuangheError as exc:
        return _page(request, session, error=exc.detail, status=status_of(exc))
    message = (
        f"Accepted task {task_id}: slot {claim.slot_no} is yours until "
        f"{claim.deadline_at:%Y-%m-%d %H:%M} UTC"
    )
    return RedirectResponse(f"{PAGE}?{urlencode({'message': message})}", status_code=303)
