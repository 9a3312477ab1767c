"""Synthetic platform generation: wall time, peak memory and rows written.

``python -m bench sim_generate [--creators N] [--days D] [--seed S] [--peer-creators P]``

Runs the peer size (default 10,000 creators) and the target size (default 100,000) side by
side, each in a fresh child process and a fresh temporary data directory on the embedded
SQLite store, and prints one table. Peak RSS is ``ru_maxrss`` of the child itself plus the
largest of its cover workers (``resource.getrusage`` of self and children).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _measure(creators: int, days: int, seed: int) -> dict[str, Any]:
    """Generate into a temporary data directory; the figures of that run."""
    import resource

    from sqlalchemy import func, select

    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.sim import generate_platform
    from guanghe.store.models import Creator, Institution, Work

    with tempfile.TemporaryDirectory(prefix="guanghe-bench-") as data_dir:
        runtime = Runtime(Settings(data_dir=Path(data_dir), database_url=""))
        started = time.perf_counter()
        summary = generate_platform(runtime, creators=creators, days=days, seed=seed)
        wall_s = time.perf_counter() - started
        rows = {}
        with runtime.engine.connect() as conn:
            for name, model in (
                ("institutions", Institution),
                ("creators", Creator),
                ("works", Work),
            ):
                count = select(func.count()).select_from(model)
                rows[name] = conn.execute(count).scalar_one()
        covers = sum(1 for _ in runtime.settings.covers_dir.rglob("*.png"))
        disk_mb = sum(p.stat().st_size for p in Path(data_dir).rglob("*") if p.is_file()) / 2**20
        runtime.engine.dispose()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "creators": creators,
        "days": days,
        "wall_s": wall_s,
        "peak_rss_mb": (own + children) / 1024,
        "institutions": rows["institutions"],
        "creator_rows": rows["creators"],
        "works": rows["works"],
        "events": summary.events,
        "covers": covers,
        "disk_mb": disk_mb,
    }


def _run_child(creators: int, days: int, seed: int) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "bench",
        "sim_generate",
        "--one",
        "--creators",
        str(creators),
        "--days",
        str(days),
        "--seed",
        str(seed),
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _print_table(results: list[dict[str, Any]]) -> None:
    header = (
        "creators",
        "days",
        "wall s",
        "peak RSS MB",
        "institutions",
        "creators rows",
        "works",
        "events",
        "covers",
        "events/s",
        "disk MB",
    )
    lines = [header]
    for r in results:
        lines.append(
            (
                f"{r['creators']:,}",
                str(r["days"]),
                f"{r['wall_s']:.1f}",
                f"{r['peak_rss_mb']:.0f}",
                f"{r['institutions']:,}",
                f"{r['creator_rows']:,}",
                f"{r['works']:,}",
                f"{r['events']:,}",
                f"{r['covers']:,}",
                f"{r['events'] / r['wall_s']:,.0f}",
                f"{r['disk_mb']:.0f}",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for k, line in enumerate(lines):
        print("  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)))
        if k == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str]) -> int:
    """Run the benchmark; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m bench sim_generate")
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--peer-creators", type=int, default=10_000, help="the side-by-side peer size; 0 to skip"
    )
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(_measure(args.creators, args.days, args.seed)))
        return 0
    sizes = [s for s in (args.peer_creators, args.creators) if s > 0]
    print(
        f"sim_generate on {platform.machine()} {platform.system()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, embedded SQLite, seed {args.seed}"
    )
    results = []
    for size in dict.fromkeys(sizes):
        print(f"generating {size:,} creators x {args.days} days ...", flush=True)
        results.append(_run_child(size, args.days, args.seed))
    _print_table(results)
    return 0
