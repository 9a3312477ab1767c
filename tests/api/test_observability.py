"""Request ids on every response and log line, Prometheus metrics, readiness, rate limits."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from guanghe.api.observability import JsonFormatter, RequestIdFilter
from guanghe.app import create_app
from guanghe.pipelines.reports import CycleRun, Problem, StepReport, save_run
from guanghe.runtime import Runtime
from guanghe.snapshots import write_snapshot
from tests.seed import SeedPlatform


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(runtime: Runtime, seed_platform: SeedPlatform) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def with_settings(runtime: Runtime) -> Iterator[Callable[..., Runtime]]:
    """``with_settings(**changes)``: a runtime on the same stores with some settings changed
    (closed after the test)."""
    made: list[Runtime] = []

    def make(**changes: object) -> Runtime:
        made.append(Runtime(runtime.settings.model_copy(update=changes)))
        return made[-1]

    yield make
    for each in made:
        each.close()


@pytest.fixture
def silent_redis() -> Iterator[str]:
    """A Redis URL whose server accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


def test_every_response_carries_a_request_id_and_every_log_line_too(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO, logger="guanghe.access_log"):
        fresh = client.get("/healthz")
        offered = client.get("/healthz", headers={"X-Request-ID": "ranker-batch-42"})
        hostile = client.get("/healthz", headers={"X-Request-ID": "a b\tc" * 30})
    assert len(fresh.headers["x-request-id"]) == 32
    assert offered.headers["x-request-id"] == "ranker-batch-42"
    assert hostile.headers["x-request-id"] not in {"", "a b\tc" * 30}
    lines = [r for r in caplog.records if r.name == "guanghe.access_log"]
    assert [getattr(r, "request_id", None) for r in lines] == [
        fresh.headers["x-request-id"],
        "ranker-batch-42",
        hostile.headers["x-request-id"],
    ]
    logged = json.loads(JsonFormatter().format(lines[1]))
    assert logged["request_id"] == "ranker-batch-42"
    assert logged["route"] == "/healthz"
    assert logged["status"] == 200
    assert logged["duration_ms"] >= 0


def test_metrics_are_for_operators_and_time_requests_by_route_template(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    operator = token_for("operator")
    assert client.get("/v1/creators/1", headers=auth(operator)).status_code == 200
    assert client.get("/v1/creators/2", headers=auth(operator)).status_code == 200
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=auth(token_for("creator", 1))).status_code == 403
    scraped = client.get("/metrics", headers=auth(operator))
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    line = next(
        line
        for line in scraped.text.splitlines()
        if line.startswith("guanghe_http_request_duration_seconds_count{")
        and 'route="/v1/creators/{creator_id}"' in line
    )
    assert 'method="GET"' in line
    assert 'status="200"' in line
    assert float(line.rsplit(" ", 1)[1]) == 2.0


def test_readiness_checks_the_store_and_redis(
    runtime: Runtime, with_settings: Callable[..., Runtime], silent_redis: str
) -> None:
    with TestClient(create_app(runtime)) as ready:
        assert ready.get("/readyz").json() == {"status": "ready", "store": "ok"}
    redis_up = with_settings(redis_url="redis://127.0.0.1:6379/0")
    with TestClient(create_app(redis_up)) as ready:
        assert ready.get("/readyz").json() == {"status": "ready", "store": "ok", "redis": "ok"}
    stalled = with_settings(redis_url=silent_redis)
    with TestClient(create_app(stalled), raise_server_exceptions=False) as not_ready:
        started = time.perf_counter()
        response = not_ready.get("/readyz")
        assert time.perf_counter() - started < 5
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "Redis" in response.json()["detail"]


def test_a_credential_over_its_rate_is_refused_with_retry_after(
    with_settings: Callable[..., Runtime],
    seed_platform: SeedPlatform,
    token_for: Callable[..., str],
) -> None:
    limited = with_settings(rate_limit="3/minute", anonymous_rate_limit="2/minute")
    first, second = token_for("operator"), token_for("operator")
    with TestClient(create_app(limited), raise_server_exceptions=False) as client:
        assert [client.get("/v1/creators", headers=auth(first)).status_code for _ in range(3)] == [
            200
        ] * 3
        refused = client.get("/v1/creators", headers=auth(first))
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "urn:guanghe:problem:rate-limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert client.get("/v1/creators", headers=auth(second)).status_code == 200
        anonymous = [client.get("/healthz").status_code for _ in range(3)]
        assert anonymous == [200, 200, 429]
        metrics = client.get("/metrics", headers=auth(second)).text
    assert "guanghe_rate_limited_total 2.0" in metrics


