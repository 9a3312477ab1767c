"""Advertisers' campaigns: created with their budget funded in the ledger, read back with
spend and results, paused, resumed or ended (what is left of the budget then goes back to
the advertiser, :mod:`guanghe.monetize.refunds`); and advertisers' prepaid deposits."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import Conflict, Forbidden, InvalidInput, NotFound
from guanghe.ledger import (
    TransferRequest,
    TransferStatus,
    code_totals_by_account,
    find_accounts,
    get_account,
    open_accounts,
    post_transfers,
)
from guanghe.monetize.accounts import DEPOSITS, campaign_budget, prepaid
from guanghe.monetize.parties import check_acts_for, require_party
from guanghe.monetize.refunds import REFUND_CODE, refund_budgets
from guanghe.pagination import Page, after_id, check_limit, page_of
from guanghe.store import Campaign
from guanghe.store.monetize_tables import BILLING_MODELS, CAMPAIGN_STATUSES, PACING_MODES
from guanghe.vocabulary import STAGES

MAX_BUDGET_FEN = 10**12
MAX_BID_FEN = 10**8
MAX_KEYWORDS = 50
VERTICAL_IDS = range(1, 1_000)


@dataclass(frozen=True, slots=True)
class CampaignSpec:
    """What an advertiser asks for. Validated on construction (:class:`InvalidInput`).

    ``bid_fen`` is per thousand impressions for ``cpm`` and per click for ``cpc``. Empty
    targeting lists mean "any"; exclusions are brand-safety rules: verticals, and keywords
    matched against the titles and hashtags of the creator's recent works.
    """

    name: str
    billing: str
    bid_fen: int
    budget_fen: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    creative_title: str
    creative_url: str
    creative_image_url: str | None = None
    pacing: str = "even"
    target_verticals: tuple[int, ...] = ()
    target_stages: tuple[str, ...] = ()
    min_followers: int = 0
    max_followers: int | None = None
    excluded_verticals: tuple[int, ...] = ()
    excluded_keywords: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise InvalidInput("; ".join(problems))

    def _problems(self) -> list[str]:
        found = []
        if not 1 <= len(self.name.strip()) <= 120:
            found.append("name is 1 to 120 characters")
        if self.billing not in BILLING_MODELS:
            found.append(f"billing is one of {BILLING_MODELS}")
        if self.pacing not in PACING_MODES:
            found.append(f"pacing is one of {PACING_MODES}")
        if not 0 < self.bid_fen <= MAX_BID_FEN:
            found.append(f"bid_fen is 1 to {MAX_BID_FEN}")
        if not 0 < self.budget_fen <= MAX_BUDGET_FEN:
            found.append(f"budget_fen is 1 to {MAX_BUDGET_FEN}")
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            found.append("starts_at and ends_at need a time zone")
        elif self.ends_at <= self.starts_at:
            found.append("ends_at must be after starts_at")
        if not 1 <= len(self.creative_title.strip()) <= 80:
            found.append("creative_title is 1 to 80 characters")
        for name, url in (("creative_url", self.creative_url), ("image", self.creative_image_url)):
            if url is not None and (not url.startswith(("https://", "http://")) or len(url) > 400):
                found.append(f"{name} is an http(s) URL of at most 400 characters")
        if unknown := set(self.target_stages) - set(STAGES):
            found.append(f"unknown stages {sorted(unknown)}")
        verticals = (*self.target_verticals, *self.excluded_verticals)
        if any(v not in VERTICAL_IDS for v in verticals):
            found.append("vertical ids are positive")
        if self.min_followers < 0 or (
            self.max_followers is not None and self.max_followers < self.min_followers
        ):
            found.append("follower range must satisfy 0 <= min_followers <= max_followers")
        if len(self.excluded_keywords) > MAX_KEYWORDS or any(
            not 1 <= len(k.strip()) <= 40 for k in self.excluded_keywords
        ):
            found.append(f"at most {MAX_KEYWORDS} excluded keywords of 1 to 40 characters")
        return found


@dataclass(frozen=True, slots=True)
class CampaignView:
    """A campaign with its delivery so far: impressions served, clicks and the budget they
    committed (fen, counted as the slot serves), and from its ledger budget account what was
    spent, what was refunded and what remains in it (fen)."""

    id: int
    advertiser_id: int
    name: str
    status: str
    billing: str
    bid_fen: int
    budget_fen: int
    pacing: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    target_verticals: list[int]
    target_stages: list[str]
    min_followers: int
    max_followers: int | None
    excluded_verticals: list[int]
    excluded_keywords: list[str]
    creative_title: str
    creative_url: str
    creative_image_url: str | None
    impressions: int
    clicks: int
    committed_fen: int
    spent_fen: int
    refunded_fen: int
    remaining_fen: int
    budget_account_id: int | None

    @property
    def ctr(self) -> float:
        return self.clicks / self.impressions if self.impressions else 0.0


def deposit(
    session: Session, advertiser_id: int, *, key: str, amount_fen: int, now: dt.datetime
) -> int:
    """Credit ``amount_fen`` paid in by the advertiser to its prepaid account (idempotent on
    ``key``); returns the new prepaid balance."""
    if not 0 < amount_fen <= MAX_BUDGET_FEN:
        raise InvalidInput(f"amount_fen is 1 to {MAX_BUDGET_FEN}")
    if not 1 <= len(key) <= 100:
        raise InvalidInput("key is 1 to 100 characters")
    require_party(session, "advertiser", advertiser_id)
    accounts = open_accounts(session, [DEPOSITS, prepaid(advertiser_id)], now=now)
    (result,) = post_transfers(
        session,
        [
            TransferRequest(
                f"advertiser-deposit:{advertiser_id}:{key}",
                "advertiser_deposit",
                debit_account_id=accounts[DEPOSITS],
                credit_account_id=accounts[prepaid(advertiser_id)],
                amount=amount_fen,
            )
        ],
        now=now,
    )
    if not result.ok:
        raise Conflict(f"deposit {key!r} not posted: {result.status.replace('_', ' ')}")
    return get_account(session, accounts[prepaid(advertiser_id)]).balance


def create_campaign(
    session: Session,
    principal: Principal,
    advertiser_id: int,
    spec: CampaignSpec,
    *,
    now: dt.datetime,
) -> CampaignView:
    """Create the campaign and fund its budget from the advertiser's prepaid account, in the
    caller's transaction: with too little prepaid, :class:`Conflict` and nothing written."""
    check_acts_for(principal, "advertiser", advertiser_id)
    require_party(session, "advertiser", advertiser_id)
    row = Campaign(
        advertiser_id=advertiser_id,
        name=spec.name.strip(),
        status="active",
        billing=spec.billing,
        bid_fen=spec.bid_fen,
        budget_fen=spec.budget_fen,
        reserved_millifen=0,
        served_impressions=0,
        clicks=0,
        pacing=spec.pacing,
        target_verticals=sorted(set(spec.target_verticals)),
        target_stages=sorted(set(spec.target_stages)),
        min_followers=spec.min_followers,
        max_followers=spec.max_followers,
        excluded_verticals=sorted(set(spec.excluded_verticals)),
        excluded_keywords=sorted({k.strip().lower() for k in spec.excluded_keywords}),
        starts_at=spec.starts_at,
        ends_at=spec.ends_at,
        creative_title=spec.creative_title.strip(),
        creative_url=spec.creative_url,
        creative_image_url=spec.creative_image_url,
        created_at=now,
    )
    session.add(row)
    session.flush()
    fund_campaigns(session, [(advertiser_id, row.id, spec.budget_fen)], now=now)
    return _view(session, row)


