"""Institution levels and institution pools.

``python -m bench institution_levels [--institutions N] [--creators M] [--pool-institutions K]
[--per-pool P] [--seed S]``

1. Level computation: per-(institution, creator) facts of ``M`` contracted creators over ``N``
   institutions (drawn at random), aggregated into the six level metrics in DuckDB and judged
   against the packaged level table; prints the time of each part. The issue's target is
   10,000 institutions and 1,000,000 creators in under 60 s.
2. Institution pools: ``K`` institutions' pools of ``P`` creators each, solved in one call of
   the traffic solver and in ``K`` separate calls, side by side: the time of each and the
   largest difference between the two allocations (impressions).
3. With ``--in-store``: the cycle's ``institutions`` step end to end at the same size, on a
   fresh embedded store holding ``N`` institutions, ``M`` creators and one contract each, with
   the date's features and growth snapshots: syncing the creators' affiliations, gathering the
   level facts from the stores (contracts, duplicates, settled income, snapshots), the metrics,
   the levels and recording them; prints each part's time and the step's total.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa


def level_facts(rng: np.random.Generator, institutions: int, creators: int) -> pa.Table:
    institution = rng.integers(1, institutions + 1, creators)
    works = rng.poisson(4, creators)
    followers = rng.lognormal(8, 2, creators).astype(np.int64) + 1
    return pa.table(
        {
            "institution_id": institution,
            "creator_id": np.arange(1, creators + 1),
            "contracted_at_start": rng.random(creators) < 0.9,
            "contracted_at_end": rng.random(creators) < 0.95,
            "works": works,
            "duplicates": rng.binomial(works, 0.05),
            "net_follows": (followers * rng.normal(0.02, 0.03, creators)).astype(np.int64),
            "followers": followers,
            "quality": rng.uniform(0, 100, creators),
            "earnings_fen": rng.integers(0, 200_000, creators),
        }
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench institution_levels")
    parser.add_argument("--institutions", type=int, default=10_000)
    parser.add_argument("--creators", type=int, default=1_000_000)
    parser.add_argument("--pool-institutions", type=int, default=500)
    parser.add_argument("--per-pool", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--in-store", action="store_true")
    args = parser.parse_args(argv)
    if args.in_store:
        return in_store(args.institutions, args.creators, args.seed)

    from guanghe.institutions.levels import assign_levels, institution_metrics, load_level_rules
    from guanghe.institutions.pools import PoolMembers, PoolRules, members_of, pool_problem
    from guanghe.traffic import TrafficAllocator

    rng = np.random.default_rng(args.seed)
    facts = level_facts(rng, args.institutions, args.creators)
    started = time.perf_counter()
    metrics = institution_metrics(facts)
    aggregated = time.perf_counter()
    levels = assign_levels(load_level_rules(), metrics)
    judged = time.perf_counter()
    counts = {name: sum(a.level == name for a in levels) for name in "SABC"}
    print(f"levels: {args.institutions} institutions, {args.creators} creators")
    print(f"  metrics (DuckDB)  {aggregated - started:8.3f} s")
    print(f"  levels (NumPy)    {judged - aggregated:8.3f} s   {counts}")
    print(f"  total             {judged - started:8.3f} s   (target < 60 s)")

    k, p = args.pool_institutions, args.per_pool
    n = k * p
    members = PoolMembers(
        institution_id=np.repeat(np.arange(1, k + 1), p).astype(np.int64),
        creator_id=np.arange(1, n + 1, dtype=np.int64),
        new=rng.random(n) < 0.3,
        weight=rng.uniform(0.5, 2.0, n),
        guarantee=np.where(rng.random(n) < 0.1, 50.0, 0.0),
        nominee=rng.random(n) < 0.02,
        saturation=rng.uniform(5, 50, n),
        scale=rng.uniform(500, 5_000, n),
    )
    budgets = {i: int(rng.integers(50_000, 500_000)) for i in range(1, k + 1)}
    rules = {i: PoolRules(min_new_share_bp=2_000, max_creator_share_bp=1_000) for i in budgets}
    warm = members.institution_id == 1  # compile the solver's kernels before timing
    TrafficAllocator().solve(
        pool_problem(
            PoolMembers(*(np.asarray(getattr(members, f))[warm] for f in PoolMembers.__slots__)),
            {1: budgets[1]},
            rules,
            7,
        )
    )
    started = time.perf_counter()
    together = TrafficAllocator().solve(pool_problem(members, budgets, rules, 7)).impressions
    one_call = time.perf_counter() - started
    started = time.perf_counter()
    separate = np.zeros_like(together)
    for institution_id, budget in budgets.items():
        one = pool_problem(members_of(members, institution_id), {institution_id: budget}, rules, 7)
        mask = members.institution_id == institution_id
        separate[mask] = TrafficAllocator().solve(one).impressions
    many_calls = time.perf_counter() - started
    print(f"pools: {k} institutions x {p} creators")
    print(f"  one call          {one_call:8.3f} s")
    print(f"  {k} calls        {many_calls:8.3f} s")
    print(f"  largest difference {int(np.abs(together - separate).max())} impressions")
    return 0


def in_store(institutions: int, creators: int, seed: int) -> int:
    """Time the ``institutions`` step's level path on a store of ``creators`` contracted ones."""
    from sqlalchemy import insert

    from guanghe.institutions.levels import (
        assign_levels,
        institution_metrics,
        level_rules_path,
        load_level_rules,
    )
    from guanghe.institutions.standing import record_levels, sync_affiliations
    from guanghe.pipelines.feature_step import SNAPSHOT as FEATURES
    from guanghe.pipelines.growth_step import SNAPSHOT as GROWTH
    from guanghe.pipelines.institutions_step import level_facts
    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.snapshots import write_snapshot
    from guanghe.store import Institution

    rng = np.random.default_rng(seed)
    date = dt.date(2026, 11, 30)
    chunk = 50_000
    with (
        tempfile.TemporaryDirectory(prefix="guanghe-bench-levels-") as tmp,
        Runtime(Settings(data_dir=Path(tmp), database_url="")) as runtime,
    ):
        runtime.init()
        started = time.perf_counter()
        institution = rng.integers(1, institutions + 1, creators)
        signed = date - dt.timedelta(days=400)
        with runtime.engine.begin() as conn:
            conn.execute(
                insert(Institution),
                [
                    {"id": i, "name": f"institution {i}", "founded_on": signed}
                    for i in range(1, institutions + 1)
                ],
            )
            # the embedded store's driver directly: building the store is not what is timed
            day = signed.isoformat()
            for at in range(0, creators, chunk):
                block = range(at + 1, min(at + chunk, creators) + 1)
                conn.exec_driver_sql(
                    "INSERT INTO creators (id, handle, display_name, vertical_id, joined_on, "
                    "follower_count, stage) VALUES (?, ?, ?, 1, ?, 0, 'novice')",
                    [(c, f"c{c}", f"c{c}", day) for c in block],
                )
                conn.exec_driver_sql(
                    "INSERT INTO institution_contracts (institution_id, creator_id, valid_from, "
                    "exclusive, notice_days, status) VALUES (?, ?, ?, 1, 30, 'active')",
                    [(int(institution[c - 1]), c, day) for c in block],
                )
        ids = np.arange(1, creators + 1, dtype=np.int64)
        works = rng.poisson(4, creators)
        followers = rng.lognormal(8, 2, creators).astype(np.int64) + 1
        root = runtime.settings.snapshots_dir
        write_snapshot(
            root,
            FEATURES,
            date,
            pa.table(
                {
                    "creator_id": ids,
                    "works_28d": works,
                    "follows_28d": (followers * rng.uniform(0, 0.05, creators)).astype(int),
                    "unfollows_28d": (followers * rng.uniform(0, 0.02, creators)).astype(int),
                    "follower_count": followers,
                }
            ),
        )
        write_snapshot(
            root,
            GROWTH,
            date,
            pa.table({"creator_id": ids, "quality": rng.uniform(0, 100, creators)}),
        )
        built = time.perf_counter() - started
        parts: list[tuple[str, float, float]] = []
        t, c = time.perf_counter(), time.process_time()
        changed = runtime.write(lambda s: sync_affiliations(s, date))
        parts.append(
            (
                f"sync affiliations ({changed:,} changed)",
                time.perf_counter() - t,
                time.process_time() - c,
            )
        )
        t, c = time.perf_counter(), time.process_time()
        facts = level_facts(runtime, date)
        parts.append(
            (
                f"gather level facts ({facts.num_rows:,} rows)",
                time.perf_counter() - t,
                time.process_time() - c,
            )
        )
        t, c = time.perf_counter(), time.process_time()
        metrics = institution_metrics(facts)
        parts.append(("metrics (DuckDB)", time.perf_counter() - t, time.process_time() - c))
        t, c = time.perf_counter(), time.process_time()
        levels = assign_levels(
            load_level_rules(level_rules_path(runtime.settings.data_dir)), metrics
        )
        parts.append(("levels (NumPy)", time.perf_counter() - t, time.process_time() - c))
        t, c = time.perf_counter(), time.process_time()
        now = dt.datetime.combine(date, dt.time(23), tzinfo=dt.UTC)
        month = date.replace(day=1)
        recorded = runtime.write(lambda s: record_levels(s, month, levels, now=now))
        parts.append(
            (f"record levels ({recorded:,})", time.perf_counter() - t, time.process_time() - c)
        )
    print(f"levels in the store: {institutions:,} institutions, {creators:,} contracted creators")
    print(f"  store built in {built:.1f} s (not timed below)")
    print(f"  {'part':<44}{'wall s':>8}{'CPU s':>8}")
    for name, seconds, cpu in parts:
        print(f"  {name:<44}{seconds:8.2f}{cpu:8.2f}")
    wall, cpu = sum(p[1] for p in parts), sum(p[2] for p in parts)
    print(f"  {'total (goal < 60 s)':<44}{wall:8.2f}{cpu:8.2f}")
    return 0
