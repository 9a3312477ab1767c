"""Creators, works and verticals; later: lifecycle stage, quality score, the high-quality pool
and growth-rights tiers.
"""

from guanghe.creators.catalog import (
    CreatorFilter,
    CreatorView,
    Page,
    WorkFilter,
    WorkView,
    creator_scope,
    get_creator,
    get_work,
    list_creators,
    list_works,
)
from guanghe.creators.referents import StoreReferents
from guanghe.creators.verticals import VerticalView, list_verticals

__all__ = [
    "CreatorFilter",
    "CreatorView",
    "Page",
    "StoreReferents",
    "VerticalView",
    "WorkFilter",
    "WorkView",
    "creator_scope",
    "get_creator",
    "get_work",
    "list_creators",
    "list_verticals",
    "list_works",
]
