"""Trending topics per vertical (hotspots), the event calendar, and inspiration for each
creator drawn from both."""

from guanghe.hotspots.activity import (
    ENGAGEMENT_TYPES,
    RecountSummary,
    day_hours,
    hours_to_count,
    recount_after_ingest,
    recount_hours,
)
from guanghe.hotspots.calendar import (
    KINDS,
    MAX_ICS_BYTES,
    CalendarEventView,
    EventSpec,
    FeedToken,
    ImportProblem,
    ImportRejected,
    check_calendar_reader,
    create_event,
    create_feed_token,
    creator_feed,
    events_for_vertical,
    import_ics,
    list_events,
    revoke_feed_tokens,
    to_ics,
)
from guanghe.hotspots.detection import (
    DetectionSummary,
    NewHotspot,
    detect_after_ingest,
    detect_hotspots,
    last_detection,
)
from guanghe.hotspots.detector import STATES, HotspotDetector, TopicCounts, hourly_counts
from guanghe.hotspots.inspiration import (
    ExampleWork,
    HotspotView,
    InspirationItem,
    creator_inspiration,
    list_hotspots,
)
from guanghe.hotspots.merging import merge_topics
from guanghe.hotspots.notices import NOTICES_PER_DAY, notify_new_hotspots
from guanghe.hotspots.topics import title_terms, topic_key, work_topics

__all__ = [
    "ENGAGEMENT_TYPES",
    "KINDS",
    "MAX_ICS_BYTES",
    "NOTICES_PER_DAY",
    "STATES",
    "CalendarEventView",
    "DetectionSummary",
    "EventSpec",
    "ExampleWork",
    "FeedToken",
    "HotspotDetector",
    "HotspotView",
    "ImportProblem",
    "ImportRejected",
    "InspirationItem",
    "NewHotspot",
    "RecountSummary",
    "TopicCounts",
    "check_calendar_reader",
    "create_event",
    "create_feed_token",
    "creator_feed",
    "creator_inspiration",
    "day_hours",
    "detect_after_ingest",
    "detect_hotspots",
    "events_for_vertical",
    "hourly_counts",
    "hours_to_count",
    "import_ics",
    "last_detection",
    "list_events",
    "list_hotspots",
    "merge_topics",
    "notify_new_hotspots",
    "recount_after_ingest",
    "recount_hours",
    "revoke_feed_tokens",
    "title_terms",
    "to_ics",
    "topic_key",
    "work_topics",
]
