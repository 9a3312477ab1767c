"""Signing in and out: the bearer token travels in an HttpOnly session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from guanghe.access import Principal, authenticate
from guanghe.errors import Unauthenticated
from guanghe.http.deps import SESSION_COOKIE, SessionDep
from guanghe.web.templating import templates

router = APIRouter()

#: Longer than any token ``create_token`` makes; longer input is rejected unread.
MAX_TOKEN_CHARS = 200


def signed_in(request: Request, session: SessionDep) -> Principal | None:
    """The principal of the request's session cookie, or None if absent, unknown or revoked."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        return authenticate(session, token)
    except Unauthenticated:
        return None


def to_login() -> RedirectResponse:
    """A redirect to the sign-in form that also drops a stale session cookie."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    return response


@router.get("/")
def home(request: Request, session: SessionDep) -> RedirectResponse:
    """The dashboard when signed in, else the sign-in form."""
    if signed_in(request, session) is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/login")
def login_form(request: Request) -> Response:
    """The sign-in form."""
    return templates.TemplateResponse(request, "login.html", {"error": None})


@router.post("/login")
def login(request: Request, session: SessionDep, token: Annotated[str, Form()] = "") -> Response:
    """Check the token and keep it in the session cookie; a bad token gets the form again."""
    token = token.strip()
    try:
        if len(token) > MAX_TOKEN_CHARS:
            raise Unauthenticated("unknown or revoked token")
        authenticate(session, token)
    except Unauthenticated:
        error = "Enter your API token." if not token else "That token is unknown or revoked."
        return templates.TemplateResponse(request, "login.html", {"error": error}, status_code=401)
    response = RedirectResponse("/dashboard", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
def logout() -> RedirectResponse:
    """Forget the session cookie."""
    return to_login()
