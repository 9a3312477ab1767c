"""Settlement rules: which transfers one day's revenue events owe, as linked groups.

For day ``D``, in this order:

1. **Ad revenue.** Each ad impression or click row charged ``amount_fen`` pays the creator
   ``amount × creator_ad_share_bp / 10,000`` (rounded down) from the platform's ad revenue;
   the institution whose contract splits the creator's ``ads`` income that day takes its
   ``ads`` split of that. The
   share is paid only in one linked chain with the transfer that collects the row's charge into
   ad revenue (``DayEvents.ad_charges``): a charge the ledger refuses (a spent budget) pays
   nobody, and a row with no charge to collect is not paid at all.
2. **Commissions.** Each order with ``commission_fen`` reserves that commission for the creator
   as a *pending* transfer; nothing is spendable yet.
3. **Refunds.** A refund within the return window voids the order's pending commission; a
   later one reverses the posted commission and the institution's split. When an earnings
   account cannot cover its part (it was paid out), the reversal is recorded as owed instead
   (:func:`owed_reversal`): each party's :func:`clawback` account is debited, and payouts
   recover it from later earnings.
4. **Window close.** Orders placed ``return_window_days`` before ``D`` and not refunded have
   their commission posted, and the institution takes its ``commerce`` split per the contract
   in force on the order's day.

Every transfer has a key derived from its source event, so settling a day again posts nothing
new, and the store refuses a second transfer for the same source event and code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from guanghe.errors import InvalidInput
from guanghe.ledger.accounts import AccountKey
from guanghe.ledger.transfers import TransferRequest

AD_REVENUE = AccountKey("platform", 0, "ad_revenue", "CNY")
COMMISSIONS = AccountKey("platform", 0, "commission_clearing", "CNY")


#: Codes of the day's settlement that pay a creator income, by income source (counted by the
#: settlement batch of their day).
SETTLEMENT_INCOME_CODES: Final = {
    "ad_revenue_share": "profile_ads",
    "commission_post": "commission",
}
#: Codes of rewards paid outside settlement (approved task slots, incentive programmes, Torch
#: rewards from an institution's cash budget), counted by their business day.
REWARD_INCOME_CODES: Final = {
    "task_reward": "tasks",
    "incentive_cash": "incentives",
    "torch_reward": "torch",
}
#: Codes of transfers that pay a creator income, by income source, and of those taking it back.
INCOME_CODES: Final = {**SETTLEMENT_INCOME_CODES, **REWARD_INCOME_CODES}
#: The code recording a refunded order's commission as owed (see :func:`owed_reversal`).
OWED_CODE: Final = "commission_clawback"
CLAWBACK_CODES: Final = {"commission_reversal": "commission", OWED_CODE: "commission"}
#: Key prefixes of a refunded order's commission reversal, and of it recorded as owed.
REVERSAL_KEY_PREFIX: Final = "commission-reversal:"
OWED_KEY_PREFIX: Final = "commission-owed:"


def batch_name(day: dt.date) -> str:
    """The ``batch`` label of the transfers settling ``day``."""
    return f"settle:{day.isoformat()}"


def earnings(owner_kind: str, owner_id: int) -> AccountKey:
    """The CNY earnings account of a creator or institution (never negative)."""
    return AccountKey(owner_kind, owner_id, "earnings", "CNY", "debits")


def clawback(owner_kind: str, owner_id: int) -> AccountKey:
    """What a creator or institution owes back (a reversal their earnings could not cover):
    debited when owed, credited as payouts recover it, never credited past what is owed."""
    return AccountKey(owner_kind, owner_id, "clawback", "CNY", "credits")


@dataclass(frozen=True, slots=True)
class SettlementRules:
    """Configurable terms: the creator's share of ad revenue and the return window."""

    creator_ad_share_bp: int = 5_000
    return_window_days: int = 7

    def __post_init__(self) -> None:
        if not 0 <= self.creator_ad_share_bp <= 10_000:
            raise InvalidInput("creator_ad_share_bp must be between 0 and 10000")
        if not 0 <= self.return_window_days <= 365:
            raise InvalidInput("return_window_days must be between 0 and 365")


