"""The cycle's ``hotspots`` step: recount the day's 24 hourly topic counts from the works and
the event log, then detect hotspots as of the cycle's ``now``."""

from __future__ import annotations

from guanghe.pipelines.context import CycleContext
from guanghe.pipelines.reports import StepReport


def run(ctx: CycleContext) -> StepReport:
    """Recount ``ctx.date``'s hours and refresh the hotspots; re-running a date gives the same
    counts and the same hotspots."""
    from guanghe import hotspots

    log = ctx.runtime.event_log
    recount = ctx.runtime.write(
        lambda s: hotspots.recount_hours(s, log, hotspots.day_hours(ctx.date))
    )
    found = ctx.runtime.write(lambda s: hotspots.detect_hotspots(s, log, now=ctx.now))
    return StepReport(
        "hotspots",
        {
            "hours_counted": recount.hours,
            "works_counted": recount.works,
            "engagement_counted": recount.engagement,
            "topics_scored": found.keys_scored,
            "hotspots_active": found.active,
            "hotspots_new": len(found.new),
            "hotspots_ended": found.ended,
        },
    )
