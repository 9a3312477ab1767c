"""Behaviour events: the schema, the date-partitioned Parquet log and validated ingest."""

from guanghe.events.ingest import IngestResult, Referents, ingest_file
from guanghe.events.log import EventLog
from guanghe.events.schema import EVENT_SCHEMA, EVENT_TYPES

__all__ = ["EVENT_SCHEMA", "EVENT_TYPES", "EventLog", "IngestResult", "Referents", "ingest_file"]
