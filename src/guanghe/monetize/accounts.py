"""The ledger accounts of monetization: advertisers' prepaid funds and campaign budgets.

Money enters from outside through the platform's ``advertiser_deposits`` account (it goes
negative by what advertisers have paid in), sits in the advertiser's ``prepaid`` account, is
moved to a campaign's ``campaign:<id>`` budget account when the campaign is created, and is
spent from there into the platform's ad revenue, from which settlement pays creators their
share (:mod:`guanghe.ledger.settlement`). Prepaid and budget accounts never go negative.
"""

from __future__ import annotations

from typing import Final

from guanghe.ledger import AccountKey
from guanghe.ledger.settlement import AD_REVENUE

DEPOSITS: Final = AccountKey("platform", 0, "advertiser_deposits", "CNY")

__all__ = ["AD_REVENUE", "DEPOSITS", "campaign_budget", "prepaid"]


def prepaid(advertiser_id: int) -> AccountKey:
    """The advertiser's prepaid funds, from which campaign budgets are funded."""
    return AccountKey("advertiser", advertiser_id, "prepaid", "CNY", "debits")


def campaign_budget(advertiser_id: int, campaign_id: int) -> AccountKey:
    """The budget account of one campaign; ad spend is debited from it."""
    return AccountKey("advertiser", advertiser_id, f"campaign:{campaign_id}", "CNY", "debits")
