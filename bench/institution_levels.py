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
"""

from __future__ import annotations

import argparse
import time

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
    args = parser.parse_args(argv)

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
