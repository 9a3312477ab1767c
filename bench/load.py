"""A reproducible load test: Locust (headless) over the platform's real mix against
``guanghe serve``, stepping the offered rate up to find the throughput at p99 < 50 ms.

``python -m bench load [--rates 25 50 100 200] [--seconds 30] [--database-url URL]
[--redis-url URL] [--workers N] [--creators 2000] [--days 14]``

Generates a synthetic platform into a temporary data directory (or the PostgreSQL database
given), runs the daily cycle for its last day (the traffic plan the boost path serves, the
profile slots' matching), makes tokens (ranker, operator, 20 publishing creators) and JPEG
covers, starts ``guanghe serve`` in a subprocess, then for each offered rate runs Locust for
``--seconds`` with one user per request per second (``bench/_locustfile.py``: 50 % boost
batches of 20 candidates, 30 % profile slots, 15 % creator pages, 5 % works published with a
cover). Prints per step the achieved rate, p50/p99, failures, and the CPU of the server, the
database and the load generator, so that what saturates first is visible. Every process runs
on this machine: the load generator's CPU is taken from the same cores as the server's.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from PIL import Image

from bench.profile_slot import _free_port

P99_GOAL_MS = 50.0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench load")
    parser.add_argument("--rates", type=int, nargs="+", default=[25, 50, 100, 200])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--creators", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--workers", type=int, default=1, help="server processes (PostgreSQL)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--server-log", type=Path, help="keep the server's log here (it is printed on failures)"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="guanghe-load-") as tmp:
        data_dir = Path(tmp)
        config = prepare(data_dir, args)
        env = {
            **os.environ,
            "GUANGHE_DATA_DIR": str(data_dir),
            "GUANGHE_DATABASE_URL": args.database_url,
            "GUANGHE_REDIS_URL": args.redis_url,
            "GUANGHE_RATE_LIMIT": "100000/second",
        }
        port = _free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "guanghe",
                "serve",
                "--port",
                str(port),
                "--workers",
                str(args.workers),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(data_dir / "server.log").open("w"),
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_ready(base, server, data_dir / "server.log")
            backend = "PostgreSQL" if args.database_url else "SQLite"
            redis = "Redis" if args.redis_url else "in-process counters"
            print(
                f"load mix against guanghe serve --workers {args.workers} on {backend} with "
                f"{redis}; {args.creators:,} creators; {args.seconds:g} s per step"
            )
            print(
                f"{'offered/s':>9}{'achieved/s':>11}{'p50 ms':>8}{'p99 ms':>8}{'fail %':>8}"
                f"{'server cpu':>11}{'db cpu':>8}{'locust cpu':>11}  slowest p99"
            )
            best = 0.0
            for rate in args.rates:
                step = run_step(base, rate, args.seconds, data_dir, config, server.pid)
                print(
                    f"{rate:>9}{step['rps']:>11.1f}{step['p50']:>8.0f}{step['p99']:>8.0f}"
                    f"{step['failures']:>8.2f}{step['server_cpu']:>10.0f}%{step['db_cpu']:>7.0f}%"
                    f"{step['locust_cpu']:>10.0f}%  {step['slowest']}"
                )
                for line in step["failed"]:
                    print(f"{'':>9}failed: {line}")
                if step["p99"] < P99_GOAL_MS and step["failures"] == 0:
                    best = max(best, step["rps"])
            print(f"throughput at p99 < {P99_GOAL_MS:g} ms: {best:.0f} requests/s")
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log = data_dir / "server.log"
            errors = Counter(
                _error(line) for line in log.read_text().splitlines() if _is_error(line)
            )
            if errors:
                print(f"the server logged {errors.total()} errors:")
                for error, count in errors.most_common(5):
                    print(f"  {count} x {error}")
            if args.server_log:
                shutil.copyfile(log, args.server_log)
    return 0


def _is_error(line: str) -> bool:
    """A line of the server's log that reports an error (JSON records or Uvicorn's own)."""
    return '"level": "error"' in line or line.startswith("ERROR")


def _error(line: str) -> str:
    """An error line in short: its message and the last line of its exception."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return line
    cause = str(record.get("exception", "")).strip().splitlines()[-1:]
    return " / ".join([str(record.get("message", "")).strip(), *cause])


