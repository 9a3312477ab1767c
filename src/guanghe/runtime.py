"""What an edge (CLI command, API app, pipeline run) needs to reach the stores."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from guanghe.events import EventLog
from guanghe.settings import Settings
from guanghe.store import make_engine, session_factory, upgrade_schema, write_transaction

if TYPE_CHECKING:
    from guanghe.originality import FingerprintIndex
    from guanghe.originality.media import MediaIndex

T = TypeVar("T")


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

    def write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in the store's one kind of write transaction (see
        :func:`guanghe.store.write_transaction`) and return what it returns."""
        return write_transaction(self.engine, work)

    @cached_property
    def event_log(self) -> EventLog:
        return EventLog(self.settings.events_dir)

    @cached_property
    def fingerprint_index(self) -> FingerprintIndex:
        """The deployment's originality fingerprint index, made once per runtime (loaded and
        synced with the store on first search)."""
        # Imported here: originality imports OpenCV, and the store does not need it.
        from guanghe.originality import INDEX_FILE, FingerprintIndex

        return FingerprintIndex((self.settings.data_dir / INDEX_FILE).resolve())

    @cached_property
    def media_index(self) -> MediaIndex:
        """The deployment's video and sound index, made once per runtime (built from the store
        on first search)."""
        from guanghe.originality.media import MediaIndex

        return MediaIndex()

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
