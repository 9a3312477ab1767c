"""Shared fixtures: every store test runs on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings

from guanghe.access import create_token
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.store import Creator, Institution, Work, transaction
from tests.seed import SeedPlatform

# Property tests draw the same examples on every run, so a red build can be rerun and
# bisected; HYPOTHESIS_PROFILE=explore draws new ones (and keeps failures in .hypothesis/).
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

POSTGRES_URL = os.environ.get(
    "GUANGHE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[sa.Engine]:
    """The PostgreSQL server the suite runs against; failing (not skipping) if unreachable."""
    engine = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc.orig}")
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'guanghe.db'}"
        return
    server: sa.Engine = request.getfixturevalue("postgres_server")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with server.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with server.connect() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def runtime(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on a temporary data dir and a fresh database, schema migrated."""
    rt = Runtime(Settings(data_dir=tmp_path / "data", database_url=database_url))
    rt.init()
    yield rt
    rt.engine.dispose()


@pytest.fixture
def token_for(runtime: Runtime) -> Callable[..., str]:
    """``token_for(role, subject_id=None)``: a fresh bearer token."""

    def make(role: str, subject_id: int | None = None) -> str:
        with transaction(runtime.sessions) as session:
            _, token = create_token(
                session, role=role, subject_id=subject_id, name=f"test {role}", now=NOW
            )
        return token

    return make


@pytest.fixture
def seed_platform(runtime: Runtime) -> SeedPlatform:
    """Two institutions, six creators over three verticals and all stages, 20 works."""
    return insert_seed_platform(runtime)


def insert_seed_platform(runtime: Runtime) -> SeedPlatform:
    """Insert the seed platform (see :func:`seed_platform`)."""
    with transaction(runtime.sessions) as session:
        session.add_all(
            [
                Institution(id=1, name="Starlight MCN", founded_on=dt.date(2020, 1, 1)),
                Institution(id=2, name="Riverbank MCN", founded_on=dt.date(2021, 5, 1)),
            ]
        )
        session.flush()
        specs = [  # id, vertical, followers, stage, institution
            (1, 1, 1_200, "novice", 1),
            (2, 1, 250_000, "growing", 1),
            (3, 2, 2_400_000, "mature", 2),
            (4, 2, 90, "novice", None),
            (5, 3, 45_000, "growing", 2),
            (6, 3, 600_000, "mature", None),
        ]
        session.add_all(
            Creator(
                id=cid,
                handle=f"creator{cid}",
                display_name=f"Creator {cid}",
                vertical_id=vertical,
                joined_on=dt.date(2024, 1, cid),
                follower_count=followers,
                stage=stage,
                institution_id=institution,
            )
            for cid, vertical, followers, stage, institution in specs
        )
        session.flush()
        works = []
        for n in range(20):
            creator_id, vertical = specs[n % 6][0], specs[n % 6][1]
            works.append(
                Work(
                    id=100 + n,
                    creator_id=creator_id,
                    published_at=NOW - dt.timedelta(days=n % 5, hours=n),
                    title=f"Work {n}",
                    caption=f"caption {n}",
                    hashtags=["#demo", f"#tag{n % 3}"],
                    vertical_id=vertical,
                    duration_s=30 + n,
                    cover_path=None,
                )
            )
        session.add_all(works)
    return SeedPlatform(
        creator_ids=[s[0] for s in specs], institution_ids=[1, 2], work_ids=[w.id for w in works]
    )