def test_redis_counts_a_credential_across_server_processes(
    with_settings: Callable[..., Runtime],
    seed_platform: SeedPlatform,
    token_for: Callable[..., str],
) -> None:
    # What is checked is the count, not the budget: a loaded machine's first connection may
    # take longer than the default 100 ms, and a check past it would let the request through.
    shared = {
        "rate_limit": "2/hour",
        "redis_url": "redis://127.0.0.1:6379/0",
        "redis_timeout_ms": 5000,
    }
    token = token_for("operator")  # a new token: a key of its own in the shared Redis
    with (
        TestClient(create_app(with_settings(**shared))) as one,
        TestClient(create_app(with_settings(**shared))) as two,
    ):
        assert one.get("/v1/creators", headers=auth(token)).status_code == 200
        assert two.get("/v1/creators", headers=auth(token)).status_code == 200
        assert one.get("/v1/creators", headers=auth(token)).status_code == 429
        assert two.get("/v1/creators", headers=auth(token)).status_code == 429


@pytest.fixture
def closing_redis() -> Iterator[str]:
    """A Redis URL whose server closes every connection as soon as it accepts it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                server.accept()[0].close()
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    server.close()


def test_failing_rate_limit_counters_let_requests_through(
    with_settings: Callable[..., Runtime],
    seed_platform: SeedPlatform,
    token_for: Callable[..., str],
    closing_redis: str,
) -> None:
    """Redis's own errors (a closed connection, its socket timeout under load) are not Python's
    ``ConnectionError`` or ``TimeoutError``; they were a 500 for every request under load."""
    failing = with_settings(redis_url=closing_redis)
    token = token_for("operator")
    with TestClient(create_app(failing), raise_server_exceptions=False) as client:
        assert client.get("/v1/creators/1", headers=auth(token)).status_code == 200
        metrics = client.get("/metrics", headers=auth(token)).text
    assert "guanghe_rate_limit_unavailable_total 2.0" in metrics


def test_stalled_rate_limit_counters_let_requests_through_at_once(
    with_settings: Callable[..., Runtime],
    seed_platform: SeedPlatform,
    token_for: Callable[..., str],
    silent_redis: str,
) -> None:
    stalled = with_settings(redis_url=silent_redis)
    token = token_for("operator")
    with TestClient(create_app(stalled), raise_server_exceptions=False) as client:
        started = time.perf_counter()
        assert client.get("/v1/creators/1", headers=auth(token)).status_code == 200
        assert time.perf_counter() - started < 1.0
        metrics = client.get("/metrics", headers=auth(token)).text
    assert "guanghe_rate_limit_unavailable_total 2.0" in metrics


def test_metrics_show_the_last_cycle_run_the_allocation_and_the_ledger(
    client: TestClient, runtime: Runtime, token_for: Callable[..., str]
) -> None:
    root = runtime.settings.snapshots_dir
    day = dt.date(2026, 11, 28)
    save_run(
        root,
        CycleRun(
            day,
            dt.datetime(2026, 11, 28, 23, 59, tzinfo=dt.UTC),
            "duckdb",
            (
                StepReport("features", {"creators": 6}, (), 1.5),
                StepReport(
                    "settlement",
                    {"transfers_created": 3},
                    (Problem("ad_event", "e1", "budget exhausted", affects_money=True),),
                    0.25,
                ),
            ),
        ),
    )
    allocation = pa.table({"creator_id": [1]}).replace_schema_metadata(
        {
            "objective": "12.5",
            "duality_gap": "1e-12",
            "max_violation": "0.0",
            "unplannable": json.dumps({"general": 4000}),
        }
    )
    write_snapshot(root, "traffic_allocation", day, allocation)
    text = client.get("/metrics", headers=auth(token_for("operator"))).text
    assert 'guanghe_cycle_step_duration_seconds{step="features"} 1.5' in text
    assert 'guanghe_cycle_step_problems{money="true",step="settlement"} 1.0' in text
    assert 'guanghe_traffic_allocation{figure="objective"} 12.5' in text
    assert 'guanghe_traffic_unplannable_impressions{pool="general"} 4000.0' in text
    assert 'guanghe_ledger_earnings_fen{owner_kind="creator",side="credited"} 0.0' in text


def test_a_request_past_its_deadline_is_a_503_and_others_are_answered(
    with_settings: Callable[..., Runtime],
    seed_platform: SeedPlatform,
    token_for: Callable[..., str],
) -> None:
    app = create_app(with_settings(request_timeout_s=0.3, notify_in_serve=False))

    async def stuck() -> dict[str, str]:
        await asyncio.sleep(5)
        return {"status": "late"}

    app.add_api_route("/stuck", stuck)
    with TestClient(app, raise_server_exceptions=False) as client:
        started = time.perf_counter()
        late = client.get("/stuck")
        assert time.perf_counter() - started < 3
        assert client.get("/healthz").status_code == 200
        metrics = client.get("/metrics", headers=auth(token_for("operator"))).text
    assert late.status_code == 503
    assert late.headers["content-type"] == "application/problem+json"
    assert late.json()["type"] == "urn:guanghe:problem:timed-out"
    assert late.headers["retry-after"] == "1"
    assert "guanghe_request_timeouts_total 1.0" in metrics
