"""Alembic environment: migrates the engine handed over in ``config.attributes``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from guanghe.store.community_tables import SEARCH_INDEX_NAMES
from guanghe.store.models import Base

engine = context.config.attributes["engine"]
assert isinstance(engine, Engine)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        # the dialect's own search index over community posts is not in the models
        include_name=lambda name, type_, parents: name not in SEARCH_INDEX_NAMES,
    )
    context.run_migrations()
