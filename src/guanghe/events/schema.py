"""The behaviour-event schema shared by ingest, the event log, the simulator and the pipelines.

One row is one event, or ``count`` identical actions rolled up by the producer (a ranker
flushing a minute of exposures of one work, say). Columns:

============  ==========================  ====================================================
column        type                        meaning
============  ==========================  ====================================================
event_id      string, required            globally unique; ingest is idempotent on it
type          string, required            one of :data:`EVENT_TYPES`
ts            timestamp (µs, UTC)         when it happened; RFC 3339 with an offset on input
creator_id    int64, required             the creator the event is about
work_id       int64 or null               the work, when the event concerns one
count         int64 >= 1, default 1       identical actions this row stands for (1 for orders)
boosted       bool                        exposures only, required: paid traffic support or not
amount_fen    int64 > 0                   orders (required): order value in fen (CNY); refunds:
                                          the amount refunded; ad impressions and clicks: what
                                          the advertiser was charged for the row
commission_fen  int64 >= 0                orders: the commission the merchant pays on it
campaign_id   int64 or null               ad impressions and clicks: the advertiser campaign
product_id    int64 or null               orders: the product sold
ref_event_id  string                      refunds (required): the ``event_id`` of the order
============  ==========================  ====================================================

On disk the log is Hive-partitioned by the UTC date of ``ts``: ``events/date=YYYY-MM-DD/``.
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

EVENT_TYPES: Final = (
    "exposure",
    "play",
    "like",
    "comment",
    "share",
    "follow",
    "unfollow",
    "order",
    "ad_impression",
    "ad_click",
    "refund",
)

EVENT_SCHEMA: Final = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("type", pa.string(), nullable=False),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("creator_id", pa.int64(), nullable=False),
        pa.field("work_id", pa.int64()),
        pa.field("count", pa.int64(), nullable=False),
        pa.field("boosted", pa.bool_()),
        pa.field("amount_fen", pa.int64()),
        pa.field("campaign_id", pa.int64()),
        pa.field("product_id", pa.int64()),
        pa.field("commission_fen", pa.int64()),
        pa.field("ref_event_id", pa.string()),
    ]
)

REQUIRED_COLUMNS: Final = ("event_id", "type", "ts", "creator_id")
OPTIONAL_COLUMNS: Final = tuple(n for n in EVENT_SCHEMA.names if n not in REQUIRED_COLUMNS)

#: Per type, the type-specific columns it must carry, and those it may carry.
TYPE_REQUIRES: Final = {
    "exposure": ("boosted",),
    "order": ("amount_fen",),
    "refund": ("ref_event_id",),
}
TYPE_ALLOWS: Final = {
    "exposure": ("boosted",),
    "order": ("amount_fen", "product_id", "commission_fen"),
    "ad_impression": ("campaign_id", "amount_fen"),
    "ad_click": ("campaign_id", "amount_fen"),
    "refund": ("ref_event_id", "amount_fen", "product_id"),
}
TYPE_SPECIFIC_COLUMNS: Final = (
    "boosted",
    "amount_fen",
    "campaign_id",
    "product_id",
    "commission_fen",
    "ref_event_id",
)

#: One tombstone of the log's quarantine: a logged event every reader must pass over.
TOMBSTONE_SCHEMA: Final = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("quarantined_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("quarantined_by", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
    ]
)
