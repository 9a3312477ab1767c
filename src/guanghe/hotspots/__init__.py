"""Trending topics per vertical (hotspots), the event calendar, and inspiration for each
creator drawn from both."""

from guanghe.hotspots.activity import (
    ENGAGEMENT_TYPES,
    RecountSummary,
    day_hours,
    recount_after_ingest,
    recount_hours,
)
from guanghe.hotspots.detection import (
    DetectionSummary,
    NewHotspot,
    detect_hotspots,
    last_detection,
)
from guanghe.hotspots.detector import STATES, HotspotDetector, TopicCounts, hourly_counts
from guanghe.hotspots.merging import merge_topics
from guanghe.hotspots.topics import title_terms, topic_key, work_topics

__all__ = [
    "ENGAGEMENT_TYPES",
    "STATES",
    "DetectionSummary",
    "HotspotDetector",
    "NewHotspot",
    "RecountSummary",
    "TopicCounts",
    "day_hours",
    "detect_hotspots",
    "hourly_counts",
    "last_detection",
    "merge_topics",
    "recount_after_ingest",
    "recount_hours",
    "title_terms",
    "topic_key",
    "work_topics",
]
