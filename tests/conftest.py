"""Shared fixtures: every store test runs on SQLite and on the real PostgreSQL, each test on a
database of its own at the newest schema, migrated once per backend per session (see
``tests/databases.py``)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from _pytest.nodeid import coerce_node_id
from hypothesis import settings

from guanghe.access import create_token
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.store import Creator, Institution, Work, transaction
from tests.databases import PostgresSchemas, migrated_sqlite_file, schema_of, schema_url
from tests.kernels import compile_kernels
from tests.pipelines.sample import AS_OF, log_sample_events
from tests.seed import SeedPlatform

# Property tests draw the same examples on every run, so a red build can be rerun and
# bisected; HYPOTHESIS_PROFILE=explore draws new ones (and keeps failures in .hypothesis/).
# No per-example deadline: speed is measured by the benchmarks, and a deadline fails an example
# that merely ran on a busy machine.
settings.register_profile("repeatable", derandomize=True, database=None, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# Every JVM the tests start (the local Spark session, the standalone cluster's master, worker
# and executors, a `guanghe cycle --engine spark` child) lives seconds to minutes on small data:
# the C1 compiler alone and the serial collector halve their CPU (the Spark tests: 67 -> 31 s
# of JVM CPU) and change no result. An explicit JAVA_TOOL_OPTIONS wins.
os.environ.setdefault("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")

# A test's PostgreSQL commits need not survive a crash of the server (never done; the crash tests
# kill clients): without waiting for each commit's WAL flush (about 5 ms here, some 10,000 a
# run) a test's wall time is its CPU. Connections naming their own options (``schema_url``) say
# the same; an explicit PGOPTIONS wins.
os.environ.setdefault("PGOPTIONS", "-c synchronous_commit=off")

_KERNELS = pytest.StashKey[str]()


def pytest_configure(config: pytest.Config) -> None:
    """Under ``pytest -n`` the controller compiles the Numba kernels once (``tests/kernels.py``)
    before the workers start, so that they load them instead of each compiling them."""
    if hasattr(config, "workerinput") or not config.getoption("numprocesses", None):
        return
    started = time.perf_counter()
    failed = compile_kernels()
    config.stash[_KERNELS] = (
        f"Numba kernels compiled or loaded in {time.perf_counter() - started:.1f} s"
    )
    for line in failed:
        config.issue_config_time_warning(
            pytest.PytestWarning(f"kernel not compiled before the workers: {line}"), stacklevel=2
        )


def pytest_report_header(config: pytest.Config) -> str | None:
    """How long the controller's compilation took (a line of the run's header)."""
    return config.stash.get(_KERNELS, None)


POSTGRES_URL = os.environ.get(
    "GUANGHE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[sa.Engine]:
    """The PostgreSQL server the suite runs against (autocommit connections); failing, not
    skipping, if unreachable."""
    engine = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc.orig}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_schemas(postgres_server: sa.Engine) -> Iterator[PostgresSchemas]:
    """The session's pool of migrated PostgreSQL schemas (migrating once, on first use)."""
    schemas = PostgresSchemas.record(POSTGRES_URL)
    yield schemas
    schemas.drop_all()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session, for tests to copy."""
    return migrated_sqlite_file(tmp_path_factory.mktemp("template") / "guanghe.db")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own at the newest schema, holding only what the migrations
    insert: a copy of the session's migrated SQLite file, or a PostgreSQL schema from the
    session's pool (emptied back to the migrated state after the test)."""
    if request.param == "sqlite":
        path = tmp_path / "guanghe.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    schemas: PostgresSchemas = request.getfixturevalue("postgres_schemas")
    schema = schemas.take()
    yield schema_url(POSTGRES_URL, schema)
    schemas.give_back(schema)