@dataclass(frozen=True, slots=True)
class Revenue:
    """One revenue event: its id, creator and the amount it concerns (fen)."""

    event_id: str
    creator_id: int
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Split:
    """The contract in force for one income source: ``split_bp`` of the creator's income
    from it to ``institution_id``."""

    institution_id: int
    split_bp: int


@dataclass(slots=True)
class DayEvents:
    """What settling one day needs: its revenue events and the contracts in force.

    ``refunded_in_window`` and ``refunded_after_window`` hold the refunded *orders*;
    ``closing`` the orders whose return window closes today, refunds excluded.
    ``splits_today`` and ``splits_on_order_day`` map a creator to their contract's split.
    ``ad_charges`` maps an ad row's event id to the transfer collecting its charge into
    :data:`AD_REVENUE`; rows without one are not paid.
    """

    ads: list[Revenue] = field(default_factory=list)
    orders: list[Revenue] = field(default_factory=list)
    refunded_in_window: list[Revenue] = field(default_factory=list)
    refunded_after_window: list[Revenue] = field(default_factory=list)
    closing: list[Revenue] = field(default_factory=list)
    splits_today: dict[int, Split] = field(default_factory=dict)
    splits_on_order_day: dict[str, Split] = field(default_factory=dict)
    ad_charges: dict[str, TransferRequest] = field(default_factory=dict)


def settlement_transfers(
    day: DayEvents, rules: SettlementRules, accounts: dict[AccountKey, int]
) -> list[list[TransferRequest]]:
    """The day's transfers as linked groups (each group posts all or nothing).

    An ad row's group starts with the transfer collecting its charge, so its creator and
    institution are paid exactly when (and only if) the charge is collected. ``accounts`` maps
    every key of :func:`accounts_needed` to its account id.
    """
    earnings_ids: dict[tuple[str, int], int] = {}

    def earnings_of(owner_kind: str, owner_id: int) -> int:
        """The id of :func:`earnings`' account (looked up once per owner)."""
        key = (owner_kind, owner_id)
        if key not in earnings_ids:
            earnings_ids[key] = accounts[earnings(owner_kind, owner_id)]
        return earnings_ids[key]

    ad_revenue, commissions = accounts[AD_REVENUE], accounts[COMMISSIONS]
    groups: list[list[TransferRequest]] = []
    for ad in day.ads:
        charge = day.ad_charges.get(ad.event_id)
        if charge is None:
            continue
        group = [charge]
        share = ad.amount_fen * rules.creator_ad_share_bp // 10_000
        if share > 0:
            group.append(
                _pay(f"ad:{ad.event_id}", "ad_revenue_share", ad_revenue, ad, share, earnings_of)
            )
            group.extend(_split(ad, share, day.splits_today.get(ad.creator_id), "ad", earnings_of))
        groups.append(group)
    for order in day.orders:
        groups.append(
            [
                _pay(
                    f"commission:{order.event_id}",
                    "commission",
                    commissions,
                    order,
                    order.amount_fen,
                    earnings_of,
                    kind="pending",
                )
            ]
        )
    for order in day.refunded_in_window:
        groups.append(
            [
                TransferRequest(
                    f"commission-void:{order.event_id}",
                    "commission_void",
                    kind="void_pending",
                    pending_key=f"commission:{order.event_id}",
                )
            ]
        )
    for order in day.refunded_after_window:
        groups.append(_reverse_commission(order, day.splits_on_order_day.get(order.event_id)))
    for order in day.closing:
        post = TransferRequest(
            f"commission-post:{order.event_id}",
            "commission_post",
            kind="post_pending",
            pending_key=f"commission:{order.event_id}",
        )
        split = _split(
            order,
            order.amount_fen,
            day.splits_on_order_day.get(order.event_id),
            "commission",
            earnings_of,
        )
        groups.append([post, *split])
    return groups


