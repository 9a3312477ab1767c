"""Every connection of a SQLite engine is set up alike: foreign keys enforced, WAL, normal
syncs and a page cache large enough for a big store's indexes."""

from __future__ import annotations

from pathlib import Path

from guanghe.store import make_engine
from guanghe.store.engine import SQLITE_CACHE_MIB

PRAGMAS = {
    "foreign_keys": 1,
    "journal_mode": "wal",
    "synchronous": 1,  # NORMAL
    "cache_size": -SQLITE_CACHE_MIB * 1024,  # negative: KiB
}


def test_every_sqlite_connection_gets_the_store_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with engine.connect() as first, engine.connect() as second:
            for connection in (first, second):
                got = {p: connection.exec_driver_sql(f"PRAGMA {p}").scalar() for p in PRAGMAS}
                assert got == PRAGMAS
    finally:
        engine.dispose()