@pytest.fixture
def empty_database_url(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[str]:
    """An empty database (no tables at all) on the backend of ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: sa.Engine = request.getfixturevalue("postgres_server")
    schema = f"e_{uuid.uuid4().hex[:16]}"
    with server.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield schema_url(POSTGRES_URL, schema)
    with server.connect() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def runtime(database_url: str, tmp_path: Path) -> Iterator[Runtime]:
    """A runtime on a temporary data dir and a fresh database, schema migrated."""
    rt = Runtime(Settings(data_dir=tmp_path / "data", database_url=database_url))
    rt.settings.data_dir.mkdir(parents=True)  # rt.init() less the migration: done already
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
def seed_platform(request: pytest.FixtureRequest, runtime: Runtime) -> SeedPlatform:
    """Two institutions, six creators over three verticals and all stages, 20 works (in a
    test that asks for ``cycled_platform`` too: that, the platform after the cycle)."""
    if "cycled_platform" in request.fixturenames:
        platform: SeedPlatform = request.getfixturevalue("cycled_platform")
        return platform
    return insert_seed_platform(runtime)


@dataclass(frozen=True)
class CycledStore:
    """A store built once per backend per session for tests to copy: its database (a SQLite
    file or a PostgreSQL schema of the session's pool), its data dir and what it holds."""

    database: str
    data_dir: Path
    platform: SeedPlatform


@pytest.fixture(scope="session")
def cycled_stores() -> dict[str, CycledStore]:
    """The session's cycled stores by backend, each built on first use (see
    :func:`cycled_platform`)."""
    return {}


@pytest.fixture
def cycled_platform(
    request: pytest.FixtureRequest,
    runtime: Runtime,
    cycled_stores: dict[str, CycledStore],
    tmp_path_factory: pytest.TempPathFactory,
) -> SeedPlatform:
    """The seed platform (:func:`seed_platform`) with the sample events
    (``tests/pipelines/sample.py``) and the daily cycle run for ``AS_OF``, in the test's own
    ``runtime``: the cycle runs once per backend per session (per xdist worker), on a store
    that each test then copies (SQLite: its file; PostgreSQL: its rows and sequence positions,
    into the test's schema) with its data dir (event log, snapshots, indexes). A test may
    write: it writes to its copy. It replaces the test's database, so it comes before any
    fixture that opens the store: those that need a platform ask for ``seed_platform``, which
    in a test asking for ``cycled_platform`` is this one."""
    url = runtime.settings.database_url
    backend = "sqlite" if url.startswith("sqlite") else "postgresql"
    if backend not in cycled_stores:
        cycled_stores[backend] = _build_cycled_store(request, backend, tmp_path_factory)
    store = cycled_stores[backend]
    runtime.close()
    if backend == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        if path.with_name(path.name + "-wal").exists():
            pytest.fail("cycled_platform replaces the database: it comes before any other use")
        shutil.copyfile(store.database, path)
    else:
        schemas: PostgresSchemas = request.getfixturevalue("postgres_schemas")
        schemas.copy_rows(schema_of(url), store.database)
    shutil.copytree(store.data_dir, runtime.settings.data_dir, dirs_exist_ok=True)
    return store.platform


def _build_cycled_store(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> CycledStore:
    """Insert the seed platform and the sample events into a new store and run the cycle."""
    from guanghe.pipelines import run_cycle  # here: a session without the cycle imports none of it

    root = tmp_path_factory.mktemp(f"cycled_{backend}")
    if backend == "sqlite":
        database = str(root / "guanghe.db")
        shutil.copyfile(request.getfixturevalue("sqlite_template"), database)
        url = f"sqlite:///{database}"
    else:
        schemas: PostgresSchemas = request.getfixturevalue("postgres_schemas")
        database = schemas.take()  # kept for the session: dropped with the pool
        url = schema_url(POSTGRES_URL, database)
    with Runtime(Settings(data_dir=root / "data", database_url=url)) as built:
        built.settings.data_dir.mkdir(parents=True)
        platform = insert_seed_platform(built)
        log_sample_events(built)
        run_cycle(built, AS_OF)
    if backend == "sqlite":  # the file alone holds the store, for copies
        connection = sqlite3.connect(database)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
    return CycledStore(database, root / "data", platform)


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


@pytest.hookimpl(wrapper=True)  # around pytest-xdist's reading of the groups
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> Iterator[None]:
    """Mark every test that uses the ``spark`` fixture ``spark`` (``make test-fast`` leaves
    them out), so that no new one can forget it; and put every Spark test in one xdist group,
    so that under ``pytest -n`` one worker starts the JVMs (a local session is 2 GB and
    seconds to start) and the other runs everything else meanwhile.

    Every other module whose tests use a module-scoped fixture of the suite's own (a generated
    platform, a video index, a live server) is an xdist group of its own: the workers take
    tests one at a time, so a module's tests would be spread over both and each would build
    the fixture (the demo platform: about 13 s of CPU) once.

    ``--dist loadgroup`` reads a test's group off its id (``…@group``), which pytest-xdist 3.8
    appends by setting ``item._nodeid``; pytest 9.2 keeps the id in ``item._id`` and ignores
    that, so every group was silently spread over both workers (both started Spark;
    pytest-dev/pytest-xdist#1386, fix pending in #1388). After pytest-xdist's hook, a grouped
    test whose id still lacks the suffix gets it here."""
    for item in items:
        if "spark" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.spark)
        if item.get_closest_marker("spark") is not None:
            item.add_marker(pytest.mark.xdist_group("spark"))
        elif item.get_closest_marker("xdist_group") is None and _uses_a_module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
    yield
    if "PYTEST_XDIST_WORKER" not in os.environ or not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        groups = sorted({str(m.args[0]) for m in item.iter_markers("xdist_group") if m.args})
        if groups and "@" not in item.nodeid.rpartition("::")[2].rpartition("]")[2]:
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(groups)}")


def _uses_a_module_fixture(item: pytest.Item) -> bool:
    """Whether ``item`` uses a module- (or package-) scoped fixture defined in the suite (a
    plugin's fixtures have no base id)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(
        definition.scope in ("module", "package") and definition.baseid
        for definitions in info.name2fixturedefs.values()
        for definition in definitions
    )
