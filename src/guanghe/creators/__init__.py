"""Creators, works and verticals; lifecycle stage, quality score, the high-quality pool and
growth-rights tiers.
"""

from guanghe.creators.assess import assess_creators
from guanghe.creators.catalog import (
    CreatorFilter,
    CreatorView,
    WorkFilter,
    WorkView,
    creator_scope,
    get_creator,
    get_work,
    list_creators,
    list_works,
)
from guanghe.creators.directory import Standing, handles_of, ids_by_handle, standing_of
from guanghe.creators.growth import GrowthView, TierCounts, creator_growth, tier_counts
from guanghe.creators.referents import StoreReferents
from guanghe.creators.rights import check_right
from guanghe.creators.rules import CreatorRules, load_rules, parse_rules, rules_path
from guanghe.creators.texts import WorkText, works_published, works_with_ids
from guanghe.creators.tiers import AssessmentWrite, record_assessment
from guanghe.creators.verticals import VerticalView, list_verticals, vertical_ids
from guanghe.pagination import Page

__all__ = [
    "AssessmentWrite",
    "CreatorFilter",
    "CreatorRules",
    "CreatorView",
    "GrowthView",
    "Page",
    "Standing",
    "StoreReferents",
    "TierCounts",
    "VerticalView",
    "WorkFilter",
    "WorkText",
    "WorkView",
    "assess_creators",
    "check_right",
    "creator_growth",
    "creator_scope",
    "get_creator",
    "get_work",
    "handles_of",
    "ids_by_handle",
    "list_creators",
    "list_verticals",
    "list_works",
    "load_rules",
    "parse_rules",
    "record_assessment",
    "rules_path",
    "standing_of",
    "tier_counts",
    "vertical_ids",
    "works_published",
    "works_with_ids",
]
