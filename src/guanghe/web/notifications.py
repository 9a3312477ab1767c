"""The dashboard's notification pages: a creator's inbox (marking a notice read) and their
notification settings; the operators' dead-letter list with a replay button. Each write goes
through the same domain function as the API."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from guanghe import notifications
from guanghe.access import Principal
from guanghe.errors import Forbidden, GuangheError
from guanghe.http.deps import SessionDep
from guanghe.http.statuses import status_of
from guanghe.pagination import MAX_PAGE
from guanghe.store import NOTICE_KINDS
from guanghe.text import StorableText
from guanghe.web.signin import signed_in, to_login
from guanghe.web.templating import templates

router = APIRouter()

INBOX: Final = "/dashboard/inbox"
SETTINGS: Final = "/dashboard/notification-settings"
DEAD_LETTERS: Final = "/dashboard/dead-letters"
PAGE_SIZE: Final = 50
#: How the pages name each kind of notice.
KIND_LABELS: Final = {
    "hotspot": "Hotspot in your vertical",
    "task": "New suitable task",
    "reward": "Reward",
    "payout": "Payout",
    "originality_decision": "Originality decision",
    "tier_change": "Growth tier change",
    "contract_proposal": "Contract proposal",
    "live_reminder": "Live-room reminder",
    "community_mention": "Mention in the community",
}
TimeOfDay = Annotated[str, Form(pattern="^([01][0-9]|2[0-3]):[0-5][0-9]$")]


def _creator_only(principal: Principal) -> int:
    if principal.role != "creator" or principal.subject_id is None:
        raise Forbidden("the inbox and notification settings are a creator's own pages")
    return principal.subject_id


def _refused(request: Request, template: str, principal: Principal, exc: GuangheError) -> Response:
    context = {"principal": principal, "error": exc.detail, "message": None}
    return templates.TemplateResponse(request, template, context, status_code=status_of(exc))


@router.get(INBOX)
def inbox_page(request: Request, session: SessionDep, cursor: str | None = None) -> Response:
    """The signed-in creator's notices, newest first, unread ones marked."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    try:
        creator_id = _creator_only(principal)
        page = notifications.list_inbox(
            session, principal, creator_id, cursor=cursor, limit=PAGE_SIZE
        )
        unread = notifications.unread_count(session, principal, creator_id)
    except GuangheError as exc:
        return _refused(request, "inbox.html", principal, exc)
    context = {
        "principal": principal,
        "error": None,
        "message": request.query_params.get("message"),
        "notices": page.items,
        "next_cursor": page.next_cursor,
        "unread": unread,
        "kind_labels": KIND_LABELS,
    }
    return templates.TemplateResponse(request, "inbox.html", context)


@router.post(INBOX + "/{notice_id}/read")
def read_notice(request: Request, session: SessionDep, notice_id: int) -> Response:
    """Mark one of the creator's notices read; back to the inbox."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    try:
        notifications.mark_read(
            session, principal, _creator_only(principal), notice_id, now=dt.datetime.now(dt.UTC)
        )
    except GuangheError as exc:
        return _refused(request, "inbox.html", principal, exc)
    return RedirectResponse(f"{INBOX}#notice-{notice_id}", status_code=303)


@router.get(SETTINGS)
def settings_page(request: Request, session: SessionDep) -> Response:
    """The creator's channels per kind, quiet hours, digest, webhook and e-mail."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    try:
        prefs = notifications.get_preferences(session, principal, _creator_only(principal))
    except GuangheError as exc:
        return _refused(request, "notification_settings.html", principal, exc)
    saved = request.query_params.get("saved") == "1"
    return _settings_page(request, principal, prefs, message="Saved." if saved else None)


