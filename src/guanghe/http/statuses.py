"""The HTTP status each :class:`~guanghe.errors.GuangheError` maps to, the one table the API's
problem+json and the dashboard's error pages both answer from."""

from __future__ import annotations

from guanghe import errors

STATUS_OF: dict[type[errors.GuangheError], int] = {
    errors.RejectedBatch: 422,
    errors.TooLarge: 413,
    errors.InvalidInput: 422,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.TooManyRequests: 429,
    errors.Unavailable: 503,
}


def status_of(exc: errors.GuangheError) -> int:
    """The HTTP status an error maps to."""
    for kind in type(exc).__mro__:
        if kind in STATUS_OF:
            return STATUS_OF[kind]
    return 400
