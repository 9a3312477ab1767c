"""The dashboard's router and where its templates and static files live."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter

from guanghe.web import (
    community,
    cycle,
    dashboard,
    experiments,
    hotspots,
    institutions,
    live,
    monetize,
    notifications,
    originality,
    report,
    signin,
    tasks,
    traffic,
)

STATIC_DIR = Path(__file__).parent / "static"

router = APIRouter(include_in_schema=False)
router.include_router(signin.router)
router.include_router(dashboard.router)
router.include_router(report.router)
router.include_router(cycle.router)
router.include_router(monetize.router)
router.include_router(traffic.router)
router.include_router(originality.router)
router.include_router(hotspots.router)
router.include_router(tasks.router)
router.include_router(institutions.router)
router.include_router(notifications.router)
router.include_router(experiments.router)
router.include_router(live.router)
router.include_router(community.router)
