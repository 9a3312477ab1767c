"""Shared vocabulary of the domain, importable without loading any engine."""

from __future__ import annotations

from typing import Final

#: Who may call Guanghe; each user has exactly one.
ROLES: Final = (
    "operator",
    "creator",
    "institution",
    "advertiser",
    "merchant",
    "ranker",
    "agent",
)

#: Lifecycle stages of a creator.
STAGES: Final = ("novice", "growing", "mature")
