"""Whether a creator holds a growth right now: through their current tier (the newest tier
history row) or through the right's own rule (judged on the store's follower count and the
newest assessed quality). A refusal names every requirement the creator does not meet."""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.creators.rules import CreatorRules
from guanghe.errors import Forbidden, NotFound
from guanghe.store import Creator, CreatorTierHistory

REQUIREMENT_WORDS: Final = {
    "min_followers": "at least {:,.0f} followers",
    "min_quality": "a quality score of at least {:g}",
    "min_works_28d": "at least {:.0f} works in the last 28 days",
    "min_active_days_28d": "publishing on at least {:.0f} of the last 28 days",
    "min_continuous_months": "publishing every month for {:.0f} months",
}
_HAS: Final = {"min_followers": "has {:,.0f}", "min_quality": "has {:g}"}


def check_right(session: Session, creator_id: int, right: str, rules: CreatorRules) -> str:
    """How ``creator_id`` holds ``right`` (``"the 'star' tier"`` or ``"its own rule"``);
    :class:`Forbidden` naming every unmet requirement of each way to hold it otherwise."""
    creator = session.get(Creator, creator_id)
    if creator is None:
        raise NotFound(f"creator {creator_id} does not exist")
    latest = session.execute(
        select(CreatorTierHistory.tier, CreatorTierHistory.quality)
        .where(CreatorTierHistory.creator_id == creator_id)
        .order_by(CreatorTierHistory.since.desc())
        .limit(1)
    ).one_or_none()
    tier = latest.tier if latest else rules.tiers[0].name
    known = {"min_followers": float(creator.follower_count)}
    if latest is not None:
        known["min_quality"] = float(latest.quality)
    definition = rules.rights.get(right)
    if definition is None:
        raise Forbidden(f"the right {right!r} is not defined in the creator rules")
    held = rules.rights_of(tier) if tier in {t.name for t in rules.tiers} else ()
    if right in held:
        return f"the {tier!r} tier"
    own = definition.requirements()
    if own and not _unmet(own, known):
        return "its own rule"
    ways = []
    granting = next((t for t in rules.tiers if right in rules.rights_of(t.name)), None)
    if granting is not None:
        unmet = _unmet(granting.requirements(), known)
        if granting.stages:
            unmet.append("stage " + " or ".join(granting.stages))
        ways.append(f"the {granting.name!r} tier ({'; '.join(unmet)})")
    if own:
        ways.append(f"its own rule ({'; '.join(_unmet(own, known))})")
    needs = " or ".join(ways) or "a tier or rule that grants it (none does)"
    raise Forbidden(
        f"{definition.title} needs {needs}; creator {creator_id} is in the {tier!r} tier"
    )


def _unmet(requirements: dict[str, float], known: dict[str, float]) -> list[str]:
    """Each requirement not known to be met, in words, with the creator's value if known."""
    out = []
    for name, need in requirements.items():
        have = known.get(name)
        if have is not None and have >= need:
            continue
        words = REQUIREMENT_WORDS[name].format(need)
        out.append(words if have is None else f"{words}, {_HAS[name].format(have)}")
    return out
