"""Monetization without extra shooting: creators authorise profile-page ads and product
display; advertisers' campaigns fill the ad slot through a budget-safe, paced second-price
auction; merchants' products are matched to creators by the daily cycle; spend, revenue
shares and commissions settle through the ledger.
"""

from guanghe.monetize.auction import Ranking, rank_bids, spend_cap_millifen
from guanghe.monetize.campaigns import (
    CampaignSpec,
    CampaignView,
    create_campaign,
    deposit,
    fund_campaigns,
    get_campaign,
    list_campaigns,
    set_campaign_status,
)
from guanghe.monetize.consents import (
    Authorisations,
    ConsentChange,
    authorisation_history,
    authorisations,
    check_creator_access,
    set_authorisation,
)
from guanghe.monetize.earnings import (
    CreatorEarnings,
    Estimate,
    MonetizationTotals,
    creator_earnings,
    earnings_estimate,
    monetization_totals,
    showcase_subjects,
)
from guanghe.monetize.matching import Matches, ProductMatcher, diversify
from guanghe.monetize.parties import Party, get_party, list_parties, register_party
from guanghe.monetize.products import (
    ProductChange,
    ProductSales,
    ProductSpec,
    ProductView,
    create_product,
    get_product,
    list_products,
    product_sales,
    update_product,
)
from guanghe.monetize.slots import (
    AdPlacement,
    ProductCard,
    ProfileSlot,
    decide_profile_slot,
    preview_profile_slots,
)

__all__ = [
    "AdPlacement",
    "Authorisations",
    "CampaignSpec",
    "CampaignView",
    "ConsentChange",
    "CreatorEarnings",
    "Estimate",
    "Matches",
    "MonetizationTotals",
    "Party",
    "ProductCard",
    "ProductChange",
    "ProductMatcher",
    "ProductSales",
    "ProductSpec",
    "ProductView",
    "ProfileSlot",
    "Ranking",
    "authorisation_history",
    "authorisations",
    "check_creator_access",
    "create_campaign",
    "create_product",
    "creator_earnings",
    "decide_profile_slot",
    "deposit",
    "diversify",
    "earnings_estimate",
    "fund_campaigns",
    "get_campaign",
    "get_party",
    "get_product",
    "list_campaigns",
    "list_parties",
    "list_products",
    "monetization_totals",
    "preview_profile_slots",
    "product_sales",
    "rank_bids",
    "register_party",
    "set_authorisation",
    "set_campaign_status",
    "showcase_subjects",
    "spend_cap_millifen",
    "update_product",
]
