"""The cycle's ``hotspots`` step: recount the day's 24 hourly topic counts from the works and
the event log (and any hour of the detector's span never counted, so a first cycle has its
baseline), then detect hotspots as of the cycle's ``now``."""

from __future__ import annotations

from sqlalchemy.orm import Session

from guanghe.pipelines.context import CycleContext
from guanghe.pipelines.reports import StepReport


def run(ctx: CycleContext) -> StepReport:
    """Recount ``ctx.date``'s hours and refresh the hotspots; re-running a date gives the same
    counts and the same hotspots."""
    from guanghe import hotspots

    log = ctx.runtime.event_log
    detector = hotspots.HotspotDetector()
    span = detector.baseline_hours + max(detector.windows_hours)

    def recount(session: Session) -> hotspots.RecountSummary:
        hours = hotspots.hours_to_count(session, ctx.date, span_hours=span)
        return hotspots.recount_hours(session, log, hours)

    counted = ctx.runtime.write(recount)
    found = ctx.runtime.write(
        lambda s: hotspots.detect_hotspots(s, log, now=ctx.now, detector=detector)
    )
    return StepReport(
        "hotspots",
        {
            "hours_counted": counted.hours,
            "works_counted": counted.works,
            "engagement_counted": counted.engagement,
            "topics_scored": found.keys_scored,
            "hotspots_active": found.active,
            "hotspots_new": len(found.new),
            "hotspots_ended": found.ended,
            "hotspot_notices": found.notices,
        },
    )
