"""Product matching at scale, its recall against exact search, and the revenue it earns.

``python -m bench product_matching [--creators N] [--products M] [--sample S] [--part P]``

``scale``: synthetic text embeddings (topics in ``--dims`` dimensions, creators and products
drawn around them, 16 creator groups, 64 categories) for ``--creators`` creators and
``--products`` products; matches every creator to a top-10 with the cycle's
:class:`~guanghe.monetize.ProductMatcher` (inverted-file search) and prints the time and the
process's peak resident memory; on a ``--sample`` of creators, prints exact search beside the
inverted file at several ``nprobe``, with recall@10 of the final (diversified) lists.

``revenue``: generates the synthetic platform, runs the cycle's matching step and prices the
top-10 each product-displaying creator gets against ten random products and the ten most
ordered ones, with the platform's hidden purchase probabilities: expected commission per
profile view (position-weighted, 1 / log2(rank + 1)).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

GROUPS = 16
CATEGORIES = 64
TOPICS = 512


def _embeddings(
    rng: np.random.Generator, n: int, centers: npt.NDArray[np.float32], spread: float
) -> npt.NDArray[np.float32]:
    out = np.empty((n, centers.shape[1]), dtype=np.float32)
    for start in range(0, n, 200_000):
        k = min(200_000, n - start)
        block = centers[rng.integers(0, centers.shape[0], k)]
        block = block + spread * rng.standard_normal(block.shape, dtype=np.float32)
        out[start : start + k] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def _recall(truth: npt.NDArray[np.int64], found: npt.NDArray[np.int64]) -> float:
    hits = [
        len(set(t[t >= 0]) & set(f[f >= 0])) / max(1, int((t >= 0).sum()))
        for t, f in zip(truth, found, strict=True)
    ]
    return float(np.mean(hits))


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def scale(args: argparse.Namespace) -> None:
    import faiss

    from guanghe.monetize import ProductMatcher

    faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    centers = rng.standard_normal((TOPICS, args.dims)).astype(np.float32)
    products = _embeddings(rng, args.products, centers, 0.6)
    value = rng.lognormal(0.0, 0.6, args.products)
    category = rng.integers(0, CATEGORIES, args.products)
    affinity = rng.uniform(0.1, 1.5, (GROUPS, CATEGORIES))
    sample_q = _embeddings(rng, args.sample, centers, 0.6)
    sample_g = rng.integers(0, GROUPS, args.sample)

    print(f"catalogue {args.products:,} products, {args.dims} dims, {args.threads} threads")
    print(f"{'search':<22}{'fit s':>8}{'match s':>10}{'per 1M s':>10}{'recall@10':>11}")
    started = time.perf_counter()
    exact = ProductMatcher(exact_below=10**12).fit(products, value, category, affinity)
    fit_exact = time.perf_counter() - started
    started = time.perf_counter()
    truth = exact.match(sample_q, sample_g).product_index
    exact_s = time.perf_counter() - started
    print(
        f"{'exact (flat IP)':<22}{fit_exact:>8.1f}{exact_s:>10.1f}"
        f"{exact_s * 1e6 / args.sample:>10.0f}{1.0:>11.3f}"
    )
    del exact
    chosen = None
    for nprobe in args.nprobe:
        started = time.perf_counter()
        approx = ProductMatcher(exact_below=1, nprobe=nprobe).fit(
            products, value, category, affinity
        )
        fit_s = time.perf_counter() - started
        started = time.perf_counter()
        found = approx.match(sample_q, sample_g).product_index
        match_s = time.perf_counter() - started
        recall = _recall(truth, found)
        print(
            f"{f'IVF nlist={approx.nlist_} nprobe={nprobe}':<22}{fit_s:>8.1f}{match_s:>10.1f}"
            f"{match_s * 1e6 / args.sample:>10.0f}{recall:>11.3f}"
        )
        if chosen is None and recall >= 0.95:
            chosen = nprobe
        del approx
    chosen = chosen or max(args.nprobe)

    started = time.perf_counter()
    matcher = ProductMatcher(exact_below=1, nprobe=chosen).fit(products, value, category, affinity)
    fit_s = time.perf_counter() - started
    match_s = 0.0
    matched = 0
    for start in range(0, args.creators, args.chunk):
        k = min(args.chunk, args.creators - start)
        queries = _embeddings(rng, k, centers, 0.6)
        groups = rng.integers(0, GROUPS, k)
        t0 = time.perf_counter()
        result = matcher.match(queries, groups)
        match_s += time.perf_counter() - t0
        matched += int((result.product_index[:, 0] >= 0).sum())
    print(
        f"\nfull run: {args.creators:,} creators x {args.products:,} products -> top-10, "
        f"nprobe={chosen}: fit {fit_s:.1f} s, match {match_s:.1f} s, total {fit_s + match_s:.1f} s"
        f" ({matched:,} creators matched); peak RSS {_peak_gib():.2f} GiB"
    )


def revenue(args: argparse.Namespace) -> None:
    import pyarrow.parquet as pq
    from sqlalchemy import select

    from guanghe.pipelines import matching_step
    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.sim import generate_platform
    from guanghe.sim.monetize import AFFINITY_FILE, MARKET_FILE, purchase_probability
    from guanghe.store import Creator, CreatorMonetization, Product

    with tempfile.TemporaryDirectory(prefix="guanghe-matching-") as data_dir:
        settings = Settings(data_dir=Path(data_dir), database_url="")
        with Runtime(settings) as runtime:
            summary = generate_platform(
                runtime, creators=args.platform_creators, days=args.days, seed=args.seed
            )
            started = time.perf_counter()
            matches = matching_step.match_products(runtime, summary.last_date).to_pandas()
            step_s = time.perf_counter() - started
            with runtime.sessions() as session:
                creators = session.execute(
                    select(Creator.id, Creator.vertical_id)
                    .join(CreatorMonetization, CreatorMonetization.creator_id == Creator.id)
                    .where(CreatorMonetization.product_display.is_(True))
                    .order_by(Creator.id)
                ).all()
                products = session.execute(
                    select(
                        Product.id, Product.price_fen, Product.commission_bp, Product.stock
                    ).order_by(Product.id)
                ).all()
            con = runtime.event_log.connect()
            ordered = con.execute(
                "SELECT product_id, count(*) n FROM events WHERE type = 'order' "
                "GROUP BY product_id ORDER BY n DESC, product_id"
            ).fetchall()
            truth = pq.read_table(settings.ground_truth_dir / MARKET_FILE).to_pandas()
            affinity = pq.read_table(settings.ground_truth_dir / AFFINITY_FILE).to_pandas()
    ids = np.array([p[0] for p in products])
    price = np.array([p[1] for p in products])
    commission = price * np.array([p[2] for p in products]) // 10_000
    in_stock = np.array([p[3] for p in products]) > 0
    vertical = np.array([c[1] for c in creators])
    probability = purchase_probability(
        affinity.to_numpy(),
        truth["appeal"].to_numpy(),
        truth["category"].to_numpy(),
        price,
        vertical,
    )
    weight = 1.0 / np.log2(np.arange(2, 12))
    expected = probability * commission[None, :]

    def per_view(lists: list[npt.NDArray[np.int64]]) -> float:
        return float(
            np.mean([(expected[i, idx] * weight[: len(idx)]).sum() for i, idx in enumerate(lists)])
        )

    position = {int(p): i for i, p in enumerate(ids)}
    by_creator = matches.groupby("creator_id")["product_id"].apply(list).to_dict()
    ours = [
        np.array([position[p] for p in by_creator.get(c[0], [])], dtype=np.int64) for c in creators
    ]
    rng = np.random.default_rng(args.seed)
    stocked = np.flatnonzero(in_stock)
    random_lists = [rng.choice(stocked, 10, replace=False) for _ in creators]
    popular = np.array([position[int(p)] for p, _ in ordered if in_stock[position[int(p)]]][:10])
    oracle = [np.argsort(-(expected[i] * in_stock))[:10] for i in range(len(creators))]
    print(
        f"platform: {args.platform_creators:,} creators, {args.days} days, {len(creators):,} "
        f"displaying products, {len(ids):,} products; matching step {step_s:.1f} s"
    )
    print(f"{'choice':<26}{'fen per profile view':>22}")
    for name, lists in (
        ("matching (ours)", ours),
        ("most ordered", [popular] * len(creators)),
        ("random in stock", random_lists),
        ("oracle (hidden truth)", oracle),
    ):
        print(f"{name:<26}{per_view(lists):>22.3f}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench product_matching")
    parser.add_argument("--part", choices=["scale", "revenue", "all"], default="all")
    parser.add_argument("--creators", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=100_000)
    parser.add_argument("--dims", type=int, default=64)
    parser.add_argument("--nprobe", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--platform-creators", type=int, default=5_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.part in ("scale", "all"):
        scale(args)
    if args.part in ("revenue", "all"):
        revenue(args)
    return 0
