"""Ad spend into the ledger: each charged ad impression or click row moves what it charged
from its campaign's budget account to the platform's ad revenue, once per event.

The budget account may not go negative, so the ledger refuses a charge past the budget
(``exceeds_credits``): a campaign never spends more than was funded, even if events report
more than the profile slot committed. Settlement posts each creator's share in one linked chain
with this transfer, so a refused charge pays nobody.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from guanghe.ledger import AccountKey, TransferRequest
from guanghe.monetize.accounts import AD_REVENUE, campaign_budget


@dataclass(frozen=True, slots=True)
class AdCharge:
    """One charged ad row: its event, campaign (and the campaign's advertiser), fen."""

    event_id: str
    campaign_id: int
    advertiser_id: int
    amount_fen: int


def batch_name(day: dt.date) -> str:
    """The ``batch`` label of the ad-spend transfers of ``day``."""
    return f"ad-spend:{day.isoformat()}"


def accounts_needed(charges: list[AdCharge]) -> list[AccountKey]:
    """Ad revenue and the budget account of every campaign charged."""
    budgets = {campaign_budget(c.advertiser_id, c.campaign_id) for c in charges}
    return [AD_REVENUE, *sorted(budgets, key=lambda k: (k.owner_id, k.purpose))]


def ad_spend_transfers(
    charges: list[AdCharge], accounts: dict[AccountKey, int]
) -> list[TransferRequest]:
    """One transfer per charge, keyed and sourced by its event (idempotent)."""
    return [ad_spend_transfer(c, accounts) for c in charges if c.amount_fen > 0]


def ad_spend_transfer(charge: AdCharge, accounts: dict[AccountKey, int]) -> TransferRequest:
    """The transfer collecting one charge from its campaign's budget into ad revenue."""
    return TransferRequest(
        f"ad-spend:{charge.event_id}",
        "ad_spend",
        debit_account_id=accounts[campaign_budget(charge.advertiser_id, charge.campaign_id)],
        credit_account_id=accounts[AD_REVENUE],
        amount=charge.amount_fen,
        source=("event", charge.event_id),
    )
