"""Boost serving: weights from the plan and quotas, idempotent deliveries, shared counters, and
quotas honoured under many parallel callers over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import numpy as np
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from guanghe.app import create_app
from guanghe.runtime import Runtime
from guanghe.snapshots import write_snapshot
from guanghe.store import BoostDelivery, Work, transaction
from guanghe.traffic.serving import (
    MAX_WEIGHT,
    RETRY_AFTER_SECONDS,
    BoostService,
    CountersUnavailable,
    DayPlan,
    InProcessCounters,
    QuotaCounters,
    RedisCounters,
)
from tests.live import serve
from tests.seed import SeedPlatform

PLAN_DAY = dt.date(2026, 12, 1)
NOON = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
REDIS_URL = "redis://127.0.0.1:6379/0"


def write_plan(runtime: Runtime, quotas: dict[int, int], day: dt.date = PLAN_DAY) -> None:
    ids = sorted(quotas)
    table = pa.table(
        {
            "creator_id": pa.array(ids, pa.int64()),
            "pool": ["general"] * len(ids),
            "vertical_id": pa.array([1] * len(ids), pa.int64()),
            "stage": ["novice"] * len(ids),
            "allocated": pa.array([quotas[c] * 7 for c in ids], pa.int64()),
            "delivered": pa.array([0] * len(ids), pa.int64()),
            "quota": pa.array([quotas[c] for c in ids], pa.int64()),
            "expected_follows": [1.0] * len(ids),
        }
    ).replace_schema_metadata({"period_starts_on": str(day), "period_ends_on": str(day)})
    write_snapshot(runtime.settings.snapshots_dir, "traffic_plan", day, table)


def redis_counters() -> RedisCounters:
    return RedisCounters(REDIS_URL, prefix=f"test-{uuid.uuid4().hex}")


def make_service(
    runtime: Runtime,
    counters: QuotaCounters,
    excluded: list[int] | None = None,
    clock: Callable[[], dt.datetime] = lambda: NOON,
) -> BoostService:
    return BoostService(
        runtime.settings.snapshots_dir,
        runtime.sessions,
        counters,
        excluded_works=(lambda _: excluded) if excluded else None,
        clock=clock,
    )


@pytest.fixture(params=["in_process", "redis"])
def counters(request: pytest.FixtureRequest) -> Callable[[], QuotaCounters]:
    if request.param == "redis":
        prefix = f"test-{uuid.uuid4().hex}"
        return lambda: RedisCounters(REDIS_URL, prefix=prefix)
    shared = InProcessCounters()
    return lambda: shared


def test_weights_follow_the_plan_the_quota_and_the_pace(
    runtime: Runtime, seed_platform: SeedPlatform, counters: Callable[[], QuotaCounters]
) -> None:
    write_plan(runtime, {1: 1_000, 2: 10, 3: 1_000})
    service = make_service(runtime, counters(), excluded=[102])
    late = make_service(runtime, counters(), clock=lambda: NOON + dt.timedelta(hours=11.9))
    creators = np.array([1, 2, 3, 4, 999, 3], np.int64)
    works = np.array([100, 101, 102, 103, 104, 108], np.int64)
    weights = service.weights(creators, works)
    at_the_end = late.weights(np.array([1]), np.array([100]))[0]
    # Half the day is left: 1000 remaining against 500 expected is twice the pace.
    assert weights[0] == pytest.approx(1_000 / 501)
    assert weights[1] == pytest.approx(10 / 6)
    assert weights[2] == 0.0  # an excluded (duplicate) work
    assert weights[3] == 0.0  # creator 4 has no plan
    assert weights[4] == 0.0  # unknown creator
    assert 0 < weights[5] <= MAX_WEIGHT
    assert at_the_end == MAX_WEIGHT


def test_deliveries_are_idempotent_and_use_up_the_quota(
    runtime: Runtime, seed_platform: SeedPlatform, counters: Callable[[], QuotaCounters]
) -> None:
    write_plan(runtime, {1: 100, 2: 100})
    service = make_service(runtime, counters())
    with transaction(runtime.sessions) as session:
        reports = service.record(
            session,
            [
                ("a", 1, 100, 60),
                ("a", 1, 100, 60),  # the same delivery again in the batch
                ("b", 2, 100, 5),  # work 100 is creator 1's
                ("c", 4, 103, 5),  # creator 4 has no plan
            ],
        )
    assert [r.status for r in reports] == ["recorded", "duplicate", "unknown_work", "not_planned"]
    with transaction(runtime.sessions) as session:
        again = service.record(session, [("a", 1, 100, 60), ("a", 1, 106, 60), ("d", 1, 106, 40)])
        spent = service.weights(np.array([1, 2]), np.array([100, 101]))
    assert [r.status for r in again] == ["duplicate", "conflict", "recorded"]
    assert spent[0] == 0.0
    assert spent[1] > 0.0
    # A restarted server (fresh in-process counters) catches up from the store.
    restarted = make_service(runtime, InProcessCounters())
    weights = restarted.weights(np.array([1, 2]), np.array([100, 101]))
    assert weights[0] == 0.0
    assert weights[1] > 0.0


def test_a_work_paired_with_another_creator_gets_no_boost(
    runtime: Runtime, seed_platform: SeedPlatform, counters: Callable[[], QuotaCounters]
) -> None:
    write_plan(runtime, {1: 1_000, 2: 1_000})
    service = make_service(runtime, counters())
    # Work 100 is creator 1's and 101 creator 2's; 99_999 does not exist.
    creators = np.array([1, 1, 2, 2, 1], np.int64)
    works = np.array([100, 101, 100, 101, 99_999], np.int64)
    weights = service.weights(creators, works)
    assert weights[0] > 0
    assert weights[3] > 0
    assert weights[[1, 2, 4]].tolist() == [0.0, 0.0, 0.0]


def test_a_work_published_after_the_service_started_is_known_at_the_next_reload(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    write_plan(runtime, {1: 1_000})
    service = make_service(runtime, InProcessCounters())
    assert service.weights(np.array([1]), np.array([500])).tolist() == [0.0]
    with transaction(runtime.sessions) as session:
        session.add(
            Work(
                id=500,
                creator_id=1,
                published_at=NOON,
                title="New",
                caption="new",
                hashtags=[],
                vertical_id=1,
                duration_s=30,
            )
        )
    service._checked = -np.inf  # the reload interval has passed
    assert service.weights(np.array([1]), np.array([500]))[0] > 0


def test_works_published_between_reloads_are_all_known(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    """Each reload reads the works published since the last one, however the owner array has
    grown (before the fix, a reload after the array doubled read from its new length and never
    learnt the works numbered below it: their creators got no boost)."""
    write_plan(runtime, {1: 1_000, 2: 1_000})
    service = make_service(runtime, InProcessCounters())
    with runtime.sessions() as session:
        top = session.scalar(select(func.max(Work.id))) or 0
    for k, creator in enumerate((1, 2, 1, 2), start=1):
        with transaction(runtime.sessions) as session:
            session.add(
                Work(
                    id=top + k,
                    creator_id=creator,
                    published_at=NOON,
                    title="New",
                    caption="new",
                    hashtags=[],
                    vertical_id=1,
                    duration_s=30,
                )
            )
        service._checked = -np.inf  # the reload interval has passed
        weights = service.weights(np.array([creator, 3 - creator]), np.array([top + k] * 2))
        assert weights[0] > 0, f"work {top + k} of creator {creator} unknown after reload {k}"
        assert weights[1] == 0.0


def test_a_plan_past_its_day_boosts_nothing_and_deliveries_keep_their_own_day(
    runtime: Runtime, seed_platform: SeedPlatform, counters: Callable[[], QuotaCounters]
) -> None:
    write_plan(runtime, {1: 1_000, 2: 1_000})
    later = NOON + dt.timedelta(days=3)
    service = make_service(runtime, counters(), clock=lambda: later)
    creators, works = np.array([1, 2], np.int64), np.array([100, 101], np.int64)
    assert service.plan() is not None
    assert service.plan_status(service.plan()) == "expired"
    assert service.weights(creators, works).tolist() == [0.0, 0.0]
    assert service.counts.calls_expired == 1
    assert service.counts.calls_current == 0
    with transaction(runtime.sessions) as session:
        reports = service.record(session, [("late", 1, 100, 7), ("nobody", 4, 103, 1)])
    assert [r.status for r in reports] == ["recorded", "not_planned"]
    assert service.counts.deliveries_without_current_plan == 1
    with transaction(runtime.sessions) as session:
        booked = session.scalars(select(BoostDelivery.day)).all()
    assert booked == [later.date()]  # the day it happened, not the plan's
    # The plan's own day still has its whole quota for creator 1: nothing counted against it.
    on_time = make_service(runtime, counters())
    assert on_time.plan_status(on_time.plan()) == "current"
    assert on_time.weights(creators, works)[0] == pytest.approx(1_000 / 501)


def test_the_day_turning_expires_the_plan_at_once(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    now = [NOON]
    write_plan(runtime, {1: 1_000})
    service = make_service(runtime, InProcessCounters(), clock=lambda: now[0])
    assert service.weights(np.array([1]), np.array([100]))[0] > 0
    now[0] = NOON + dt.timedelta(hours=12, minutes=1)  # just past midnight, well within 30 s
    assert service.weights(np.array([1]), np.array([100])).tolist() == [0.0]
    assert service.plan_status(service.plan()) == "expired"
    write_plan(runtime, {1: 50}, day=PLAN_DAY + dt.timedelta(days=1))
    service._checked = -np.inf  # the reload interval has passed
    assert service.plan_status(service.plan()) == "current"
    assert service.weights(np.array([1]), np.array([100]))[0] > 0


def test_no_plan_no_boost(runtime: Runtime, seed_platform: SeedPlatform) -> None:
    service = make_service(runtime, InProcessCounters())
    with transaction(runtime.sessions) as session:
        assert service.plan() is None
        assert service.weights(np.array([1]), np.array([100])).tolist() == [0.0]
        statuses = [r.status for r in service.record(session, [("x", 1, 100, 1)])]
        assert statuses == ["not_planned"]
        # A plan for a later day is not in force yet.
        write_plan(runtime, {1: 10}, day=PLAN_DAY + dt.timedelta(days=1))
        assert make_service(runtime, InProcessCounters()).plan() is None


def test_boost_api_access_and_bad_input(
    runtime: Runtime, seed_platform: SeedPlatform, token_for: Callable[..., str]
) -> None:
    today = dt.datetime.now(dt.UTC).date()
    write_plan(runtime, {1: 100}, day=today)
    client = TestClient(create_app(runtime))
    ranker = {"Authorization": f"Bearer {token_for('ranker')}"}
    creator = {"Authorization": f"Bearer {token_for('creator', 1)}"}
    body = {"candidates": [{"work_id": 100, "creator_id": 1}]}
    assert client.post("/v1/boost", json=body, headers=creator).status_code == 403
    assert client.post("/v1/boost", json=body).status_code == 401
    ok = client.post("/v1/boost", json=body, headers=ranker)
    assert ok.status_code == 200
    assert ok.json()["plan_day"] == str(today)
    assert ok.json()["plan_status"] == "current"
    assert len(ok.json()["weights"]) == 1
    assert 0 < ok.json()["weights"][0] <= MAX_WEIGHT
    too_many = {"candidates": [{"work_id": 100, "creator_id": 1}] * 1_001}
    for bad in (too_many, {"candidates": [{"work_id": "x", "creator_id": 1}]}, {}):
        response = client.post("/v1/boost", json=bad, headers=ranker)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
    bad_delivery = {
        "deliveries": [{"delivery_id": "", "work_id": 100, "creator_id": 1, "impressions": 0}]
    }
    assert client.post("/v1/boost/deliveries", json=bad_delivery, headers=ranker).status_code == 422


def test_the_boost_api_says_when_its_plan_has_expired(
    runtime: Runtime, seed_platform: SeedPlatform, token_for: Callable[..., str]
) -> None:
    old_day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=5)
    write_plan(runtime, {1: 100}, day=old_day)
    client = TestClient(create_app(runtime))
    ranker = {"Authorization": f"Bearer {token_for('ranker')}"}
    operator = {"Authorization": f"Bearer {token_for('operator')}"}
    body = {"candidates": [{"work_id": 100, "creator_id": 1}]}
    answer = client.post("/v1/boost", json=body, headers=ranker).json()
    assert answer == {"plan_day": str(old_day), "plan_status": "expired", "weights": [0.0]}
    serving = client.get("/v1/boost/serving", headers=operator)
    assert serving.status_code == 200
    assert serving.json()["plan_status"] == "expired"
    assert serving.json()["calls_expired"] == 1
    assert client.get("/v1/boost/serving", headers=ranker).status_code == 403


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("servers", [1, 2], ids=["in_process", "redis_two_servers"])
def test_quotas_hold_under_many_parallel_callers(
    runtime: Runtime, seed_platform: SeedPlatform, token_for: Callable[..., str], servers: int
) -> None:
    quotas = {1: 300, 2: 120, 3: 40, 5: 500}
    write_plan(runtime, quotas)
    prefix = f"test-{uuid.uuid4().hex}"
    headers = {"Authorization": f"Bearer {token_for('ranker')}"}
    callers, candidates = 16, [{"work_id": 100 + c - 1, "creator_id": c} for c in (1, 2, 3, 4, 5)]
    sequence = iter(range(10**9))
    lock = threading.Lock()

    def caller(url: str) -> int:
        delivered = 0
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            while True:
                answer = client.post("/v1/boost", json={"candidates": candidates})
                assert answer.status_code == 200, answer.text
                weights = answer.json()
                boosted = [c for c, w in zip(candidates, weights["weights"], strict=True) if w > 0]
                if not boosted:
                    return delivered
                with lock:
                    ids = [f"d{next(sequence)}" for _ in boosted]
                deliveries = [
                    {
                        "delivery_id": i,
                        "work_id": c["work_id"],
                        "creator_id": c["creator_id"],
                        "impressions": 1,
                    }
                    for i, c in zip(ids, boosted, strict=True)
                ]
                results = client.post("/v1/boost/deliveries", json={"deliveries": deliveries})
                assert {r["status"] for r in results.json()["results"]} == {"recorded"}
                delivered += len(deliveries)

    with ExitStack() as stack:
        urls = []
        for _ in range(servers):
            app = create_app(runtime)
            # A generous timeout: this is about quotas, and 16 callers load a small machine.
            counters: QuotaCounters = (
                RedisCounters(REDIS_URL, prefix=prefix, timeout_seconds=5.0)
                if servers > 1
                else InProcessCounters()
            )
            app.state.boost_service = make_service(runtime, counters)
            urls.append(stack.enter_context(serve(app)))
        # One request per route first, one server at a time: FastAPI builds a route's state on
        # first use and mutates the shared parameter declarations while doing so, which races
        # between two apps' event loops in one process (not between requests of one app).
        for url in urls:
            with httpx.Client(base_url=url, headers=headers) as client:
                assert client.post("/v1/boost", json={"candidates": []}).status_code == 200
                assert client.post("/v1/boost/deliveries", json={}).status_code == 422
        with ThreadPoolExecutor(callers) as pool:
            total = sum(pool.map(caller, [urls[k % servers] for k in range(callers)]))

    with transaction(runtime.sessions) as session:
        per_creator = dict(
            session.execute(
                select(BoostDelivery.creator_id, func.sum(BoostDelivery.impressions)).group_by(
                    BoostDelivery.creator_id
                )
            ).all()
        )
    assert sum(per_creator.values()) == total
    assert 4 not in per_creator
    for creator, quota in quotas.items():
        # Every quota is used up, and overshoot is bounded by the decisions in flight.
        assert quota <= per_creator[creator] <= quota + callers


@pytest.fixture
def stalled_redis() -> Iterator[str]:
    """A Redis URL whose server accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    stop.set()
    thread.join(timeout=5)
    for connection in held:
        connection.close()
    listener.close()


