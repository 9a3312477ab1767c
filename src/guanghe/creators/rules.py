"""The creator rules file: stages, quality, the high-quality pool, tiers, rights, teaching.

A TOML file (``rules.toml`` beside this module is the default; ``<data_dir>/rules.toml``
overrides it), validated at load: any problem is an :class:`~guanghe.errors.InvalidInput`
naming the file, the line and the field. Format: ``docs/features.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Final, Literal

from pydantic import ConfigDict, Field, TypeAdapter

from guanghe.errors import InvalidInput
from guanghe.toml_models import parse_toml_model, read_toml_file, where
from guanghe.vocabulary import STAGES

DEFAULT_RULES: Final = Path(__file__).with_name("rules.toml")
QUALITY_SIGNALS: Final = (
    "engagement_rate",
    "follow_rate",
    "play_rate",
    "consistency",
    "retention",
)
TIER_REQUIREMENTS: Final = (
    "min_followers",
    "min_quality",
    "min_works_28d",
    "min_active_days_28d",
    "min_continuous_months",
)

Stage = Literal["novice", "growing", "mature"]
_FORBID: Final = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class StageThresholds:
    """What a creator needs, all at once, to be in a stage."""

    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    min_tenure_days: int = Field(default=0, ge=0)
    min_followers: int = Field(default=0, ge=0)
    min_works_90d: int = Field(default=0, ge=0)


@dataclass(frozen=True, slots=True)
class StageRules:
    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    growing: StageThresholds
    mature: StageThresholds


@dataclass(frozen=True, slots=True)
class QualityWeights:
    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    engagement_rate: float = Field(default=0.0, ge=0)
    follow_rate: float = Field(default=0.0, ge=0)
    play_rate: float = Field(default=0.0, ge=0)
    consistency: float = Field(default=0.0, ge=0)
    retention: float = Field(default=0.0, ge=0)


@dataclass(frozen=True, slots=True)
class QualityRules:
    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    weights: QualityWeights
    window_days: Literal[7, 28, 90] = 28
    #: Creators with less than ``prior_weight`` of a signal's denominator in ``window_days``
    #: are read over this longer window.
    long_window_days: Literal[7, 28, 90] = 90
    prior_weight: float = Field(default=500.0, ge=0)


@dataclass(frozen=True, slots=True)
class PoolRules:
    """Which creators form the high-quality creator pool."""

    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    min_quality: float = Field(default=70.0, ge=0, le=100)
    stages: tuple[Stage, ...] = ("growing", "mature")
    min_works: int = Field(default=1, ge=0)


#: Requirements a right's own rule may set: what the store knows of a creator at any time.
RIGHT_REQUIREMENTS: Final = ("min_followers", "min_quality")


@dataclass(frozen=True, slots=True)
class Right:
    """A growth right. Held through a tier that lists it, or through its own rule: a creator
    meeting every requirement set here holds it whatever their tier (no requirement: tiers
    only). ``status = "coming"``: the capability it gates has not landed; it is shown as
    coming and enforced where that capability lands."""

    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    title: str = Field(min_length=1)
    description: str = ""
    status: Literal["active", "coming"] = "active"
    min_followers: int | None = Field(default=None, ge=0)
    min_quality: float | None = Field(default=None, ge=0, le=100)

    def requirements(self) -> dict[str, float]:
        """The numeric requirements of the right's own rule (empty: granted by tiers only)."""
        found = {name: getattr(self, name) for name in RIGHT_REQUIREMENTS}
        return {name: float(value) for name, value in found.items() if value is not None}


@dataclass(frozen=True, slots=True)
class Tier:
    """A growth-rights tier: requirements (None: none) and the rights it adds."""

    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    name: str = Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_-]*$")
    rights: tuple[str, ...] = ()
    min_followers: int | None = Field(default=None, ge=0)
    min_quality: float | None = Field(default=None, ge=0, le=100)
    min_works_28d: int | None = Field(default=None, ge=0)
    min_active_days_28d: int | None = Field(default=None, ge=0, le=28)
    min_continuous_months: int | None = Field(default=None, ge=0, le=12)
    stages: tuple[Stage, ...] | None = None

    def requirements(self) -> dict[str, float]:
        """The numeric requirements this tier sets."""
        found = {name: getattr(self, name) for name in TIER_REQUIREMENTS}
        return {name: float(value) for name, value in found.items() if value is not None}


@dataclass(frozen=True, slots=True)
class TeachingResource:
    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    stage: Stage
    title: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://")


@dataclass(frozen=True, slots=True)
class CreatorRules:
    """The whole rules file, validated."""

    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    version: Literal[1]
    stages: StageRules
    quality: QualityRules
    pool: PoolRules
    tiers: tuple[Tier, ...] = Field(min_length=1)
    rights: dict[str, Right] = field(default_factory=dict)
    teaching: tuple[TeachingResource, ...] = ()

    def rights_of(self, tier: str) -> tuple[str, ...]:
        """Every right ``tier`` holds: its own and those of the tiers below, in order."""
        held: list[str] = []
        for t in self.tiers:
            held.extend(r for r in t.rights if r not in held)
            if t.name == tier:
                return tuple(held)
        raise KeyError(tier)


_ADAPTER: Final = TypeAdapter(CreatorRules)


def load_rules(path: Path | None = None) -> CreatorRules:
    """Read and validate the rules file at ``path`` (the packaged default if None)."""
    path = path or DEFAULT_RULES
    return parse_rules(read_toml_file(path, "rules"), str(path))


def parse_rules(text: str, source: str = "<rules>") -> CreatorRules:
    """Validate the TOML ``text`` of a rules file; ``source`` names it in errors."""
    rules = parse_toml_model(text, source, _ADAPTER)
    _check_consistency(rules, text, source)
    return rules


def _check_consistency(rules: CreatorRules, text: str, source: str) -> None:
    def fail(loc: tuple[str | int, ...], message: str) -> None:
        raise InvalidInput(f"{where(text, source, loc)}: {message}")

    if sum(getattr(rules.quality.weights, s) for s in QUALITY_SIGNALS) <= 0:
        fail(("quality", "weights"), "at least one weight must be positive")
    names = [t.name for t in rules.tiers]
    for i, tier in enumerate(rules.tiers):
        if names.index(tier.name) != i:
            fail(("tiers", i, "name"), f"tier {tier.name!r} is defined twice")
        for right in tier.rights:
            if right not in rules.rights:
                fail(("tiers", i, "rights"), f"unknown right {right!r}; define [rights.{right}]")
    first = rules.tiers[0]
    if first.requirements() or first.stages is not None:
        fail(("tiers", 0, "name"), "the first tier is the floor and takes no requirements")
    if set(STAGES) != {"novice", "growing", "mature"}:  # pragma: no cover - vocabulary guard
        fail(("stages",), "the stage vocabulary changed; update the rules model")


def rules_path(data_dir: Path) -> Path:
    """``<data_dir>/rules.toml`` if the deployment has one, else the packaged default."""
    local = data_dir / "rules.toml"
    return local if local.exists() else DEFAULT_RULES
