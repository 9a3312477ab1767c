"""Ecosystem reporting: platform overview and year-over-year statistics."""

from guanghe.analytics.overview import (
    CreatorRank,
    DayCount,
    PlatformOverview,
    StageCount,
    VerticalSummary,
    platform_overview,
)
from guanghe.analytics.report import (
    EarningsSource,
    EcosystemReport,
    Figure,
    LedgerEarnings,
    Metric,
    Period,
    ecosystem_report,
    parse_period,
)

__all__ = [
    "CreatorRank",
    "DayCount",
    "EarningsSource",
    "EcosystemReport",
    "Figure",
    "LedgerEarnings",
    "Metric",
    "Period",
    "PlatformOverview",
    "StageCount",
    "VerticalSummary",
    "ecosystem_report",
    "parse_period",
    "platform_overview",
]