def test_stalled_counters_are_a_quick_503_and_stall_nothing_else(
    runtime: Runtime, seed_platform: SeedPlatform, token_for: Callable[..., str], stalled_redis: str
) -> None:
    write_plan(runtime, {1: 100}, day=dt.datetime.now(dt.UTC).date())
    stalled = Runtime(runtime.settings.model_copy(update={"redis_url": stalled_redis}))
    ranker = {"Authorization": f"Bearer {token_for('ranker')}"}
    creator = {"Authorization": f"Bearer {token_for('creator', 1)}"}
    body = {"candidates": [{"work_id": 100, "creator_id": 1}]}
    delivery = {"delivery_id": "d1", "work_id": 100, "creator_id": 1, "impressions": 1}

    def timed(
        client: httpx.Client, method: str, path: str, **kwargs: object
    ) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
        return response, time.monotonic() - started

    with serve(create_app(stalled)) as url, httpx.Client(base_url=url, timeout=10) as client:
        # Warm up the routes (and the token cache) on a healthy path first.
        assert client.get("/healthz").status_code == 200
        with ThreadPoolExecutor(8) as pool:
            boosts = [
                pool.submit(timed, client, "POST", "/v1/boost", json=body, headers=ranker)
                for _ in range(6)
            ]
            time.sleep(0.01)
            health, health_s = timed(client, "GET", "/healthz")
            page, page_s = timed(client, "GET", "/v1/creators/1", headers=creator)
            answers = [b.result() for b in boosts]
        recorded, recorded_s = timed(
            client, "POST", "/v1/boost/deliveries", json={"deliveries": [delivery]}, headers=ranker
        )
    # Before the fix every request waited out the client's 10 s; the bounds leave room for a
    # loaded CI machine's scheduling, well short of that.
    assert (health.status_code, page.status_code) == (200, 200)
    assert health_s < 3.0, health_s
    assert page_s < 3.0, page_s
    for response, seconds in [*answers, (recorded, recorded_s)]:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) >= 1
        assert seconds < 3.0, seconds
    with transaction(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(BoostDelivery)) == 0
    stalled.close()


def test_counters_that_do_not_answer_fail_fast_and_stay_failed_briefly(stalled_redis: str) -> None:
    counters = RedisCounters(stalled_redis, timeout_seconds=0.05)
    plan = DayPlan.from_arrays(PLAN_DAY, np.array([1, 2]), np.array([10, 10]))
    rows = np.array([0, 1], np.int32)
    started = time.monotonic()
    with pytest.raises(CountersUnavailable) as first:
        counters.add(plan, rows, np.array([1, 1]))
    waited = time.monotonic() - started
    started = time.monotonic()
    with pytest.raises(CountersUnavailable):
        asyncio.run(counters.off_loop(counters.delivered, plan, rows))
    assert time.monotonic() - started < 0.05  # not asked again while it is known down
    assert waited < 1.0
    assert first.value.retry_after_seconds == RETRY_AFTER_SECONDS
