"""The migrations build exactly the schema the models describe (no drift either way)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from guanghe.runtime import Runtime
from guanghe.store import SEARCH_INDEX_NAMES, Base


def test_migrated_schema_matches_the_models(runtime: Runtime) -> None:
    with runtime.engine.connect() as connection:
        # the dialect's own search index over community posts (FTS5, GIN) is not modelled
        opts = {
            "compare_type": True,
            "include_name": lambda name, type_, parents: name not in SEARCH_INDEX_NAMES,
        }
        context = MigrationContext.configure(connection, opts=opts)
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