def prepare(data_dir: Path, args: argparse.Namespace) -> Path:
    """Generate the platform, run its last day's cycle, write the Locust config; its path."""
    from sqlalchemy import select

    from guanghe.access import create_token
    from guanghe.pipelines.cycle import run_cycle
    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.sim import generate_platform
    from guanghe.snapshots import read_snapshot
    from guanghe.store import Creator, Work

    settings = Settings(data_dir=data_dir, database_url=args.database_url)
    now = dt.datetime.now(dt.UTC)
    with Runtime(settings) as runtime:
        runtime.init()
        summary = generate_platform(runtime, creators=args.creators, days=args.days, seed=args.seed)
        run_cycle(runtime, summary.last_date)
        plan = read_snapshot(
            settings.snapshots_dir, "traffic_plan", summary.last_date + dt.timedelta(days=1)
        )
        planned = set(plan["creator_id"].to_pylist())

        def tokens(session: Any) -> dict[str, Any]:
            creators = list(session.scalars(select(Creator.id).order_by(Creator.id)))
            works = session.execute(select(Work.id, Work.creator_id)).all()
            publishers = creators[:: max(1, len(creators) // 20)][:20]
            return {
                "ranker_token": create_token(
                    session, role="ranker", subject_id=None, name="load", now=now
                )[1],
                "operator_token": create_token(
                    session, role="operator", subject_id=None, name="load", now=now
                )[1],
                "creators": creators,
                "candidates": [[w, c] for w, c in works if c in planned] or list(works),
                "publishers": [
                    [
                        c,
                        create_token(session, role="creator", subject_id=c, name="load", now=now)[
                            1
                        ],
                    ]
                    for c in publishers
                ],
            }

        config = runtime.write(tokens)
    config["covers"] = [str(p) for p in covers(data_dir / "load-covers", 40, args.seed)]
    path = data_dir / "load.json"
    path.write_text(json.dumps(config))
    return path


def covers(folder: Path, count: int, seed: int) -> list[Path]:
    """``count`` distinct 540 x 960 JPEG covers (smooth colour fields with noise)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for n in range(count):
        y, x = np.mgrid[0:960, 0:540]
        base = rng.uniform(0, 255, 3) + rng.uniform(-0.2, 0.2, 3) * (x + y)[..., None]
        noise = rng.normal(0, 12, (960, 540, 3))
        pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, "JPEG", quality=85)
        paths.append(folder / f"cover{n}.jpg")
        paths[-1].write_bytes(buffer.getvalue())
    return paths


def wait_until_ready(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            print(log.read_text(), file=sys.stderr)
            raise SystemExit("the server did not become ready")
        time.sleep(0.5)


def run_step(
    base: str, rate: int, seconds: float, data_dir: Path, config: Path, server_pid: int
) -> dict[str, Any]:
    """One Locust run at ``rate`` users (requests per second); its aggregate figures."""
    prefix = data_dir / f"step{rate}"
    locustfile = Path(__file__).with_name("_locustfile.py")
    command = [
        sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "--host", base,
        "--users", str(rate), "--spawn-rate", str(max(rate, 1)), "--run-time", f"{seconds:g}s",
        "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    server = psutil.Process(server_pid)
    database = [p for p in psutil.process_iter(["name"]) if p.info["name"] == "postgres"]
    watched = [server, *server.children(recursive=True), *database]
    for process in watched:
        process.cpu_percent(None)
    locust = psutil.Popen(
        command,
        env={**os.environ, "GUANGHE_LOAD_CONFIG": str(config)},
        stdout=subprocess.DEVNULL,
        stderr=(data_dir / f"locust{rate}.log").open("w"),
    )
    locust_cpu = []
    while locust.poll() is None:
        time.sleep(1.0)
        try:
            locust_cpu.append(locust.cpu_percent(None))
        except psutil.NoSuchProcess:
            break
    server_cpu = sum(_cpu(p) for p in watched if p not in database)  # the primed objects
    db_cpu = sum(_cpu(p) for p in database)
    rows = list(csv.DictReader((prefix.parent / f"{prefix.name}_stats.csv").open()))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    slowest = max((r for r in rows if r["Name"] != "Aggregated"), key=lambda r: float(r["99%"]))
    requests = int(total["Request Count"])
    failures_csv = prefix.parent / f"{prefix.name}_failures.csv"
    failed = [
        f"{row['Name']}: {row['Error'][:80]} x{row['Occurrences']}"
        for row in (csv.DictReader(failures_csv.open()) if failures_csv.exists() else [])
    ]
    return {
        "failed": failed,
        "rps": float(total["Requests/s"]),
        "p50": float(total["50%"]),
        "p99": float(total["99%"]),
        "failures": 100.0 * int(total["Failure Count"]) / max(requests, 1),
        "server_cpu": server_cpu,
        "db_cpu": db_cpu,
        "locust_cpu": float(np.median(locust_cpu[1:] or locust_cpu or [0.0])),
        "slowest": f"{slowest['Name']} {float(slowest['99%']):.0f} ms",
    }


def _cpu(process: psutil.Process) -> float:
    try:
        return float(process.cpu_percent(None))
    except psutil.NoSuchProcess:
        return 0.0
