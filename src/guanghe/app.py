"""The one place the application is assembled: the API's routers and the dashboard over one
runtime, and the servers that run it. ``guanghe.api`` and ``guanghe.web`` never import each
other (both share :mod:`guanghe.http`); only this module imports both."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from guanghe.api.limits import BodyLimit, body_limit
from guanghe.api.observability import (
    RateLimits,
    RequestObserver,
    ServerMetrics,
    configure_logging,
)
from guanghe.api.platform_metrics import PlatformCollector
from guanghe.api.problems import document_problems, install_problem_handlers
from guanghe.api.routers import (
    campaigns,
    community,
    courses,
    creators,
    cycle,
    diagnosis,
    experiments,
    growth,
    health,
    hotspots,
    incentives,
    institutions,
    ledger,
    live,
    monetize,
    notifications,
    originality,
    products,
    profile_slots,
    report,
    tasks,
    tokens,
    traffic,
    works,
)
from guanghe.community import make_live_feed
from guanghe.http.deps import refuse_foreign_writes
from guanghe.monetize.slots import CampaignCache
from guanghe.originality import DecodeSlots
from guanghe.runtime import Runtime
from guanghe.web import STATIC_DIR
from guanghe.web import router as web_router


def create_app(runtime: Runtime) -> FastAPI:
    """Build the app serving ``runtime``'s stores. Nothing is opened until the first request."""
    settings = runtime.settings
    limits = RateLimits(
        settings.rate_limit,
        settings.anonymous_rate_limit,
        settings.redis_url,
        timeout_s=settings.redis_timeout_ms / 1000,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with notice_delivery(runtime):
            yield
        await limits.close()
        await app.state.live_feed.close()

    app = FastAPI(
        lifespan=lifespan,
        title="Guanghe",
        version="0.1.0",
        summary="Creator growth and monetization engine",
        openapi_url="/openapi.json",
        dependencies=[Depends(refuse_foreign_writes)],
    )
    app.state.runtime = runtime
    # The app's long-lived state, made here once (nothing connects before the first request).
    app.state.principal_cache = {}
    app.state.boost_service = traffic.make_boost_service(runtime)
    app.state.campaign_cache = CampaignCache()
    app.state.live_feed = make_live_feed(settings.redis_url)
    app.state.metrics = ServerMetrics(CollectorRegistry())
    app.state.metrics.registry.register(PlatformCollector(runtime))
    app.add_middleware(BodyLimit)  # inside the observer: a 413 has a request id and a metric
    app.add_middleware(
        RequestObserver,
        metrics=app.state.metrics,
        limits=limits,
        timeout_s=settings.request_timeout_s,
    )
    app.state.decode_slots = DecodeSlots()
    install_problem_handlers(app)
    for router in (
        health.router,
        creators.router,
        creators.verticals_router,
        works.router,
        growth.router,
        report.router,
        cycle.router,
        ledger.router,
        monetize.router,
        profile_slots.router,
        campaigns.router,
        products.router,
        institutions.router,
        traffic.router,
        incentives.router,
        originality.router,
        diagnosis.router,
        tasks.router,
        tokens.router,
        notifications.router,
        hotspots.router,
        experiments.router,
        live.router,
        courses.router,
        community.router,
    ):
        app.include_router(router)
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


@asynccontextmanager
async def notice_delivery(runtime: Runtime) -> AsyncIterator[None]:
    """A notification delivery worker beside the app while it serves (unless
    ``GUANGHE_NOTIFY_IN_SERVE`` is off), stopped and awaited on shutdown."""
    if not runtime.settings.notify_in_serve:
        yield
        return
    from guanghe.notifications import run_delivery, worker_setup

    setup = worker_setup(runtime.settings, runtime.engine, lambda: dt.datetime.now(dt.UTC))
    stop = asyncio.Event()
    worker = asyncio.create_task(run_delivery(setup, stop))
    try:
        yield
    finally:
        stop.set()
        await worker


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, built once, with every route's problem+json responses."""
    if app.openapi_schema is None:
        app.openapi_schema = document_problems(
            get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            ),
            body_limit,
        )
    return app.openapi_schema


def serve(app: FastAPI, *, host: str, port: int, log_level: str = "info") -> None:
    """Serve ``app`` with Uvicorn (uvloop, httptools) in this process until interrupted."""
    import uvicorn

    configure_logging(log_level)
    _freeze_garbage()
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False, log_config=None)


def serve_workers(*, host: str, port: int, workers: int, log_level: str = "info") -> None:
    """Serve the app of the ``GUANGHE_*`` settings from ``workers`` processes sharing the port
    (PostgreSQL: each process keeps its own pool and caches)."""
    import uvicorn

    uvicorn.run(
        f"{__name__}:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=False,
        log_config=None,
    )


def app_from_environment() -> FastAPI:
    """The app of the ``GUANGHE_*`` settings: the factory each worker process calls."""
    from guanghe.settings import Settings

    app = create_app(Runtime(Settings()))
    configure_logging()
    _freeze_garbage()
    return app


def _freeze_garbage() -> None:
    """Move everything alive (the imported libraries, the loaded app) out of the garbage
    collector's reach (``gc.freeze``): otherwise each full collection walks those millions of
    objects and stalls every request in flight for a few hundred milliseconds."""
    import gc

    gc.collect()
    gc.freeze()
