"""Ecosystem reporting: platform overview and year-over-year statistics."""

from guanghe.analytics.overview import (
    CreatorRank,
    DayCount,
    PlatformOverview,
    StageCount,
    VerticalSummary,
    platform_overview,
)

__all__ = [
    "CreatorRank",
    "DayCount",
    "PlatformOverview",
    "StageCount",
    "VerticalSummary",
    "platform_overview",
]
