"""Boost serving: candidate decisions per second in process, and HTTP latency under load.

``python -m bench boost_serving [--creators N] [--seconds S] [--rate R] [--candidates C]
[--connections C]``

1. **In process**: weights for batches of candidates drawn over a plan of ``--creators``
   creators, side by side: our fused Numba kernel over in-process counters, the same decision
   in vectorised NumPy, and the Redis counters path (one ``HMGET`` per batch). Median of five
   runs, in candidate decisions per second.
2. **HTTP**: ``POST /v1/boost`` with ``--candidates`` candidates per request at ``--rate``
   requests per second (open loop over up to ``--connections`` client connections; latency
   from each request's scheduled time) for ``--seconds`` seconds after one second of warm-up,
   against a Uvicorn server in another process, with in-process counters and with Redis
   counters. Latency percentiles in milliseconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import socket
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from bench._http import open_loop

REDIS_URL = "redis://127.0.0.1:6379/0"
Array = np.ndarray[Any, Any]


def _write_plan(data_dir: Path, creators: int, day: dt.date, seed: int = 0) -> None:
    import pyarrow as pa

    from guanghe.settings import Settings
    from guanghe.snapshots import write_snapshot

    rng = np.random.default_rng(seed)
    ids = np.arange(1, creators + 1, dtype=np.int64)
    quota = rng.integers(100, 50_000, creators)
    table = pa.table(
        {
            "creator_id": ids,
            "pool": pa.array(["general"] * creators),
            "vertical_id": rng.integers(1, 17, creators),
            "stage": pa.array(["novice"] * creators),
            "allocated": quota * 7,
            "delivered": np.zeros(creators, np.int64),
            "quota": quota,
            "expected_follows": np.ones(creators),
        }
    ).replace_schema_metadata({"period_starts_on": str(day), "period_ends_on": str(day)})
    write_snapshot(Settings(data_dir=data_dir).snapshots_dir, "traffic_plan", day, table)


def _numpy_weights(
    creator_id: Array,
    work_id: Array,
    row_of: Array,
    quota: Array,
    delivered: Array,
    excluded: Array,
    fraction: float,
    max_weight: float,
) -> Array:
    """The same decision as the kernel, in vectorised NumPy (the peer)."""
    inside = (creator_id >= 0) & (creator_id < row_of.shape[0])
    rows = np.where(inside, row_of[np.where(inside, creator_id, 0)], -1)
    ok = rows >= 0
    safe = np.where(ok, rows, 0)
    work_ok = (work_id < 0) | (work_id >= excluded.shape[0])
    work_ok |= ~excluded[np.clip(work_id, 0, max(excluded.shape[0] - 1, 0))]
    left = quota[safe] - delivered[safe]
    weight = np.minimum(max_weight, left / (quota[safe] * fraction + 1.0))
    result: Array = np.where(ok & work_ok & (left > 0), weight, 0.0)
    return result


def in_process(creators: int, batch: int, total: int) -> list[tuple[str, float]]:
    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.traffic.serving import (
        MAX_WEIGHT,
        BoostService,
        InProcessCounters,
        RedisCounters,
    )

    day = dt.datetime.now(dt.UTC).date()
    rng = np.random.default_rng(1)
    results = []
    with tempfile.TemporaryDirectory(prefix="guanghe-boost-") as tmp:
        data_dir = Path(tmp)
        _write_plan(data_dir, creators, day)
        with Runtime(Settings(data_dir=data_dir, database_url="")) as runtime:
            runtime.init()
            snapshots, sessions = runtime.settings.snapshots_dir, runtime.sessions
            local = BoostService(snapshots, sessions, InProcessCounters())
            shared = BoostService(
                snapshots, sessions, RedisCounters(REDIS_URL, prefix=f"bench-{uuid.uuid4()}")
            )
            plan = local.plan()
            shared.plan()
            assert plan is not None
            creator_ids = rng.integers(1, int(creators * 1.1), total)
            work_ids = rng.integers(1, 10_000_000, total)
            counters = np.zeros(plan.quota.shape[0], np.int64)
            excluded = np.zeros(1, np.bool_)

            def ours() -> None:
                for at in range(0, total, batch):
                    local.weights(creator_ids[at : at + batch], work_ids[at : at + batch])

            def numpy_peer() -> None:
                fraction = local.remaining_fraction(plan)
                for at in range(0, total, batch):
                    _numpy_weights(
                        creator_ids[at : at + batch],
                        work_ids[at : at + batch],
                        plan.row_of,
                        plan.quota,
                        counters,
                        excluded,
                        fraction,
                        MAX_WEIGHT,
                    )

            def redis_path() -> None:
                for at in range(0, redis_total, batch):
                    shared.weights(creator_ids[at : at + batch], work_ids[at : at + batch])

            ours()  # compile
            runs = [
                ("ours: Numba kernel, in-process counters", ours, total),
                ("peer: vectorised NumPy, same decision", numpy_peer, total),
            ]
            redis_total = min(total, 200 * batch)
            if batch <= 10_000:  # one HMGET per batch: a big batch is one huge command
                runs.append(("ours: Redis counters (HMGET per batch)", redis_path, redis_total))
            for name, run, count in runs:
                times = []
                for _ in range(5):
                    started = time.perf_counter()
                    run()
                    times.append(time.perf_counter() - started)
                results.append((name, count / statistics.median(times)))
    return results


def _serve(data_dir: str, redis_url: str | None, port: int) -> None:
    from guanghe.app import create_app, serve
    from guanghe.runtime import Runtime
    from guanghe.settings import Settings

    runtime = Runtime(Settings(data_dir=Path(data_dir), database_url="", redis_url=redis_url))
    serve(create_app(runtime), host="127.0.0.1", port=port, log_level="warning")


def over_http(
    creators: int, candidates: int, rate: float, seconds: float, connections: int
) -> list[tuple[str, int, int, float, float, float, float]]:
    import httpx

    from guanghe.access import create_token
    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.store import transaction

    day = dt.datetime.now(dt.UTC).date()
    rng = np.random.default_rng(2)
    body = {
        "candidates": [
            {"work_id": int(w), "creator_id": int(c)}
            for c, w in zip(
                rng.integers(1, creators, candidates),
                rng.integers(1, 10**7, candidates),
                strict=True,
            )
        ]
    }
    payload = json.dumps(body).encode()

    async def send(session: Any, _: int) -> int:
        async with session.post(
            "/v1/boost", data=payload, headers={"Content-Type": "application/json"}
        ) as response:
            await response.read()
            return int(response.status)

    rows = []
    with tempfile.TemporaryDirectory(prefix="guanghe-boost-http-") as tmp:
        data_dir = Path(tmp)
        _write_plan(data_dir, creators, day)
        with Runtime(Settings(data_dir=data_dir, database_url="")) as runtime:
            runtime.init()
            with transaction(runtime.sessions) as session:
                _, token = create_token(
                    session,
                    role="ranker",
                    subject_id=None,
                    name="bench",
                    now=dt.datetime.now(dt.UTC),
                )
        for name, redis_url in (("in-process counters", None), ("Redis counters", REDIS_URL)):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
            sock.close()
            context = multiprocessing.get_context("spawn")
            server = context.Process(target=_serve, args=(tmp, redis_url, port), daemon=True)
            server.start()
            url = f"http://127.0.0.1:{port}"
            _wait(url)
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
                for _ in range(50):  # warm up: the plan's first load, the kernels' first call
                    c.post("/v1/boost", json=body).raise_for_status()
            results = open_loop(
                url,
                {"Authorization": f"Bearer {token}"},
                total=int(rate * seconds),
                rate=rate,
                connections=connections,
                send=send,
                warmup=int(rate),
            )
            latencies = [elapsed * 1_000 for elapsed, _ in results]
            errors = sum(status != 200 for _, status in results)
            server.terminate()
            server.join()
            p50, p90, p99 = (float(v) for v in np.percentile(latencies, [50, 90, 99]))
            rows.append((name, len(latencies), errors, p50, p90, p99, max(latencies)))
    return rows


def _wait(url: str) -> None:
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench boost_serving")
    parser.add_argument("--creators", type=int, default=1_000_000)
    parser.add_argument("--total", type=int, default=20_000_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--candidates", type=int, default=500)
    parser.add_argument("--connections", type=int, default=16, help="client connections")
    args = parser.parse_args(argv)

    print(f"# boost_serving: plan of {args.creators:,} creators")
    print(f"\n## In process: {args.total:,} candidates (median of 5 runs)\n")
    print("| path | batch | decisions/s |")
    print("|---|---|---|")
    for batch in (1_000, 1_000_000):
        for name, rate in in_process(args.creators, batch, args.total):
            print(f"| {name} | {batch:,} | {rate / 1e6:,.1f} M |")
    print(
        f"\n## HTTP: POST /v1/boost, {args.candidates} candidates, {args.rate:.0f} req/s open "
        f"loop, {args.seconds:.0f} s\n"
    )
    print("| counters | requests | errors | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    for name, count, errors, p50, p90, p99, top in over_http(
        args.creators, args.candidates, args.rate, args.seconds, args.connections
    ):
        print(f"| {name} | {count:,} | {errors} | {p50:.1f} | {p90:.1f} | {p99:.1f} | {top:.1f} |")
    return 0
