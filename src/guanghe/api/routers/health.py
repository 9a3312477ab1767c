"""Liveness, readiness and metrics."""

from __future__ import annotations

import asyncio
from typing import Annotated, Final

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from guanghe.access import Principal
from guanghe.api.observability import ServerMetrics
from guanghe.errors import Unavailable
from guanghe.http.deps import SessionDep, get_runtime, require_role

router = APIRouter(tags=["health"])
Operator = Annotated[Principal, require_role("operator")]

#: How long readiness waits for each dependency before calling it down.
READY_TIMEOUT_SECONDS: Final = 2.0


@router.get("/healthz")
def healthz(session: SessionDep) -> dict[str, str]:
    """``ok`` when the relational store answers."""
    session.execute(text("SELECT 1"))
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "a dependency does not answer"}})
async def readyz(request: Request) -> dict[str, str]:
    """``ready`` when the relational store and, where configured, Redis answer within
    :data:`READY_TIMEOUT_SECONDS`; a 503 problem naming the one that does not, otherwise."""
    runtime = get_runtime(request)

    def store() -> None:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    checks = {"store": "ok"}
    try:
        await asyncio.wait_for(run_in_threadpool(store), READY_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure to answer is "not ready", with its reason
        raise Unavailable(f"the relational store does not answer: {exc or 'timeout'}") from exc
    redis_url = runtime.settings.redis_url
    if redis_url:
        from redis.asyncio import Redis

        client = Redis.from_url(redis_url, socket_timeout=READY_TIMEOUT_SECONDS)
        try:
            await asyncio.wait_for(client.ping(), READY_TIMEOUT_SECONDS)
        except Exception as exc:  # as above
            raise Unavailable(f"Redis does not answer: {exc or 'timeout'}") from exc
        finally:
            await client.aclose()
        checks["redis"] = "ok"
    return {"status": "ready", **checks}


@router.get("/metrics", response_class=Response)
def metrics(request: Request, _: Operator) -> Response:
    """The server's metrics in the Prometheus text format (operators' tokens: scrape with
    ``authorization: {credentials: <token>}``)."""
    server_metrics = request.app.state.metrics
    assert isinstance(server_metrics, ServerMetrics)
    return Response(generate_latest(server_metrics.registry), media_type=CONTENT_TYPE_LATEST)
