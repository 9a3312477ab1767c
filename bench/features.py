"""Creator features at scale: DuckDB (the product's Ibis pipeline) next to plain pandas.

``python -m bench features [--creators N] [--days D] [--seed S] [--data DIR]``

Synthesises ``N x D`` daily aggregate rows (default 1,000,000 x 90) straight to Parquet (one
row group per day; heavy-tailed, realistic counts), then computes the 7/28/90-day window
features as of the last day twice, each in a fresh child process: with the product's
``window_features`` on DuckDB, and with pandas (the same disjoint day segments, read in chunks
of days and summed with ``groupby().sum()``, so 90 M rows fit in memory). Prints wall time and
peak RSS side by side and checks both agree on a sample.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

AS_OF = dt.date(2026, 11, 28)
METRICS = (
    "works",
    "exposures_organic",
    "exposures_boosted",
    "plays",
    "engagements",
    "follows",
    "unfollows",
    "orders",
    "gmv_fen",
    "ad_impressions",
    "ad_clicks",
)
WINDOWS = (7, 28, 90)
SAMPLE = 1_000
#: Days of daily rows pandas holds at once (10 days of 1 M creators: about 1 GB).
PANDAS_CHUNK_DAYS = 10


def synthesise(path: Path, creators: int, days: int, seed: int) -> None:
    """Write ``creators x days`` daily rows to ``path``."""
    rng = np.random.default_rng(seed)
    ids = np.arange(1, creators + 1, dtype=np.int64)
    reach = np.exp(rng.normal(5.0, 1.5, creators))  # heavy-tailed daily exposure scale
    quality = rng.beta(2, 5, creators)
    schema = pa.schema(
        [("creator_id", pa.int64()), ("day", pa.date32())] + [(m, pa.int64()) for m in METRICS]
    )
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for d in range(days):
            day = AS_OF - dt.timedelta(days=days - 1 - d)
            works = rng.poisson(0.3 + quality)
            organic = rng.poisson(reach * (1 + works))
            boosted = np.where(rng.random(creators) < 0.05, rng.integers(200, 30_000, creators), 0)
            plays = rng.binomial(organic + boosted, 0.2 + 0.5 * quality)
            follows = rng.binomial(organic + boosted, 0.001 + 0.01 * quality)
            orders = rng.poisson(plays * 0.0005)
            columns = {
                "creator_id": ids,
                "day": np.full(creators, np.datetime64(day, "D")),
                "works": works,
                "exposures_organic": organic,
                "exposures_boosted": boosted,
                "plays": plays,
                "engagements": rng.binomial(plays, 0.01 + 0.08 * quality),
                "follows": follows,
                "unfollows": rng.poisson(follows * 0.3),
                "orders": orders,
                "gmv_fen": orders * rng.integers(1_000, 20_000, creators),
                "ad_impressions": rng.poisson(plays * 0.02),
                "ad_clicks": rng.poisson(plays * 0.0005),
            }
            writer.write_table(pa.table(columns, schema=schema))


def run_duckdb(path: Path) -> pa.Table:
    from guanghe.pipelines.engines import DuckDBEngine
    from guanghe.pipelines.features import window_features

    engine = DuckDBEngine(threads=2, memory_limit="6GB")
    expr = window_features(engine.read_parquet([path]), AS_OF)
    return engine.to_arrow(expr).sort_by("creator_id")


def run_pandas(path: Path) -> pa.Table:
    """The same windows in plain pandas, out of core: the days are cut into the same disjoint
    segments as the Ibis pipeline (last 7, the 21 before, the 62 before those), each read in
    chunks of :data:`PANDAS_CHUNK_DAYS` days (``read_parquet(filters=...)`` skips the other
    row groups), summed with ``groupby().sum()``, and the partial sums combined; a window is
    the sum of its segments. 90 M rows in one frame would need about 29 GB."""
    import pandas as pd

    columns = ["creator_id", *METRICS]
    segments = []
    newer = 0
    for w in WINDOWS:
        partials = []
        for end in range(newer, w, PANDAS_CHUNK_DAYS):
            start = min(end + PANDAS_CHUNK_DAYS, w)
            days = pd.read_parquet(
                path,
                columns=columns,
                filters=[
                    ("day", ">", AS_OF - dt.timedelta(days=start)),
                    ("day", "<=", AS_OF - dt.timedelta(days=end)),
                ],
            )
            days["active_days"] = (days["works"] > 0).astype("int64")
            partials.append(days.groupby("creator_id").sum())
            del days
        segments.append(pd.concat(partials).groupby(level=0).sum())
        newer = w
    windows = [segments[0]]
    for segment in segments[1:]:
        windows.append(pd.concat([windows[-1], segment]).groupby(level=0).sum())
    creators = windows[-1].index
    out = {}
    for w, window in zip(WINDOWS, windows, strict=True):
        sums = window.reindex(creators, fill_value=0)
        out.update({f"{c}_{w}d": sums[c] for c in sums.columns})
    result = pd.DataFrame(out).rename_axis("creator_id").reset_index()
    return pa.Table.from_pandas(result, preserve_index=False)


def _one(peer: str, path: Path) -> dict[str, Any]:
    started = time.perf_counter()
    table = run_duckdb(path) if peer == "duckdb" else run_pandas(path)
    wall_s = time.perf_counter() - started
    sample = table.slice(0, SAMPLE).select(sorted(table.column_names)).to_pylist()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "peer": peer,
        "wall_s": wall_s,
        "peak_rss_mb": rss,
        "rows": table.num_rows,
        "sample": sample,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench features")
    parser.add_argument("--creators", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=None, help="Keep the Parquet here.")
    parser.add_argument("--one", choices=("duckdb", "pandas"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(_one(args.one, args.data)))
        return 0
    with tempfile.TemporaryDirectory(prefix="guanghe-features-") as tmp:
        path = (args.data or Path(tmp)) / f"daily-{args.creators}x{args.days}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            started = time.perf_counter()
            synthesise(path, args.creators, args.days, args.seed)
            took = time.perf_counter() - started
            print(f"synthesised {args.creators * args.days:,} rows in {took:.1f} s")
        results = []
        for peer in ("duckdb", "pandas"):
            command = [
                sys.executable,
                "-m",
                "bench",
                "features",
                "--one",
                peer,
                "--data",
                str(path),
            ]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"{platform.node()} {platform.machine()} python {platform.python_version()}")
    print(f"{'peer':<8} {'wall s':>8} {'peak RSS MB':>12} {'creators':>10}")
    for r in results:
        print(f"{r['peer']:<8} {r['wall_s']:>8.1f} {r['peak_rss_mb']:>12.0f} {r['rows']:>10,}")
    duck, pandas_ = results[0]["sample"], results[1]["sample"]
    same = all(all(a[k] == b[k] for k in b) for a, b in zip(duck, pandas_, strict=True))
    print(f"agree on the first {len(duck)} creators: {same}")
    return 0 if same else 1
