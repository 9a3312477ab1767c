"""The profile slot: for one view of a creator's profile page, the ad and the products shown.

The decision reads the creator's authorisations first, so a withdrawn authorisation is honoured
on the next view. The ad is the winner of :func:`~guanghe.monetize.auction.rank_bids` among the
campaigns eligible for this creator whose budget can still pay the price: the price of the
impression is committed with one conditional ``UPDATE`` (the campaign's committed spend plus
the price may not pass its budget, nor its pacing cap), so concurrent views can never commit
more than the budget; when the update finds no room the next ranked campaign is tried.

Serving keeps the campaigns that may serve in a :class:`CampaignCache` (read again at most
once a second, and at once after a change through this process), so a view costs three small
indexed reads (authorisations, products, and recent works where keywords exclude) and the
update. A stale cache never overspends: the update re-checks status, budget and pacing in the
store. Authorisations are never cached.

Lock requirement: call inside a writer transaction (``BEGIN IMMEDIATE`` on SQLite); on
PostgreSQL the row lock of the conditional update serialises views of one campaign, so the
update comes last, and the transaction of a view that commits an impression does not wait for
its write-ahead log to reach the disk (``synchronous_commit`` off for that transaction only: a
flush took 0.1 ms on one machine measured and 4 ms, 12 ms at p99, on another, where the whole
decision takes about 2 ms). A crash of the database server can then forget the last fraction of
a second of reservations, as SQLite's write-ahead log in ``synchronous=NORMAL`` mode can: no
money is lost that way, since charges are posted to the ledger from the event log, durably, and
the ledger refuses any past a campaign's budget.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from sqlalchemy import CursorResult, Row, bindparam, select, text, update
from sqlalchemy.orm import Session

from guanghe.errors import InvalidInput, NotFound
from guanghe.monetize.auction import (
    bid_ecpm,
    predicted_ctr,
    quality_factor,
    rank_bids,
    spend_cap_millifen,
)
from guanghe.store import Campaign, Creator, CreatorMonetization, Product, ProductPlacement, Work

#: Reserve price of the slot (fen per thousand impressions).
FLOOR_ECPM_FEN: Final = 500
MAX_PRODUCTS: Final = 10
#: What the decision reads of each campaign (plain rows: no ORM identity map on the hot path).
_CAMPAIGN_COLUMNS: Final = (
    "id",
    "advertiser_id",
    "billing",
    "bid_fen",
    "budget_fen",
    "reserved_millifen",
    "served_impressions",
    "clicks",
    "pacing",
    "target_verticals",
    "target_stages",
    "min_followers",
    "max_followers",
    "excluded_verticals",
    "excluded_keywords",
    "starts_at",
    "ends_at",
    "creative_title",
    "creative_url",
    "creative_image_url",
)
#: Recent works whose titles and hashtags brand-safety keywords are matched against.
KEYWORD_WORKS: Final = 20
#: How long a process serves from the campaigns it read (see :class:`CampaignCache`).
CAMPAIGN_CACHE_TTL: Final = dt.timedelta(seconds=1)

# Statements built once: building a select costs more than running it on SQLite.
_cm = CreatorMonetization
_CREATOR = (
    select(Creator.vertical_id, Creator.stage, Creator.follower_count)
    .add_columns(_cm.profile_ads, _cm.product_display)
    .outerjoin(_cm, _cm.creator_id == Creator.id)
    .where(Creator.id == bindparam("creator_id"))
)
_SERVABLE = (
    select(*(getattr(Campaign, name) for name in _CAMPAIGN_COLUMNS))
    .where(
        Campaign.status == "active",
        Campaign.ends_at > bindparam("now"),
        Campaign.reserved_millifen < Campaign.budget_fen * 1_000,
    )
    .order_by(Campaign.id)
)
_RECENT_WORKS = (
    select(Work.title, Work.hashtags)
    .where(Work.creator_id == bindparam("creator_id"))
    .order_by(Work.published_at.desc())
    .limit(KEYWORD_WORKS)
)
_CAMPAIGNS_TABLE = Campaign.metadata.tables[Campaign.__tablename__]
_campaigns = _CAMPAIGNS_TABLE.c
_COMMIT = (
    update(_CAMPAIGNS_TABLE)
    .where(
        _campaigns.id == bindparam("campaign_id"),
        _campaigns.status == "active",
        _campaigns.reserved_millifen + bindparam("price") <= bindparam("cap"),
        _campaigns.reserved_millifen + bindparam("price") <= _campaigns.budget_fen * 1_000,
    )
    .values(
        reserved_millifen=_campaigns.reserved_millifen + bindparam("price"),
        served_impressions=_campaigns.served_impressions + 1,
    )
)
_ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")
#: A placed product's columns, and what makes it showable (active, in stock).
_PRODUCT_COLUMNS = (
    ProductPlacement.rank,
    ProductPlacement.score,
    Product.id,
    Product.title,
    Product.category,
    Product.price_fen,
    Product.commission_bp,
)
_SHOWABLE = (Product.active.is_(True), Product.stock > 0)
_PRODUCTS = (
    select(*_PRODUCT_COLUMNS)
    .join(Product, Product.id == ProductPlacement.product_id)
    .where(ProductPlacement.creator_id == bindparam("creator_id"), *_SHOWABLE)
    .order_by(ProductPlacement.rank)
    .limit(bindparam("limit"))
)

# The same reads for many creators at once (``preview_profile_slots``).
_CREATORS = (
    select(Creator.id, Creator.vertical_id, Creator.stage, Creator.follower_count)
    .add_columns(_cm.profile_ads, _cm.product_display)
    .outerjoin(_cm, _cm.creator_id == Creator.id)
    .where(Creator.id.in_(bindparam("creator_ids", expanding=True)))
)
_CREATORS_PRODUCTS = (
    select(ProductPlacement.creator_id, *_PRODUCT_COLUMNS)
    .join(Product, Product.id == ProductPlacement.product_id)
    .where(ProductPlacement.creator_id.in_(bindparam("creator_ids", expanding=True)), *_SHOWABLE)
    .order_by(ProductPlacement.creator_id, ProductPlacement.rank)
)
#: Creators per statement of :func:`preview_profile_slots` (bound parameters stay few).
_PREVIEW_CHUNK: Final = 2_000


class CampaignCache:
    """The campaigns that may serve (active, not ended, budget left), read from the store at
    most once per ``ttl`` and shared by the threads of one process.

    Serving from it is safe however stale it is: the conditional update that commits an
    impression re-checks status, budget and pacing in the store, so a paused or spent campaign
    read a moment ago is simply skipped. A campaign created or resumed in another process shows
    up within ``ttl``; :meth:`invalidate` makes this process read again at the next view.
    """

    def __init__(self, ttl: dt.timedelta = CAMPAIGN_CACHE_TTL) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._rows: tuple[Row[Any], ...] = ()
        self._read_at: dt.datetime | None = None

    def invalidate(self) -> None:
        """Read the campaigns again at the next view."""
        with self._lock:
            self._read_at = None

    def servable(self, session: Session, now: dt.datetime) -> tuple[Row[Any], ...]:
        """The cached campaigns, read again when older than ``ttl`` (or read in the future)."""
        read_at = self._read_at
        if read_at is not None and read_at <= now < read_at + self.ttl:
            return self._rows
        with self._lock:
            if self._read_at is None or not self._read_at <= now < self._read_at + self.ttl:
                self._rows = tuple(session.execute(_SERVABLE, {"now": now}).all())
                self._read_at = now
            return self._rows


@dataclass(frozen=True, slots=True)
class AdPlacement:
    """The ad won by ``campaign_id``: its creative and what it costs.

    ``price_millifen`` is committed against the budget for this impression; CPM campaigns are
    charged it, CPC campaigns are charged ``click_price_fen`` per click instead.
    """

    campaign_id: int
    advertiser_id: int
    billing: str
    title: str
    url: str
    image_url: str | None
    price_millifen: int
    click_price_fen: int | None


@dataclass(frozen=True, slots=True)
class ProductCard:
    """A matched product shown on the profile page, ``rank`` 1 first."""

    rank: int
    product_id: int
    title: str
    category: str
    price_fen: int
    commission_bp: int
    #: Why it is shown: a sentence with the match score, price and commission.
    why: str


@dataclass(frozen=True, slots=True)
class ProfileSlot:
    """What one profile view shows. ``preview`` decisions commit nothing."""

    creator_id: int
    decided_at: dt.datetime
    profile_ads: bool
    product_display: bool
    ad: AdPlacement | None
    products: tuple[ProductCard, ...]
    preview: bool


def decide_profile_slot(
    session: Session,
    creator_id: int,
    *,
    now: dt.datetime,
    preview: bool = False,
    product_limit: int = MAX_PRODUCTS,
    floor_ecpm_fen: int = FLOOR_ECPM_FEN,
    campaigns: CampaignCache | None = None,
) -> ProfileSlot:
    """Decide the slot of one view of ``creator_id``'s profile (see the module docstring).

    With ``campaigns``, the servable campaigns come from that cache; without, from the store.
    """
    if not 1 <= product_limit <= MAX_PRODUCTS:
        raise InvalidInput(f"product_limit must be between 1 and {MAX_PRODUCTS}")
    creator = session.execute(_CREATOR, {"creator_id": creator_id}).one_or_none()
    if creator is None:
        raise NotFound(f"creator {creator_id} does not exist")
    ads_on, products_on = bool(creator.profile_ads), bool(creator.product_display)
    products = _products(session, creator_id, product_limit) if products_on else ()
    ad = None
    if ads_on:
        servable = (
            campaigns.servable(session, now)
            if campaigns is not None
            else session.execute(_SERVABLE, {"now": now}).all()
        )
        audience = (int(creator.vertical_id), str(creator.stage), int(creator.follower_count))
        ad = _choose_ad(session, servable, creator_id, audience, now, preview, floor_ecpm_fen)
    return ProfileSlot(creator_id, now, ads_on, products_on, ad, products, preview)


def preview_profile_slots(
    session: Session,
    creator_ids: Sequence[int],
    *,
    now: dt.datetime,
    product_limit: int = MAX_PRODUCTS,
    floor_ecpm_fen: int = FLOOR_ECPM_FEN,
) -> list[ProfileSlot]:
    """Preview decisions (committing nothing) of one view of each creator's profile at
    ``now``, aligned with ``creator_ids``: each is what
    ``decide_profile_slot(session, creator_id, now=now, preview=True)`` returns, with the
    creators, their products and the servable campaigns read in a few statements for all of
    them (recent works only for creators whose candidate campaigns exclude keywords).

    Raises :class:`InvalidInput` for a ``product_limit`` outside ``1..MAX_PRODUCTS`` and
    :class:`NotFound` when a creator does not exist.
    """
    if not 1 <= product_limit <= MAX_PRODUCTS:
        raise InvalidInput(f"product_limit must be between 1 and {MAX_PRODUCTS}")
    wanted = list(dict.fromkeys(creator_ids))
    creators: dict[int, Row[Any]] = {}
    cards: dict[int, list[ProductCard]] = {}
    for at in range(0, len(wanted), _PREVIEW_CHUNK):
        chunk = {"creator_ids": wanted[at : at + _PREVIEW_CHUNK]}
        creators.update((row.id, row) for row in session.execute(_CREATORS, chunk))
        for creator_id, _, score, pid, title, category, price, commission in session.execute(
            _CREATORS_PRODUCTS, chunk
        ):
            shown = cards.setdefault(creator_id, [])
            if len(shown) < product_limit:
                rank = len(shown) + 1
                why = product_why(rank, category, price, commission, float(score))
                shown.append(ProductCard(rank, pid, title, category, price, commission, why))
    if missing := [c for c in wanted if c not in creators]:
        raise NotFound(f"creator {missing[0]} does not exist")
    live: list[Row[Any]] | None = None
    # A preview commits nothing, so the auction of one list of candidates is the same for
    # every creator it is run for: run once per (vertical, stage) filter and candidate list.
    in_group: dict[tuple[int, str], list[Row[Any]]] = {}
    auctions: dict[tuple[int, ...], AdPlacement | None] = {}
    slots: list[ProfileSlot] = []
    for creator_id in creator_ids:
        creator = creators[creator_id]
        ads_on, products_on = bool(creator.profile_ads), bool(creator.product_display)
        products = tuple(cards.get(creator_id, ())) if products_on else ()
        ad = None
        if ads_on:
            if live is None:
                servable = session.execute(_SERVABLE, {"now": now}).all()
                live = [r for r in servable if r.starts_at <= now < r.ends_at]
            vertical, stage = int(creator.vertical_id), str(creator.stage)
            followers = int(creator.follower_count)
            group = in_group.get((vertical, stage))
            if group is None:
                group = in_group[vertical, stage] = [
                    r for r in live if _targets_group(r, vertical, stage)
                ]
            candidates = _without_excluded(
                session, [r for r in group if _targets_followers(r, followers)], creator_id
            )
            key = tuple(r.id for r in candidates)
            if key not in auctions:
                auctions[key] = _auction(session, candidates, now, True, floor_ecpm_fen)
            ad = auctions[key]
        slots.append(ProfileSlot(creator_id, now, ads_on, products_on, ad, products, True))
    return slots


def _choose_ad(
    session: Session,
    servable: Sequence[Row[Any]],
    creator_id: int,
    audience: tuple[int, str, int],
    now: dt.datetime,
    preview: bool,
    floor_ecpm_fen: int,
) -> AdPlacement | None:
    candidates = [r for r in servable if r.starts_at <= now < r.ends_at and _targets(r, *audience)]
    candidates = _without_excluded(session, candidates, creator_id)
    return _auction(session, candidates, now, preview, floor_ecpm_fen)


def _without_excluded(
    session: Session, candidates: list[Row[Any]], creator_id: int
) -> list[Row[Any]]:
    """``candidates`` without the campaigns excluding a keyword of the creator's recent works
    (read only when one of them excludes keywords)."""
    if any(r.excluded_keywords for r in candidates):
        text = _recent_text(session, creator_id)
        candidates = [r for r in candidates if not any(k in text for k in r.excluded_keywords)]
    return candidates


def _auction(
    session: Session,
    candidates: list[Row[Any]],
    now: dt.datetime,
    preview: bool,
    floor_ecpm_fen: int,
) -> AdPlacement | None:
    """The ad the auction of ``candidates`` places (committed unless ``preview``), if any."""
    if not candidates:
        return None
    ctr = predicted_ctr(
        np.array([r.served_impressions for r in candidates], dtype=np.int64),
        np.array([r.clicks for r in candidates], dtype=np.int64),
    )
    bids = bid_ecpm(
        [r.billing for r in candidates],
        np.array([r.bid_fen for r in candidates], dtype=np.int64),
        ctr,
    )
    ranking = rank_bids(bids, quality_factor(ctr), floor_ecpm_fen=floor_ecpm_fen)
    for index, price in zip(ranking.order.tolist(), ranking.price_ecpm_fen.tolist(), strict=True):
        row = candidates[index]
        cap = spend_cap_millifen(row.budget_fen, row.starts_at, row.ends_at, now, row.pacing)
        if row.reserved_millifen + price > cap:
            continue
        if preview or _commit(session, row.id, price, cap):
            click_price = None
            if row.billing == "cpc":
                click_price = min(row.bid_fen, -(-price // max(1, round(1_000 * ctr[index]))))
            return AdPlacement(
                row.id,
                row.advertiser_id,
                row.billing,
                row.creative_title,
                row.creative_url,
                row.creative_image_url,
                price,
                click_price,
            )
    return None


def _targets(campaign: Row[Any], vertical: int, stage: str, followers: int) -> bool:
    """Whether the campaign's targeting and vertical exclusions admit the creator."""
    return _targets_group(campaign, vertical, stage) and _targets_followers(campaign, followers)


