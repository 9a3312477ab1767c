"""``/dashboard/originality``: operators see copies, matches and the case queue and resolve
cases; creators see the matches of their works (which original of whom, why, the policy in force,
the money moved) and dispute them, choose what happens to copies of their own works, file
claims and, when entitled, diagnose a draft."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from guanghe import creators, diagnosis, originality
from guanghe.access import Principal
from guanghe.errors import GuangheError
from guanghe.http.deps import SessionDep, get_runtime
from guanghe.http.uploads import decode_slots, read_draft
from guanghe.text import StorableText
from guanghe.web.signin import signed_in, to_login
from guanghe.web.templating import templates

router = APIRouter()
PAGE = "/dashboard/originality"


def _context(request: Request, session: Session, principal: Principal) -> dict[str, Any]:
    context: dict[str, Any] = {
        "principal": principal,
        "open_cases": originality.list_cases(session, principal, status="open"),
        "closed_cases": originality.list_cases(session, principal, status="upheld")
        + originality.list_cases(session, principal, status="rejected"),
        "copies": originality.recent_copies(session, principal),
        "matches": originality.list_matches(session, principal),
        "policies": None,
        "policy_names": originality.POLICIES,
        "message": request.query_params.get("message"),
        "error": None,
        "diagnosis": None,
        "entitled": False,
        "requirement": None,
    }
    if principal.role == "creator" and principal.subject_id is not None:
        context["policies"] = originality.author_policies(session, principal, principal.subject_id)
        rules = creators.load_rules(creators.rules_path(get_runtime(request).settings.data_dir))
        try:
            diagnosis.check_entitled(session, principal.subject_id, rules)
        except GuangheError as exc:
            context["requirement"] = exc.detail
        else:
            context["entitled"] = True
    return context


def _page(request: Request, session: Session, **extra: Any) -> Response:
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    if principal.role not in ("operator", "creator"):
        context = {"principal": principal, "error": "Originality is for operators and creators."}
        return templates.TemplateResponse(request, "originality.html", context, status_code=403)
    context = _context(request, session, principal) | extra
    status = 422 if extra.get("error") else 200
    return templates.TemplateResponse(request, "originality.html", context, status_code=status)


@router.get(PAGE)
def originality_page(request: Request, session: SessionDep) -> Response:
    """The case queue and recent copies (operators) or one's own cases and claims (creators)."""
    return _page(request, session)


@router.post(PAGE + "/cases/{case_id}")
def resolve(
    request: Request,
    session: SessionDep,
    case_id: int,
    resolution: Annotated[str, Form()],
    note: Annotated[StorableText, Form(max_length=2_000)] = "",
) -> Response:
    """An operator's decision on a case, from the queue."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    try:
        originality.resolve_case(
            session,
            principal,
            case_id,
            resolution=resolution,  # type: ignore[arg-type]
            note=note,
            now=dt.datetime.now(dt.UTC),
        )
    except GuangheError as exc:
        return _page(request, session, error=exc.detail)
    outcome = "upheld" if resolution == "uphold" else "rejected"
    return RedirectResponse(f"{PAGE}?message=Case+{case_id}+{outcome}", status_code=303)


@router.post(PAGE + "/claims")
def claim(
    request: Request,
    session: SessionDep,
    work_id: Annotated[int, Form(ge=1)],
    original_work_id: Annotated[int, Form(ge=1)],
    statement: Annotated[StorableText, Form(max_length=2_000)] = "",
) -> Response:
    """A creator's claim that a work copies theirs."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    try:
        case = originality.file_claim(
            session,
            principal,
            work_id=work_id,
            original_work_id=original_work_id,
            statement=statement,
            now=dt.datetime.now(dt.UTC),
        )
    except GuangheError as exc:
        return _page(request, session, error=exc.detail)
    return RedirectResponse(f"{PAGE}?message=Claim+{case.id}+filed", status_code=303)


@router.post(PAGE + "/policies")
def choose_policy(
    request: Request,
    session: SessionDep,
    policy: Annotated[str, Form()],
    work_id: Annotated[int | None, Form(ge=1)] = None,
) -> Response:
    """An author chooses what happens to copies of one of their works, or of all of them."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    try:
        originality.choose_policy(
            session, principal, policy=policy, work_id=work_id, now=dt.datetime.now(dt.UTC)
        )
    except GuangheError as exc:
        return _page(request, session, error=exc.detail)
    target = f"work+{work_id}" if work_id else "all+your+works"
    return RedirectResponse(f"{PAGE}?message=Copies+of+{target}:+{policy}", status_code=303)


@router.post(PAGE + "/disputes")
def dispute(
    request: Request,
    session: SessionDep,
    work_id: Annotated[int, Form(ge=1)],
    statement: Annotated[StorableText, Form(max_length=2_000)] = "",
) -> Response:
    """The uploader disputes the match of their work."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    try:
        case = originality.file_dispute(
            session,
            principal,
            work_id=work_id,
            statement=statement,
            now=dt.datetime.now(dt.UTC),
        )
    except GuangheError as exc:
        return _page(request, session, error=exc.detail)
    return RedirectResponse(f"{PAGE}?message=Dispute+{case.id}+filed", status_code=303)


@router.post(PAGE + "/diagnosis")
def diagnose(
    request: Request,
    session: SessionDep,
    title: Annotated[StorableText, Form(max_length=200)],
    cover: Annotated[UploadFile, File()],
    caption: Annotated[StorableText, Form(max_length=5_000)] = "",
    hashtags: Annotated[StorableText, Form(max_length=2_000)] = "",
) -> Response:
    """Diagnose a draft for the signed-in creator (entitled creators only)."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    if principal.role != "creator" or principal.subject_id is None:
        return _page(request, session, error="Diagnosis is run by creators for their drafts.")
    runtime = get_runtime(request)
    data_dir = runtime.settings.data_dir
    try:
        rules = creators.load_rules(creators.rules_path(data_dir))
        diagnosis.check_entitled(session, principal.subject_id, rules)
        draft = read_draft(
            decode_slots(request),
            principal.subject_id,
            title,
            caption,
            hashtags,
            cover,
            [],
            None,
            None,
        )
        result = diagnosis.diagnose(
            session,
            principal,
            draft,
            rules=rules,
            index=runtime.fingerprint_index,
            covers_dir=runtime.settings.covers_dir,
            data_dir=data_dir,
            now=dt.datetime.now(dt.UTC),
        )
    except GuangheError as exc:
        return _page(request, session, error=exc.detail)
    return _page(request, session, diagnosis=result)
