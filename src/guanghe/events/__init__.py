"""Behaviour events: the schema, the date-partitioned Parquet log, validated ingest and the
quarantine of logged events."""

from guanghe.events.files import unprocessable_event_id
from guanghe.events.ingest import INGEST_STAGES, IngestResult, Referents, ingest_file
from guanghe.events.log import EventLog
from guanghe.events.quarantine import QuarantineResult, Tombstone, quarantine_events, tombstones
from guanghe.events.schema import EVENT_SCHEMA, EVENT_TYPES, TOMBSTONE_SCHEMA

__all__ = [
    "EVENT_SCHEMA",
    "EVENT_TYPES",
    "INGEST_STAGES",
    "TOMBSTONE_SCHEMA",
    "EventLog",
    "IngestResult",
    "QuarantineResult",
    "Referents",
    "Tombstone",
    "ingest_file",
    "quarantine_events",
    "tombstones",
    "unprocessable_event_id",
]