@router.post(SETTINGS)
def save_settings(
    request: Request,
    session: SessionDep,
    timezone: Annotated[StorableText, Form(max_length=64)],
    quiet_start: TimeOfDay,
    quiet_end: TimeOfDay,
    digest_time: TimeOfDay,
    channels: Annotated[list[str], Form(max_length=100)] = [],  # noqa: B006 - FastAPI default
    digest: Annotated[bool, Form()] = False,
    webhook_url: Annotated[StorableText, Form(max_length=400)] = "",
    webhook_secret: Annotated[StorableText, Form(max_length=200)] = "",
    email: Annotated[StorableText, Form(max_length=254)] = "",
) -> Response:
    """Replace the creator's settings from the form (an empty secret keeps the stored one)."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    change = notifications.PreferencesChange(
        channels=_chosen_channels(channels),
        timezone=timezone.strip(),
        quiet_start_minute=_minute(quiet_start),
        quiet_end_minute=_minute(quiet_end),
        digest=digest,
        digest_minute=_minute(digest_time),
        webhook_url=webhook_url.strip() or None,
        webhook_secret=webhook_secret or None,
        email=email.strip() or None,
    )
    try:
        creator_id = _creator_only(principal)
        notifications.put_preferences(
            session, principal, creator_id, change, now=dt.datetime.now(dt.UTC)
        )
    except GuangheError as exc:  # refused before anything was written
        return _invalid_settings(request, session, principal, change, exc)
    return RedirectResponse(f"{SETTINGS}?saved=1", status_code=303)


@router.get(DEAD_LETTERS)
def dead_letters_page(request: Request, session: SessionDep, cursor: str | None = None) -> Response:
    """Deliveries that gave up, newest first, each notice with a replay button (operators)."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    try:
        page = notifications.list_dead_letters(session, principal, cursor=cursor, limit=MAX_PAGE)
    except GuangheError as exc:
        return _refused(request, "dead_letters.html", principal, exc)
    context = {
        "principal": principal,
        "error": None,
        "message": request.query_params.get("message"),
        "letters": page.items,
        "next_cursor": page.next_cursor,
    }
    return templates.TemplateResponse(request, "dead_letters.html", context)


@router.post(DEAD_LETTERS + "/{notice_id}/replay")
def replay(request: Request, session: SessionDep, notice_id: int) -> Response:
    """Send the notice's dead deliveries again (operators); back to the list."""
    principal = signed_in(request, session)
    if principal is None:
        return to_login()
    try:
        ids = notifications.replay_dead_letter(
            session, principal, notice_id, now=dt.datetime.now(dt.UTC)
        )
    except GuangheError as exc:
        return _refused(request, "dead_letters.html", principal, exc)
    message = f"Notice {notice_id}: {len(ids)} deliveries queued again"
    return RedirectResponse(f"{DEAD_LETTERS}?message={message}", status_code=303)


def _settings_page(
    request: Request,
    principal: Principal,
    prefs: notifications.Preferences | notifications.PreferencesChange,
    *,
    secret_set: bool | None = None,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    if secret_set is None:
        secret_set = isinstance(prefs, notifications.Preferences) and prefs.webhook_secret_set
    context: dict[str, Any] = {
        "principal": principal,
        "error": error,
        "message": message,
        "prefs": prefs,
        "secret_set": secret_set,
        "kinds": NOTICE_KINDS,
        "channel_names": notifications.CHANNELS,
        "kind_labels": KIND_LABELS,
        "quiet_start": _clock(prefs.quiet_start_minute),
        "quiet_end": _clock(prefs.quiet_end_minute),
        "digest_time": _clock(prefs.digest_minute),
    }
    return templates.TemplateResponse(
        request, "notification_settings.html", context, status_code=status_code
    )


def _invalid_settings(
    request: Request,
    session: Session,
    principal: Principal,
    change: notifications.PreferencesChange,
    exc: GuangheError,
) -> Response:
    """The form again with what was typed (never the secret) and why it was refused."""
    if principal.role != "creator" or principal.subject_id is None:
        return _refused(request, "notification_settings.html", principal, exc)
    stored = notifications.get_preferences(session, principal, principal.subject_id)
    return _settings_page(
        request,
        principal,
        change,
        secret_set=stored.webhook_secret_set,
        error=exc.detail,
        status_code=status_of(exc),
    )


def _chosen_channels(values: list[str]) -> dict[str, list[str]]:
    """``["payout:inbox", "payout:email"]`` → ``{"payout": ["inbox", "email"], ...}``; a kind
    with no box ticked has no channel (the domain checks the names)."""
    chosen: dict[str, list[str]] = {kind: [] for kind in NOTICE_KINDS}
    for value in values:
        kind, _, channel = value.partition(":")
        chosen.setdefault(kind, []).append(channel)
    return chosen


def _minute(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"
