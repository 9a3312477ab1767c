"""The cycle's ``matching`` step: match products to every creator who authorised product
display, and estimate what authorising is worth to every creator.

Inputs: creators and their authorisations, their recent works' titles and hashtags, the
products on offer (active, in stock), and the event log's orders (90 days: category affinity
per vertical, product popularity) and last 28 days (estimates). Outputs: the dated
``product_matches`` snapshot, the ``product_placements`` the profile slot serves, and the
``earnings_estimates`` shown before opting in. A re-run of a date writes the same result.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanghe.experiments import treated_creators
from guanghe.monetize.estimates import EstimateInputs, EstimateResult, estimate_earnings
from guanghe.monetize.matching import (
    ProductMatcher,
    category_affinity,
    popularity,
    text_vectors,
)
from guanghe.monetize.placements import replace_estimates, replace_placements
from guanghe.pipelines.context import CycleContext
from guanghe.pipelines.reports import StepReport
from guanghe.runtime import Runtime
from guanghe.snapshots import write_snapshot
from guanghe.store import (
    Creator,
    CreatorMonetization,
    Product,
    Vertical,
    Work,
    select_rows,
)

Ints = npt.NDArray[np.int64]
SNAPSHOT: Final = "product_matches"
ORDER_WINDOW_DAYS: Final = 90
ESTIMATE_WINDOW_DAYS: Final = 28
WORKS_PER_CREATOR: Final = 30
TEXT_DIMS: Final = 64
MATCHES_SCHEMA: Final = pa.schema(
    [
        ("creator_id", pa.int64()),
        ("rank", pa.int64()),
        ("product_id", pa.int64()),
        ("score", pa.float64()),
    ]
)


def run(ctx: CycleContext) -> StepReport:
    """Match products and estimate earnings as of the cycle's date."""
    matches, reranked = rank_for_experiments(
        ctx.runtime, match_products(ctx.runtime, ctx.date), ctx.date
    )
    write_snapshot(ctx.snapshots, SNAPSHOT, ctx.date, matches)
    creators, estimates = _estimate(ctx.runtime, ctx.date)

    def replace(session: Session) -> None:
        replace_placements(
            session,
            matches["creator_id"].to_numpy(),
            matches["rank"].to_numpy(),
            matches["product_id"].to_numpy(),
            matches["score"].to_numpy(),
            as_of=ctx.date,
        )
        replace_estimates(session, creators, estimates, as_of=ctx.date)

    ctx.runtime.write(replace)
    matched = len(set(matches["creator_id"].to_pylist()))
    return StepReport(
        "matching",
        {
            "placements": matches.num_rows,
            "creators_matched": matched,
            "creators_ranked_by_experiment": reranked,
            "estimates": len(creators),
        },
    )


def match_products(runtime: Runtime, date: dt.date) -> pa.Table:
    """The top products of every creator displaying products, as a :data:`MATCHES_SCHEMA`
    table (nothing written)."""
    with runtime.sessions() as session:
        groups = int(session.scalar(select(func.max(Vertical.id))) or 0)
        creators = session.execute(
            select(Creator.id, Creator.vertical_id)
            .join(CreatorMonetization, CreatorMonetization.creator_id == Creator.id)
            .where(CreatorMonetization.product_display.is_(True))
            .order_by(Creator.id)
        ).all()
        products = session.execute(
            select(Product.id, Product.title, Product.category, Product.description)
            .add_columns(Product.price_fen * Product.commission_bp / 10_000.0)
            .where(Product.active.is_(True), Product.stock > 0)
            .order_by(Product.id)
        ).all()
        texts = _creator_texts(session, [c[0] for c in creators])
    if not creators or not products:
        return MATCHES_SCHEMA.empty_table()
    creator_ids = np.array([c[0] for c in creators], dtype=np.int64)
    creator_group = np.array([c[1] for c in creators], dtype=np.int64) - 1
    product_ids = np.array([p[0] for p in products], dtype=np.int64)
    names = sorted({str(p[2]) for p in products})
    category = np.array([names.index(str(p[2])) for p in products], dtype=np.int64)
    commission = np.array([float(p[4]) for p in products])

    order_vertical, order_product = _orders(runtime, date, product_ids)
    known = order_product >= 0
    affinity = category_affinity(
        order_vertical[known] - 1,
        category[order_product[known]],
        groups=groups,
        categories=len(names),
    )
    value = commission * popularity(order_product[known], products=len(products))
    creator_vectors, product_vectors = text_vectors(
        [texts.get(int(c), "") for c in creator_ids],
        [f"{p[1]} {p[2]} {p[3]}" for p in products],
        dims=TEXT_DIMS,
    )
    matcher = ProductMatcher().fit(product_vectors, value, category, affinity)
    found = matcher.match(creator_vectors, creator_group)
    rows, ranks = np.nonzero(found.product_index >= 0)
    return pa.table(
        {
            "creator_id": creator_ids[rows],
            "rank": ranks.astype(np.int64) + 1,
            "product_id": product_ids[found.product_index[rows, ranks]],
            "score": found.score[rows, ranks].astype(np.float64),
        },
        schema=MATCHES_SCHEMA,
    )


