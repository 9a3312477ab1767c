"""A creator's growth view: stage, quality, tier, the rights held, what the next tier needs
(with progress), teaching resources for the stage, and tier history; and, for operators, how
many creators hold each tier."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.creators.assess import requirement_values
from guanghe.creators.catalog import get_creator
from guanghe.creators.rules import QUALITY_SIGNALS, CreatorRules, TeachingResource, Tier
from guanghe.errors import Forbidden, NotFound
from guanghe.institutions.torch import is_influential_author
from guanghe.snapshots import latest_date, read_snapshot
from guanghe.store import CreatorTierHistory

GROWTH_SNAPSHOT: Final = "creator_growth"
HISTORY_LIMIT: Final = 50


@dataclass(frozen=True, slots=True)
class RightView:
    """A right; ``status`` is ``"coming"`` while the capability it gates has not landed."""

    name: str
    title: str
    description: str
    status: str


@dataclass(frozen=True, slots=True)
class RequirementProgress:
    """One requirement of the next tier: the creator's value against the threshold;
    ``progress`` is ``current / required`` capped to ``[0, 1]``."""

    name: str
    required: float
    current: float
    met: bool
    progress: float


@dataclass(frozen=True, slots=True)
class NextTier:
    name: str
    requirements: tuple[RequirementProgress, ...]
    missing: tuple[str, ...]
    rights_unlocked: tuple[RightView, ...]


@dataclass(frozen=True, slots=True)
class TierChange:
    since: dt.date
    tier: str
    stage: str
    quality: float


@dataclass(frozen=True, slots=True)
class GrowthView:
    """Where a creator stands, as of the newest ``creator_growth`` snapshot."""

    creator_id: int
    as_of: dt.date
    stage: str
    quality: float
    in_pool: bool
    tier: str
    rights: tuple[RightView, ...]
    coming_rights: tuple[RightView, ...]
    next_tier: NextTier | None
    teaching: tuple[TeachingResource, ...]
    history: tuple[TierChange, ...]
    badges: tuple[str, ...] = ()  # e.g. ``influential_author`` (the Torch programme)
    #: Each quality signal's rank within the creator's vertical (0..1, higher is better).
    signal_ranks: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TierCount:
    tier: str
    creators: int


@dataclass(frozen=True, slots=True)
class TierCounts:
    """Creators per tier, lowest tier first (every tier of the rules, zeros included), as of
    the newest ``creator_growth`` snapshot; ``as_of`` is ``None`` before the first one."""

    as_of: dt.date | None
    tiers: tuple[TierCount, ...]


def tier_counts(principal: Principal, *, snapshots: Path, rules: CreatorRules) -> TierCounts:
    """How many creators hold each tier; operators only (:class:`Forbidden` otherwise)."""
    if principal.role != "operator":
        raise Forbidden(f"the {principal.role} role cannot see creators by tier")
    as_of = latest_date(snapshots, GROWTH_SNAPSHOT)
    held: dict[str, int] = {}
    if as_of is not None:
        for tier in read_snapshot(snapshots, GROWTH_SNAPSHOT, as_of)["tier"].to_pylist():
            held[tier] = held.get(tier, 0) + 1
    names = [t.name for t in rules.tiers]
    names += sorted(t for t in held if t not in names)  # tiers of earlier rules, if changed
    return TierCounts(as_of=as_of, tiers=tuple(TierCount(n, held.get(n, 0)) for n in names))


def creator_growth(
    session: Session,
    principal: Principal,
    creator_id: int,
    *,
    snapshots: Path,
    rules: CreatorRules,
) -> GrowthView:
    """The growth view of ``creator_id`` for ``principal`` (a creator sees only itself).

    Raises :class:`NotFound` for an unknown creator or one not assessed yet, and
    :class:`~guanghe.errors.Forbidden` for a creator the caller may not see.
    """
    get_creator(session, principal, creator_id)
    as_of = latest_date(snapshots, GROWTH_SNAPSHOT)
    if as_of is None:
        raise NotFound("no growth assessment yet; run `guanghe cycle --date D` first")
    rows = read_snapshot(snapshots, GROWTH_SNAPSHOT, as_of, creator_id=creator_id).to_pylist()
    if not rows:
        raise NotFound(f"creator {creator_id} was not assessed on {as_of.isoformat()}")
    row = rows[0]
    tier_names = [t.name for t in rules.tiers]
    position = tier_names.index(row["tier"]) if row["tier"] in tier_names else 0
    upcoming = rules.tiers[position + 1] if position + 1 < len(rules.tiers) else None
    held = _held(rules, row)
    return GrowthView(
        creator_id=creator_id,
        as_of=as_of,
        stage=row["stage"],
        quality=row["quality"],
        in_pool=row["in_pool"],
        tier=row["tier"],
        rights=_rights(rules, held, "active"),
        coming_rights=_rights(rules, held, "coming"),
        next_tier=None if upcoming is None else _next_tier(rules, upcoming, row),
        teaching=tuple(t for t in rules.teaching if t.stage == row["stage"]),
        history=_history(session, creator_id),
        badges=("influential_author",) if is_influential_author(session, creator_id, as_of) else (),
        signal_ranks={s: float(row[f"rank_{s}"]) for s in QUALITY_SIGNALS if f"rank_{s}" in row},
    )


def _held(rules: CreatorRules, row: dict[str, Any]) -> tuple[str, ...]:
    """The rights of the row's tier, then those granted by their own rule."""
    tiers = {t.name for t in rules.tiers}
    held = list(rules.rights_of(row["tier"]) if row["tier"] in tiers else ())
    values = {"min_followers": row["follower_count"], "min_quality": row["quality"]}
    for name, right in rules.rights.items():
        own = right.requirements()
        if name not in held and own and all(values[k] >= v for k, v in own.items()):
            held.append(name)
    return tuple(held)


def _rights(
    rules: CreatorRules, names: tuple[str, ...], status: str | None = None
) -> tuple[RightView, ...]:
    return tuple(
        RightView(name, right.title, right.description, right.status)
        for name in names
        if (right := rules.rights.get(name)) is not None and status in (None, right.status)
    )


def _next_tier(rules: CreatorRules, tier: Tier, row: dict[str, object]) -> NextTier:
    values = {key: np.array([value]) for key, value in row.items()}
    current = requirement_values(values)
    progress = []
    for name, required in tier.requirements().items():
        value = float(current[name][0])
        share = 1.0 if required <= 0 else min(1.0, max(0.0, value / required))
        progress.append(RequirementProgress(name, required, value, value >= required, share))
    if tier.stages is not None:
        ok = row["stage"] in tier.stages
        name = "stage in " + "/".join(tier.stages)
        progress.append(RequirementProgress(name, 1.0, float(ok), ok, float(ok)))
    own = tuple(r for r in tier.rights if r not in rules.rights_of(rules.tiers[0].name))
    return NextTier(
        name=tier.name,
        requirements=tuple(progress),
        missing=tuple(p.name for p in progress if not p.met),
        rights_unlocked=_rights(rules, own),
    )


def _history(session: Session, creator_id: int) -> tuple[TierChange, ...]:
    rows = session.execute(
        select(
            CreatorTierHistory.since,
            CreatorTierHistory.tier,
            CreatorTierHistory.stage,
            CreatorTierHistory.quality,
        )
        .where(CreatorTierHistory.creator_id == creator_id)
        .order_by(CreatorTierHistory.since.desc())
        .limit(HISTORY_LIMIT)
    )
    return tuple(TierChange(*row) for row in rows)