def fund_campaigns(
    session: Session, budgets: list[tuple[int, int, int]], *, now: dt.datetime
) -> None:
    """Move each ``(advertiser, campaign, budget_fen)`` from prepaid to the campaign budget.

    Lock requirement: inside a writer transaction. Raises :class:`Conflict` if any cannot be
    funded (the caller's transaction then rolls back as a whole)."""
    keys = [k for adv, cid, _ in budgets for k in (prepaid(adv), campaign_budget(adv, cid))]
    accounts = open_accounts(session, keys, now=now)
    requests = [
        TransferRequest(
            f"campaign-budget:{cid}",
            "campaign_budget",
            debit_account_id=accounts[prepaid(adv)],
            credit_account_id=accounts[campaign_budget(adv, cid)],
            amount=budget,
        )
        for adv, cid, budget in budgets
    ]
    for result in post_transfers(session, requests, now=now):
        if not result.ok:
            reason = (
                "the advertiser's prepaid balance is below the budget"
                if result.status is TransferStatus.EXCEEDS_CREDITS
                else result.status.replace("_", " ")
            )
            raise Conflict(f"campaign budget not funded: {reason}")


def list_campaigns(
    session: Session,
    principal: Principal,
    *,
    advertiser_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[CampaignView]:
    """Campaigns the caller may see, an advertiser's own or every one for operators, in id
    order a page at a time (:mod:`guanghe.pagination`)."""
    check_limit(limit)
    query: Select[Campaign] = select(Campaign).order_by(Campaign.id).limit(limit + 1)
    if principal.role == "advertiser":
        query = query.where(Campaign.advertiser_id == principal.subject_id)
    elif principal.role != "operator":
        raise Forbidden(f"the {principal.role} role has no campaigns")
    if advertiser_id is not None:
        query = query.where(Campaign.advertiser_id == advertiser_id)
    after = after_id(cursor)
    if after is not None:
        query = query.where(Campaign.id > after)
    rows = page_of(list(session.scalars(query)), limit, lambda r: [r.id])
    figures = _budget_figures(session, rows.items)
    return Page([_view(session, r, figures) for r in rows.items], rows.next_cursor)


def get_campaign(session: Session, principal: Principal, campaign_id: int) -> CampaignView:
    """One campaign; another advertiser's is :class:`Forbidden`."""
    return _view(session, _owned(session, principal, campaign_id))


def set_campaign_status(
    session: Session,
    principal: Principal,
    campaign_id: int,
    status: str,
    *,
    now: dt.datetime | None = None,
) -> CampaignView:
    """Pause, resume or end a campaign; an ended campaign stays ended. Ending it refunds what
    is left of its budget to the advertiser's prepaid account in the same transaction (once;
    charges presented afterwards are refused).

    Lock requirement: inside a writer transaction."""
    if status not in CAMPAIGN_STATUSES:
        raise InvalidInput(f"status is one of {CAMPAIGN_STATUSES}")
    row = _owned(session, principal, campaign_id, for_update=True)
    if row.status == "ended" and status != "ended":
        raise Conflict(f"campaign {campaign_id} has ended; it cannot be {status} again")
    row.status = status
    session.flush()
    if status == "ended":
        refund_budgets(session, [(row.advertiser_id, row.id)], now=now or dt.datetime.now(dt.UTC))
    return _view(session, row)


def _owned(
    session: Session, principal: Principal, campaign_id: int, *, for_update: bool = False
) -> Campaign:
    if principal.role not in ("advertiser", "operator"):
        raise Forbidden(f"the {principal.role} role has no campaigns")
    row = session.get(Campaign, campaign_id, with_for_update=for_update)
    if row is None:
        raise NotFound(f"campaign {campaign_id} does not exist")
    if principal.role == "advertiser" and row.advertiser_id != principal.subject_id:
        raise Forbidden(f"campaign {campaign_id} is another advertiser's")
    return row


@dataclass(frozen=True, slots=True)
class _BudgetFigures:
    """A campaign's budget account as the ledger holds it (fen)."""

    account_id: int | None = None
    spent_fen: int = 0
    refunded_fen: int = 0
    remaining_fen: int = 0


def _budget_figures(session: Session, rows: list[Campaign]) -> dict[int, _BudgetFigures]:
    """Each campaign's budget account: spent (debited, less the refund), refunded and what it
    holds; campaigns whose account was never opened are absent."""
    keys = {r.id: campaign_budget(r.advertiser_id, r.id) for r in rows}
    accounts = find_accounts(session, list(keys.values()))
    refunded = code_totals_by_account(
        session, REFUND_CODE, [a.id for a in accounts.values()], side="debit"
    )
    figures: dict[int, _BudgetFigures] = {}
    for campaign_id, key in keys.items():
        account = accounts.get(key)
        if account is not None:
            back = refunded.get(account.id, 0)
            figures[campaign_id] = _BudgetFigures(
                account.id, account.debits_posted - back, back, account.available
            )
    return figures


def _view(
    session: Session, row: Campaign, figures: dict[int, _BudgetFigures] | None = None
) -> CampaignView:
    budget = (figures if figures is not None else _budget_figures(session, [row])).get(
        row.id, _BudgetFigures()
    )
    return CampaignView(
        id=row.id,
        advertiser_id=row.advertiser_id,
        name=row.name,
        status=row.status,
        billing=row.billing,
        bid_fen=row.bid_fen,
        budget_fen=row.budget_fen,
        pacing=row.pacing,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        target_verticals=list(row.target_verticals),
        target_stages=list(row.target_stages),
        min_followers=row.min_followers,
        max_followers=row.max_followers,
        excluded_verticals=list(row.excluded_verticals),
        excluded_keywords=list(row.excluded_keywords),
        creative_title=row.creative_title,
        creative_url=row.creative_url,
        creative_image_url=row.creative_image_url,
        impressions=row.served_impressions,
        clicks=row.clicks,
        committed_fen=-(-row.reserved_millifen // 1_000),
        spent_fen=budget.spent_fen,
        refunded_fen=budget.refunded_fen,
        remaining_fen=budget.remaining_fen,
        budget_account_id=budget.account_id,
    )
