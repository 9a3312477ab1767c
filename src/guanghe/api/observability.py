"""What operators see of a running server: a request id on every log line, request metrics
for Prometheus, and per-credential rate limits.

:class:`RequestObserver` is a pure ASGI middleware (no body buffering, no thread hop): it
gives each request an id (the caller's ``X-Request-ID`` when it is a sane token, else a new
one), returns it in the response, binds it to every log line written while the request runs
(:class:`RequestIdFilter`), times the request into a histogram by route template, and refuses
callers over their rate with a 429 problem carrying ``Retry-After``.

Rate limits are counted per credential (a hash of the bearer token or session cookie; the
client address for requests without one) with the ``limits`` library: in Redis when the
deployment has one (shared by every worker), in process otherwise. A counter store that does
not answer within the deployment's Redis budget (``redis_timeout_ms``) lets the request through
and counts the miss
(``guanghe_rate_limit_unavailable_total``): rate limiting must never take the API down.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from typing import Final

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from prometheus_client import CollectorRegistry, Counter, Histogram
from redis.exceptions import RedisError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from guanghe.api.problems import problem

REQUEST_ID_HEADER: Final = "x-request-id"
_SANE_ID: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
_request_id: ContextVar[str] = ContextVar("guanghe_request_id", default="-")
_log = logging.getLogger("guanghe.access_log")

#: Latency buckets (seconds) around the serving goals: boost < 20 ms, pages < 50 ms.
LATENCY_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (``-`` outside a request) to every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and the record's
    ``extra`` fields."""

    _STANDARD: Final = frozenset([*vars(logging.makeLogRecord({})), "message", "asctime"])

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **{k: v for k, v in vars(record).items() if k not in self._STANDARD},
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(level: str = "info") -> None:
    """Structured JSON logs on standard error, each line with its request id."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


class ServerMetrics:
    """The server's Prometheus instruments, registered in one registry per app."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.latency = Histogram(
            "guanghe_http_request_duration_seconds",
            "Time from a request's arrival to its last response byte, by route template.",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.rate_limited = Counter(
            "guanghe_rate_limited_total",
            "Requests refused with 429 because their credential was over its rate.",
            registry=registry,
        )
        self.timed_out = Counter(
            "guanghe_request_timeouts_total",
            "Requests answered 503 because they ran past the request deadline.",
            registry=registry,
        )
        self.limit_unavailable = Counter(
            "guanghe_rate_limit_unavailable_total",
            "Requests let through because the rate-limit counters did not answer in time.",
            registry=registry,
        )


class RateLimits:
    """Per-credential limits (``limits`` notation, e.g. ``"50/second;1000/minute"``), counted
    in Redis when ``redis_url`` is set (each check given at most ``timeout_s``)."""

    def __init__(
        self, per_token: str, anonymous: str, redis_url: str | None, timeout_s: float
    ) -> None:
        self.timeout_s = timeout_s
        self.per_token: list[RateLimitItem] = parse_many(per_token)
        self.anonymous: list[RateLimitItem] = parse_many(anonymous)
        self.storage: Storage = (
            RedisStorage(
                redis_url.replace("redis://", "async+redis://", 1),
                implementation="redispy",
                socket_timeout=timeout_s,
                socket_connect_timeout=timeout_s,
            )
            if redis_url
            else MemoryStorage()
        )
        self.limiter = FixedWindowRateLimiter(self.storage)

    async def close(self) -> None:
        """Close the counters' Redis connections (the library leaves them to the collector)."""
        bridge = getattr(self.storage, "bridge", None)
        client = getattr(bridge, "storage", None)
        if client is not None:
            await client.aclose()

    async def refusal(self, credential: str | None, client: str) -> int | None:
        """Seconds to wait when the caller is over a limit (the hit is not counted), else
        ``None`` (counted). Raises :class:`TimeoutError` when the counters do not answer, and
        Redis's own errors (its timeouts are not :class:`TimeoutError`) when they fail."""
        key, items = (
            (f"token:{credential}", self.per_token)
            if credential
            else (f"ip:{client}", self.anonymous)
        )
        async with asyncio.timeout(self.timeout_s):
            for item in items:
                if not await self.limiter.hit(item, key):
                    reset, _ = await self.limiter.get_window_stats(item, key)
                    return max(1, int(reset - time.time()) + 1)
        return None


