"""Profile-slot decisions over HTTP at a fixed request rate, against a running Uvicorn.

``python -m bench profile_slot [--rate R] [--seconds S] [--warmup W] [--database-url URL]
[--workers N] [--connections C]``

Generates a synthetic platform (its campaigns, products and authorisations) and runs the
cycle's matching step into a temporary data directory (or the PostgreSQL database given),
starts ``guanghe serve`` (``--workers`` processes) in a subprocess, then sends
``GET /v1/profile-slots/{creator}`` for random creators on an open-loop schedule of ``--rate``
requests per second over up to ``--connections`` client connections, measuring after
``--warmup`` seconds on the same schedule (a fresh process opens its connections). Latency is
measured from each request's scheduled time, so a slow server cannot hide its queueing (no
coordinated omission). Prints p50/p90/p99/max, the share of views that got an ad and products,
and that no campaign committed past its budget.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench._http import open_loop


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench profile_slot")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds at the rate before measuring"
    )
    parser.add_argument("--creators", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--connections", type=int, default=16, help="client connections")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--workers", type=int, default=1, help="server processes (PostgreSQL)")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)

    import httpx
    from sqlalchemy import select

    from guanghe.access import create_token
    from guanghe.pipelines import CycleContext, matching_step
    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.sim import generate_platform
    from guanghe.store import Campaign, CreatorMonetization, transaction

    with tempfile.TemporaryDirectory(prefix="guanghe-slot-") as data_dir:
        settings = Settings(data_dir=Path(data_dir), database_url=args.database_url)
        with Runtime(settings) as runtime:
            summary = generate_platform(
                runtime, creators=args.creators, days=args.days, seed=args.seed
            )
            matching_step.run(CycleContext.for_date(runtime, summary.last_date))
            with transaction(runtime.sessions) as session:
                _, token = create_token(
                    session,
                    role="ranker",
                    subject_id=None,
                    name="bench",
                    now=dt.datetime.now(dt.UTC),
                )
                authorised = list(session.scalars(select(CreatorMonetization.creator_id)))
        port = _free_port()
        env = {
            **os.environ,
            "GUANGHE_DATA_DIR": data_dir,
            "GUANGHE_DATABASE_URL": args.database_url,
        }
        command = [sys.executable, "-m", "guanghe", "serve", "--port", str(port)]
        command += ["--workers", str(args.workers)]
        server = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(Path(data_dir) / "server.log").open("w"),
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(base + "/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        print((Path(data_dir) / "server.log").read_text(), file=sys.stderr)
                        raise
                    time.sleep(0.2)
            results = _load(base, token, authorised, args)
        finally:
            server.terminate()
            server.wait(timeout=10)
        with Runtime(settings) as runtime, runtime.sessions() as session:
            over = session.scalars(
                select(Campaign.id).where(Campaign.reserved_millifen > Campaign.budget_fen * 1000)
            ).all()
    latency = np.array([r[0] for r in results]) * 1e3
    ok = [r for r in results if r[1] == 200]
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"{len(results):,} requests at {args.rate:g}/s for {args.seconds:g} s over {backend} "
        f"(after {args.warmup:g} s of warm-up); "
        f"{len(ok):,} answered 200; {sum(r[2] for r in ok):,} with an ad, "
        f"{sum(r[3] for r in ok):,} with products; campaigns past budget: {len(over)}"
    )
    print(f"{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}{'max ms':>8}")
    p50, p90, p99 = np.percentile(latency, [50, 90, 99])
    print(f"{p50:>8.1f}{p90:>8.1f}{p99:>8.1f}{latency.max():>8.1f}")
    return 0


def _load(
    base: str, token: str, creators: list[int], args: argparse.Namespace
) -> list[tuple[float, int, bool, bool]]:
    """Send ``rate × seconds`` requests on schedule; (latency s, status, ad?, products?)."""
    total, warmup = int(args.rate * args.seconds), int(args.rate * args.warmup)
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(creators, warmup + total).tolist()

    async def send(session: Any, i: int) -> tuple[int, bool, bool]:
        async with session.get(f"/v1/profile-slots/{picks[i]}") as response:
            body = await response.json() if response.status == 200 else {}
            return response.status, bool(body.get("ad")), bool(body.get("products"))

    results = open_loop(
        base,
        {"Authorization": f"Bearer {token}"},
        total=total,
        rate=args.rate,
        connections=args.connections,
        send=send,
        warmup=warmup,
    )
    return [(elapsed, *outcome) for elapsed, outcome in results]
