"""Shapes of the shared test data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeedPlatform:
    creator_ids: list[int]
    institution_ids: list[int]
    work_ids: list[int]
