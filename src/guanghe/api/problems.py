"""RFC 9457 problem+json for every error the API returns, mapped once here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from guanghe import errors
from guanghe.http.statuses import status_of

PROBLEM_JSON = "application/problem+json"
_log = logging.getLogger(__name__)


class FieldError(BaseModel):
    loc: list[str | int] = Field(description="Where the value was: body, query, path, then names")
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem: what every error response of the API carries."""

    type: str = Field(description="urn:guanghe:problem:<code>, stable across releases")
    title: str
    status: int
    detail: str = Field(description="What was wrong, naming the field where there is one")
    instance: str = Field(description="The request path")
    errors: list[FieldError] | None = Field(default=None, description="Invalid input: each field")


#: What each error status means, as the OpenAPI schema states it.
PROBLEM_STATUSES: dict[int, str] = {
    400: "The body could not be parsed: not UTF-8 text, or a broken multipart form",
    401: "No credentials, or unknown ones",
    403: "The caller may not do this",
    404: "No such object (or, for a snapshot, not computed yet)",
    409: "Conflicts with the current state (an idempotency key reused, funds short)",
    413: "The request body is larger than this route accepts",
    422: "Invalid input: the detail and errors name each field",
    429: "Over the caller's rate limit; retry after the Retry-After header's seconds",
    503: "A server Guanghe needs is unreachable or overloaded; retry later",
}
_WRITES = frozenset({"post", "put", "patch", "delete"})


def document_problems(
    schema: dict[str, Any], body_limit: Callable[[str, str], int]
) -> dict[str, Any]:
    """State in ``schema`` (an OpenAPI document) the problem+json responses each operation
    can give: 401 and 403 where a token is needed, 404 where an object is addressed, 409 on
    writes, 400 and 413 where there is a body (its limit, ``body_limit(METHOD, path)``, as
    ``x-max-body-bytes``), 422 where there is input, 429 and 503 everywhere; and any other
    of :data:`PROBLEM_STATUSES` a route declares in its ``responses``."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (Problem, FieldError):
        components[model.__name__] = model.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                operation["x-max-body-bytes"] = body_limit(method.upper(), path)
            for status in _statuses(path, method, operation):
                responses[str(status)] = {
                    "description": PROBLEM_STATUSES[status],
                    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                }
    return schema


def _statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    declared = {int(s) for s in operation.get("responses", {}) if s.isdigit()}
    statuses = [429, 503, *(declared & PROBLEM_STATUSES.keys())]
    has_body = "requestBody" in operation
    if operation.get("security"):
        statuses += [401, 403]
        if "{" in path or method in _WRITES:
            statuses.append(404)
    if method in _WRITES:
        statuses.append(409)
    if has_body:
        statuses += [400, 413]
    if has_body or operation.get("parameters"):
        statuses.append(422)
    return sorted(set(statuses))


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


async def _guanghe_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.GuangheError)
    response = problem(status_of(exc), exc.code, exc.title, exc.detail, request.url.path)
    if (
        isinstance(exc, errors.Unavailable | errors.TooManyRequests)
        and exc.retry_after_seconds is not None
    ):
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
