"""Relational store: typed tables, engines, sessions and Alembic migrations."""

from guanghe.store.engine import (
    make_engine,
    schema_is_current,
    session_factory,
    transaction,
    upgrade_schema,
)
from guanghe.store.models import (
    ROLES,
    STAGES,
    ApiToken,
    Base,
    Creator,
    Institution,
    User,
    Vertical,
    Work,
)

__all__ = [
    "ROLES",
    "STAGES",
    "ApiToken",
    "Base",
    "Creator",
    "Institution",
    "User",
    "Vertical",
    "Work",
    "make_engine",
    "schema_is_current",
    "session_factory",
    "transaction",
    "upgrade_schema",
]