def _targets_group(campaign: Row[Any], vertical: int, stage: str) -> bool:
    """Whether the campaign's vertical and stage targeting admit a creator of these."""
    return (
        (not campaign.target_verticals or vertical in campaign.target_verticals)
        and vertical not in campaign.excluded_verticals
        and (not campaign.target_stages or stage in campaign.target_stages)
    )


def _targets_followers(campaign: Row[Any], followers: int) -> bool:
    """Whether the campaign's follower bounds admit a creator with ``followers``."""
    return followers >= campaign.min_followers and (
        campaign.max_followers is None or followers <= campaign.max_followers
    )


def _recent_text(session: Session, creator_id: int) -> str:
    """Lower-cased titles and hashtags of the creator's latest works."""
    rows = session.execute(_RECENT_WORKS, {"creator_id": creator_id})
    return " ".join(f"{title} {' '.join(tags or [])}" for title, tags in rows).lower()


def _commit(session: Session, campaign_id: int, price_millifen: int, cap_millifen: int) -> bool:
    """Commit one impression's price if the status, budget and pacing cap still allow it."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_ASYNC_COMMIT)
    result = session.execute(
        _COMMIT, {"campaign_id": campaign_id, "price": price_millifen, "cap": cap_millifen}
    )
    assert isinstance(result, CursorResult)
    return result.rowcount == 1


def _products(session: Session, creator_id: int, limit: int) -> tuple[ProductCard, ...]:
    rows = session.execute(_PRODUCTS, {"creator_id": creator_id, "limit": limit})
    return tuple(
        ProductCard(
            rank,
            pid,
            title,
            category,
            price,
            commission,
            product_why(rank, category, price, commission, float(score)),
        )
        for rank, (_, score, pid, title, category, price, commission) in enumerate(rows, 1)
    )


def product_why(rank: int, category: str, price_fen: int, commission_bp: int, score: float) -> str:
    """Why a matched product is shown, in a sentence with its figures."""
    commission_fen = price_fen * commission_bp // 10_000
    return (
        f"Shown {_ordinal(rank)} because it matches what you publish and sells to your "
        f"vertical's audience ({category}; match score {score:.3g}, from relevance to your "
        f"works x commission x past orders in the category), and each sale at "
        f"{price_fen / 100:,.2f} yuan pays {commission_fen / 100:,.2f} yuan commission "
        f"({commission_bp / 100:g}%)."
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
