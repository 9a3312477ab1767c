"""RFC 9457 problem+json for every error the API returns, mapped once here."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from guanghe import errors

PROBLEM_JSON = "application/problem+json"
_log = logging.getLogger(__name__)

STATUS_OF: dict[type[errors.GuangheError], int] = {
    errors.RejectedBatch: 422,
    errors.TooLarge: 413,
    errors.InvalidInput: 422,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.Unavailable: 503,
}


def problem(
    status: int, code: str, title: str, detail: str, instance: str, **extra: Any
) -> JSONResponse:
    """A problem+json response with a stable ``type`` of ``urn:guanghe:problem:<code>``."""
    body = {
        "type": f"urn:guanghe:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_of(exc: errors.GuangheError) -> int:
    """The HTTP status an error maps to."""
    for kind in type(exc).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    return 400


async def _guanghe_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.GuangheError)
    response = problem(status_of(exc), exc.code, exc.title, exc.detail, request.url.path)
    if isinstance(exc, errors.Unavailable) and exc.retry_after_seconds is not None:
        response.headers["Retry-After"] = str(exc.retry_after_seconds)
    return response


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    detail = "; ".join(f"{'.'.join(map(str, f['loc']))}: {f['msg']}" for f in fields)
    return problem(422, "invalid-input", "Invalid input", detail, request.url.path, errors=fields)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = HTTPStatus(exc.status_code)
    code = status.phrase.lower().replace(" ", "-")
    return problem(exc.status_code, code, status.phrase, str(exc.detail), request.url.path)


async def _store_unreachable(request: Request, exc: Exception) -> JSONResponse:
    _log.error("relational store unreachable on %s: %s", request.url.path, exc)
    return problem(
        503, "unavailable", "Service unavailable", "the store is unreachable", request.url.path
    )


async def _store_busy(request: Request, exc: Exception) -> JSONResponse:
    _log.warning("no database connection free on %s: %s", request.url.path, exc)
    return problem(
        503,
        "unavailable",
        "Service unavailable",
        "the server is overloaded; retry shortly",
        request.url.path,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return problem(
        500, "internal", "Internal error", "an unexpected error occurred", request.url.path
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error class to its problem+json response."""
    app.add_exception_handler(errors.GuangheError, _guanghe_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _store_unreachable)
    app.add_exception_handler(PoolTimeout, _store_busy)
    app.add_exception_handler(Exception, _unexpected)