class RequestObserver:
    """ASGI middleware: request id, access log line, latency histogram, rate limits, and a
    deadline: a request not answered within ``timeout_s`` gets a 503 problem (its work may
    still finish in its thread: a write retried with the same idempotency key is safe). A
    Server-Sent Events stream has the deadline until it starts, none after."""

    def __init__(
        self, app: ASGIApp, metrics: ServerMetrics, limits: RateLimits, timeout_s: float
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.limits = limits
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        offered = headers.get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = offered if _SANE_ID.fullmatch(offered) else uuid.uuid4().hex
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status = 500
        answering = False

        deadline: asyncio.Timeout | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status, answering
            if message["type"] == "http.response.start":
                answering = True
                status = message["status"]
                if deadline is not None and _is_event_stream(message):
                    deadline.reschedule(None)  # a live stream lasts as long as its page
                message["headers"] = [
                    *message.get("headers", []),
                    (REQUEST_ID_HEADER.encode(), request_id.encode()),
                ]
            await send(message)

        try:
            wait = await self._over_limit(headers, scope)
            if wait is not None:
                self.metrics.rate_limited.inc()
                await _too_many_requests(scope, receive, send_with_id, wait)
            else:
                try:
                    async with asyncio.timeout(self.timeout_s) as deadline:
                        await self.app(scope, receive, send_with_id)
                except TimeoutError:
                    if answering:  # a response under way cannot be replaced: cut it
                        raise
                    self.metrics.timed_out.inc()
                    await _timed_out(scope, receive, send_with_id, self.timeout_s)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.latency.labels(scope["method"], route, str(status)).observe(seconds)
            _log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={"route": route, "status": status, "duration_ms": round(seconds * 1e3, 3)},
            )
            _request_id.reset(token)

    async def _over_limit(self, headers: dict[bytes, bytes], scope: Scope) -> int | None:
        credential = _credential(headers)
        client = scope["client"][0] if scope.get("client") else "unknown"
        try:
            return await self.limits.refusal(credential, client)
        except (TimeoutError, OSError, RedisError) as exc:
            self.metrics.limit_unavailable.inc()
            _log.warning("rate-limit counters unavailable: %s", str(exc) or type(exc).__name__)
            return None


def _is_event_stream(start: Message) -> bool:
    """Whether a response start opens a Server-Sent Events stream."""
    return any(
        name.lower() == b"content-type" and value.startswith(b"text/event-stream")
        for name, value in start.get("headers", [])
    )


def _credential(headers: dict[bytes, bytes]) -> str | None:
    """A digest of the request's bearer token or session cookie (never the secret itself)."""
    raw = headers.get(b"authorization", b"")
    if not raw.lower().startswith(b"bearer "):
        cookies = headers.get(b"cookie", b"")
        match = re.search(rb"(?:^|;\s*)guanghe_session=([^;]+)", cookies)
        raw = match.group(1) if match else b""
    return hashlib.sha256(raw).hexdigest()[:32] if raw else None


async def _timed_out(scope: Scope, receive: Receive, send: Send, timeout_s: float) -> None:
    response = problem(
        503,
        "timed-out",
        "Request timed out",
        f"no answer within {timeout_s:g} s; retry later (writes with their idempotency key)",
        scope["path"],
    )
    response.headers["Retry-After"] = "1"
    await response(scope, receive, send)


async def _too_many_requests(scope: Scope, receive: Receive, send: Send, wait: int) -> None:
    response = problem(
        429,
        "rate-limited",
        "Too many requests",
        f"this credential is over its rate limit; retry in {wait} s",
        scope["path"],
    )
    response.headers["Retry-After"] = str(wait)
    await response(scope, receive, send)