def _pay(
    key: str,
    code: str,
    source_account_id: int,
    revenue: Revenue,
    amount: int,
    earnings_of: Callable[[str, int], int],
    kind: str = "posted",
) -> TransferRequest:
    return TransferRequest(
        key,
        code,
        kind=kind,  # type: ignore[arg-type]
        debit_account_id=source_account_id,
        credit_account_id=earnings_of("creator", revenue.creator_id),
        amount=amount,
        source=("event", revenue.event_id),
    )


def _split(
    revenue: Revenue,
    earned: int,
    split: Split | None,
    prefix: str,
    earnings_of: Callable[[str, int], int],
) -> list[TransferRequest]:
    if split is None or earned * split.split_bp // 10_000 == 0:
        return []
    return [
        TransferRequest(
            f"{prefix}-split:{revenue.event_id}",
            f"{prefix}_institution_split",
            debit_account_id=earnings_of("creator", revenue.creator_id),
            credit_account_id=earnings_of("institution", split.institution_id),
            amount=earned * split.split_bp // 10_000,
            source=("event", revenue.event_id),
        )
    ]


def _reverse_commission(order: Revenue, split: Split | None) -> list[TransferRequest]:
    group = [
        TransferRequest(
            f"{REVERSAL_KEY_PREFIX}{order.event_id}",
            "commission_reversal",
            reverses_key=f"commission-post:{order.event_id}",
        )
    ]
    if split is not None and order.amount_fen * split.split_bp // 10_000 > 0:
        group.insert(
            0,
            TransferRequest(
                f"commission-split-reversal:{order.event_id}",
                "commission_split_reversal",
                reverses_key=f"commission-split:{order.event_id}",
            ),
        )
    return group


def owed_reversal(
    order: Revenue, split: Split | None, accounts: dict[AccountKey, int]
) -> list[TransferRequest]:
    """The chain recording a refunded order's commission as owed, for when its reversal was
    refused: the creator owes the whole commission back (as the reversal would have taken it),
    the institution its split (which the reversal would have given back to the creator).
    ``accounts`` maps the :func:`clawback` keys of both and :data:`COMMISSIONS` to ids."""
    creator = accounts[clawback("creator", order.creator_id)]
    group = [
        TransferRequest(
            f"{OWED_KEY_PREFIX}{order.event_id}",
            OWED_CODE,
            debit_account_id=creator,
            credit_account_id=accounts[COMMISSIONS],
            amount=order.amount_fen,
            source=("event", order.event_id),
        )
    ]
    if split is not None and (taken := order.amount_fen * split.split_bp // 10_000) > 0:
        group.append(
            TransferRequest(
                f"commission-split-owed:{order.event_id}",
                "commission_split_clawback",
                debit_account_id=accounts[clawback("institution", split.institution_id)],
                credit_account_id=creator,
                amount=taken,
                source=("event", order.event_id),
            )
        )
    return group


def owed_accounts(orders: list[Revenue], splits: dict[str, Split]) -> list[AccountKey]:
    """Every account :func:`owed_reversal` of ``orders`` touches."""
    keys = {COMMISSIONS}
    for order in orders:
        keys.add(clawback("creator", order.creator_id))
        split = splits.get(order.event_id)
        if split is not None:
            keys.add(clawback("institution", split.institution_id))
    return sorted(keys, key=lambda k: (k.owner_kind, k.owner_id, k.purpose))


def accounts_needed(day: DayEvents) -> list[AccountKey]:
    """Every account the day's transfers touch."""
    revenues = [*day.ads, *day.orders, *day.closing, *day.refunded_after_window]
    keys = {AD_REVENUE, COMMISSIONS}
    keys.update(earnings("creator", r.creator_id) for r in revenues)
    splits = [*day.splits_today.values(), *day.splits_on_order_day.values()]
    keys.update(earnings("institution", s.institution_id) for s in splits)
    return sorted(keys, key=lambda k: (k.owner_kind, k.owner_id, k.purpose))
