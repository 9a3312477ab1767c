"""Relational store: typed tables, engines, sessions and Alembic migrations."""

from guanghe.store.creator_tables import CreatorTierHistory
from guanghe.store.engine import (
    make_engine,
    schema_is_current,
    session_factory,
    sync_id_sequences,
    transaction,
    upgrade_schema,
    write_transaction,
    writer_engine,
)
from guanghe.store.hotspot_tables import (
    CalendarEvent,
    CalendarFeedToken,
    Hotspot,
    TopicHourlyCount,
)
from guanghe.store.institution_tables import InstitutionContract, SettledDay
from guanghe.store.ledger_tables import (
    OWNER_KINDS,
    TRANSFER_KINDS,
    UNITS,
    LedgerAccount,
    LedgerTransfer,
)
from guanghe.store.models import (
    ApiToken,
    Base,
    Creator,
    Institution,
    User,
    Vertical,
    Work,
)
from guanghe.store.monetize_tables import (
    Advertiser,
    Campaign,
    CreatorMonetization,
    EarningsEstimate,
    Merchant,
    MonetizationConsent,
    Product,
    ProductPlacement,
)
from guanghe.store.originality_tables import (
    OriginalityCase,
    OriginalityDecision,
    WorkFingerprint,
    WorkOriginality,
    WorkTextSignature,
)
from guanghe.store.traffic_tables import BoostDelivery, TrafficBudget

__all__ = [
    "OWNER_KINDS",
    "TRANSFER_KINDS",
    "UNITS",
    "Advertiser",
    "ApiToken",
    "Base",
    "BoostDelivery",
    "CalendarEvent",
    "CalendarFeedToken",
    "Campaign",
    "Creator",
    "CreatorMonetization",
    "CreatorTierHistory",
    "EarningsEstimate",
    "Hotspot",
    "Institution",
    "InstitutionContract",
    "LedgerAccount",
    "LedgerTransfer",
    "Merchant",
    "MonetizationConsent",
    "OriginalityCase",
    "OriginalityDecision",
    "Product",
    "ProductPlacement",
    "SettledDay",
    "TopicHourlyCount",
    "TrafficBudget",
    "User",
    "Vertical",
    "Work",
    "WorkFingerprint",
    "WorkOriginality",
    "WorkTextSignature",
    "make_engine",
    "schema_is_current",
    "session_factory",
    "sync_id_sequences",
    "transaction",
    "upgrade_schema",
    "write_transaction",
    "writer_engine",
]