def rank_for_experiments(
    runtime: Runtime, matches: pa.Table, date: dt.date
) -> tuple[pa.Table, int]:
    """``matches`` with the products of every creator treated by a running experiment whose
    policy ranks products by ``commission`` re-ordered by commission per sale (ties keep the
    match order); and how many creators that was."""
    creator = matches["creator_id"].to_numpy().astype(np.int64)
    ids = np.unique(creator)
    treated = runtime.write(lambda s: treated_creators(s, ids, date))
    by_commission = [e.policy.product_ranking == "commission" for e in treated.experiments]
    chosen = ids[[arm >= 0 and by_commission[arm] for arm in treated.arm.tolist()]]
    if chosen.shape[0] == 0:
        return matches, 0
    with runtime.sessions() as session:
        per_sale = dict(
            session.execute(
                select(Product.id, Product.price_fen * Product.commission_bp / 10_000.0)
            ).all()
        )
    product = matches["product_id"].to_numpy().astype(np.int64)
    rank = matches["rank"].to_numpy().astype(np.int64)
    commission = np.array([float(per_sale.get(p, 0.0)) for p in product.tolist()])
    key = np.where(np.isin(creator, chosen), -commission, 0.0)
    order = np.lexsort((rank, key, creator))
    sorted_creator = creator[order]
    starts = np.flatnonzero(np.r_[True, sorted_creator[1:] != sorted_creator[:-1]])
    counts = np.diff(np.r_[starts, sorted_creator.shape[0]])
    new_rank = np.arange(order.shape[0]) - np.repeat(starts, counts) + 1
    reordered = matches.take(pa.array(order)).set_column(
        1, "rank", pa.array(new_rank.astype(np.int64))
    )
    return reordered, int(chosen.shape[0])


def _creator_texts(session: Session, creator_ids: list[int]) -> dict[int, str]:
    """Titles and hashtags of each creator's latest works, as one text per creator."""
    texts: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(creator_ids), 5_000):
        chunk = creator_ids[start : start + 5_000]
        rows = select_rows(
            session,
            select(Work.creator_id, Work.title, Work.hashtags)
            .where(Work.creator_id.in_(chunk))
            .order_by(Work.creator_id, Work.published_at.desc()),
        )
        for creator_id, title, tags in rows:
            bucket = texts[int(creator_id)]
            if len(bucket) < WORKS_PER_CREATOR:
                bucket.append(f"{title} {' '.join(t.lstrip('#') for t in tags or [])}")
    return {c: " ".join(t) for c, t in texts.items()}


