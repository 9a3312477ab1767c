"""The FastAPI application: API routers and the dashboard, over one runtime."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from guanghe.api.problems import install_problem_handlers
from guanghe.api.routers import (
    campaigns,
    creators,
    diagnosis,
    growth,
    health,
    ledger,
    monetize,
    originality,
    products,
    profile_slots,
    report,
    traffic,
    works,
)
from guanghe.runtime import Runtime


def create_app(runtime: Runtime) -> FastAPI:
    """Build the app serving ``runtime``'s stores. Nothing is opened until the first request."""
    app = FastAPI(
        title="Guanghe",
        version="0.1.0",
        summary="Creator growth and monetization engine",
        openapi_url="/openapi.json",
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    for router in (
        health.router,
        creators.router,
        works.router,
        growth.router,
        report.router,
        ledger.router,
        monetize.router,
        profile_slots.router,
        campaigns.router,
        products.router,
        traffic.router,
        originality.router,
        diagnosis.router,
    ):
        app.include_router(router)
    # Imported here: the dashboard uses this package's dependencies, so a top-level import
    # would be circular when ``guanghe.web`` is imported first.
    from guanghe.web import STATIC_DIR
    from guanghe.web import router as web_router

    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def serve(app: FastAPI, *, host: str, port: int, log_level: str = "info") -> None:
    """Serve ``app`` with Uvicorn until interrupted.

    Everything alive at start (the imported libraries, the loaded app) is moved out of the
    garbage collector's reach first (``gc.freeze``): otherwise each full collection walks those
    millions of objects and stalls every request in flight for a few hundred milliseconds.
    """
    import gc

    import uvicorn

    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_level=log_level)
