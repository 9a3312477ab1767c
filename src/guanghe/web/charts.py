"""Chart.js payloads from the overview: plain JSON-able dicts, embedded in the page."""

from __future__ import annotations

from typing import Any

from guanghe.analytics import PlatformOverview


def stage_chart(overview: PlatformOverview) -> dict[str, Any]:
    """Creators per vertical (x) stacked by lifecycle stage."""
    slugs = [v.slug for v in overview.by_vertical]
    counts = {(s.vertical, s.stage): s.creators for s in overview.by_vertical_stage}
    return {
        "labels": [v.name for v in overview.by_vertical],
        "datasets": [
            {"label": stage.title(), "data": [counts.get((slug, stage), 0) for slug in slugs]}
            for stage in overview.stages
        ],
    }


def works_chart(overview: PlatformOverview) -> dict[str, Any]:
    """Works published per UTC day."""
    return {
        "labels": [d.day.isoformat() for d in overview.works_per_day],
        "datasets": [{"label": "Works", "data": [d.works for d in overview.works_per_day]}],
    }