def _orders(runtime: Runtime, date: dt.date, product_ids: Ints) -> tuple[Ints, Ints]:
    """(vertical of the creator, index of the product or -1) of each order in the window."""
    first = date - dt.timedelta(days=ORDER_WINDOW_DAYS - 1)
    con = runtime.event_log.connect()
    try:
        rows = con.execute(
            "SELECT creator_id, product_id FROM events WHERE type = 'order' "
            "AND date BETWEEN ? AND ? AND product_id IS NOT NULL",
            [first, date],
        ).fetchnumpy()
    finally:
        con.close()
    creator = np.asarray(rows["creator_id"], dtype=np.int64)
    product = np.asarray(rows["product_id"], dtype=np.int64)
    with runtime.sessions() as session:
        known = select_rows(
            session, select(Creator.id, Creator.vertical_id).order_by(Creator.id)
        ).all()
    vertical = np.ones(creator.shape[0], np.int64)  # a creator not in the store: vertical 1
    if known:
        ids = np.array([c for c, _ in known], np.int64)
        at = np.minimum(np.searchsorted(ids, creator), ids.shape[0] - 1)
        found = ids[at] == creator
        vertical[found] = np.array([v for _, v in known], np.int64)[at[found]]
    position = np.minimum(np.searchsorted(product_ids, product), len(product_ids) - 1)
    index = np.where(product_ids[position] == product, position, -1)
    return vertical, index.astype(np.int64)


def _estimate(runtime: Runtime, date: dt.date) -> tuple[Ints, EstimateResult]:
    """Every creator's estimate from the last 28 days of events."""
    first = date - dt.timedelta(days=ESTIMATE_WINDOW_DAYS - 1)
    with runtime.sessions() as session:
        creators = session.execute(
            select(
                Creator.id,
                Creator.vertical_id,
                func.coalesce(CreatorMonetization.profile_ads, False),
                func.coalesce(CreatorMonetization.product_display, False),
            )
            .outerjoin(CreatorMonetization, CreatorMonetization.creator_id == Creator.id)
            .order_by(Creator.id)
        ).all()
    ids = np.array([c[0] for c in creators], dtype=np.int64)
    con = runtime.event_log.connect()
    try:
        sums = con.execute(
            "SELECT creator_id, "
            "CAST(sum(CASE WHEN type = 'play' THEN count ELSE 0 END) AS BIGINT) AS plays, "
            "CAST(sum(CASE WHEN type = 'ad_impression' THEN count ELSE 0 END) AS BIGINT) "
            "AS ad_impressions, "
            "CAST(sum(CASE WHEN type IN ('ad_impression', 'ad_click') "
            "THEN coalesce(amount_fen, 0) ELSE 0 END) AS BIGINT) AS ad_charged_fen, "
            "CAST(sum(CASE WHEN type = 'order' THEN coalesce(commission_fen, 0) ELSE 0 END) "
            "AS BIGINT) AS commission_fen "
            "FROM events WHERE date BETWEEN ? AND ? GROUP BY creator_id",
            [first, date],
        ).fetchnumpy()
    finally:
        con.close()
    found = np.asarray(sums["creator_id"], dtype=np.int64)
    at = np.minimum(np.searchsorted(ids, found), max(len(ids) - 1, 0))
    known = (ids[at] == found) if len(ids) else np.zeros(found.shape, dtype=bool)
    # Each creator's sums at their row (ids are sorted), zero for those without events.
    table = {name: np.zeros(len(ids), dtype=np.int64) for name in list(sums)[1:]}
    for name, column in table.items():
        column[at[known]] = np.asarray(sums[name], dtype=np.int64)[known]
    inputs = EstimateInputs(
        vertical=np.array([c[1] for c in creators], dtype=np.int64),
        plays=table["plays"],
        ad_impressions=table["ad_impressions"],
        ad_charged_fen=table["ad_charged_fen"],
        commission_fen=table["commission_fen"],
        profile_ads=np.array([bool(c[2]) for c in creators], dtype=bool),
        product_display=np.array([bool(c[3]) for c in creators], dtype=bool),
    )
    result = estimate_earnings(inputs, creator_ad_share_bp=runtime.settings.creator_ad_share_bp)
    return ids, result
