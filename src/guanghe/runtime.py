"""What an edge (CLI command, API app, pipeline run) needs to reach the stores."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from guanghe.events import EventLog
from guanghe.settings import Settings
from guanghe.store import make_engine, session_factory, upgrade_schema


@dataclass
class Runtime:
    """The stores of one deployment, opened lazily from its settings."""

    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.resolved_database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    @cached_property
    def event_log(self) -> EventLog:
        return EventLog(self.settings.events_dir)

    def close(self) -> None:
        """Release pooled database connections, if any were opened."""
        if "engine" in self.__dict__:
            self.engine.dispose()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def init(self) -> None:
        """Create the data directory and bring the schema up to date (idempotent)."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade_schema(self.engine)
