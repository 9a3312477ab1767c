"""The incentive programmes file: who is eligible, what they must do, how each creator's target
is set from their own baseline, what completing pays, and the budget that pays it.

A TOML file (``incentives.toml`` beside this module is the default; ``<data_dir>/incentives.toml``
overrides it), validated at load by the one TOML loader: any problem is an
:class:`~guanghe.errors.InvalidInput` naming the file, the line and the field. Operators also
put programmes through the API (``PUT /v1/incentives/programs/{name}``), validated by the same
model. Format: ``docs/incentives.md``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Final

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from guanghe.creators.rules import Stage
from guanghe.errors import InvalidInput
from guanghe.toml_models import parse_toml_model, read_toml_file
from guanghe.vocabulary import STAGES

DEFAULT_PROGRAMMES: Final = Path(__file__).with_name("incentives.toml")
NAME_PATTERN: Final = r"^[a-z][a-z0-9_]{0,39}$"
#: The days before a window whose plays are a creator's baseline.
BASELINE_DAYS: Final = 28
_FORBID: Final = ConfigDict(extra="forbid")
MAX_FEN: Final = 10**15


@dataclass(frozen=True, slots=True)
class Eligibility:
    """Who may join: creators of ``stages`` in ``verticals`` (slugs; none: every vertical),
    only those in the high-quality pool if ``quality_pool``; with ``new_creator_channel``,
    novices who joined at most ``new_creator_days`` ago also qualify without the pool."""

    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    stages: Annotated[tuple[Stage, ...], Field(min_length=1)] = STAGES
    verticals: tuple[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")], ...] = ()
    quality_pool: bool = False
    new_creator_channel: bool = False
    new_creator_days: Annotated[int, Field(ge=1, le=3650)] = 90


@dataclass(frozen=True, slots=True)
class StageTarget:
    """A stage's plays target: the creator's baseline raised by ``uplift`` (0.3: 30 % more),
    never under ``min_plays`` nor over ``max_plays``."""

    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    uplift: Annotated[float, Field(ge=0, le=10)]
    min_plays: Annotated[int, Field(ge=1, le=10**12)]
    max_plays: Annotated[int, Field(ge=1, le=10**12)]


@dataclass(frozen=True, slots=True)
class Rules:
    """Within a window: publish ``original_works`` works in the vertical that are not judged
    duplicates, and reach the personal plays target (``targets`` per eligible stage)."""

    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    original_works: Annotated[int, Field(ge=0, le=1000)]
    targets: dict[Stage, StageTarget]


@dataclass(frozen=True, slots=True)
class Amounts:
    """Cash in fen and traffic in impressions."""

    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    cash_fen: Annotated[int, Field(ge=0, le=MAX_FEN)] = 0
    impressions: Annotated[int, Field(ge=0, le=MAX_FEN)] = 0


@dataclass(frozen=True, slots=True)
class Programme:
    """One incentive programme, run in consecutive windows of ``window_days`` from
    ``starts_on`` to ``ends_on``; ``reward`` per completed window, paid from ``budget`` (the
    programme's whole budget, never exceeded). A traffic reward is the creator's floor in the
    next traffic period."""

    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    name: Annotated[str, Field(pattern=NAME_PATTERN)]
    title: Annotated[str, Field(min_length=1, max_length=120)]
    starts_on: dt.date
    ends_on: dt.date
    window_days: Annotated[int, Field(ge=1, le=366)]
    eligibility: Eligibility
    rules: Rules
    reward: Amounts
    budget: Amounts
    description: Annotated[str, Field(max_length=2000)] = ""

    def window_of(self, day: dt.date) -> tuple[dt.date, dt.date] | None:
        """The window (first and last day) covering ``day``, or ``None`` outside the
        programme."""
        if not self.starts_on <= day <= self.ends_on:
            return None
        index = (day - self.starts_on).days // self.window_days
        first = self.starts_on + dt.timedelta(days=index * self.window_days)
        return first, min(first + dt.timedelta(days=self.window_days - 1), self.ends_on)


@dataclass(frozen=True, slots=True)
class ProgrammesFile:
    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    programs: tuple[Programme, ...] = field(default=())


_FILE: Final = TypeAdapter(ProgrammesFile)
_ONE: Final = TypeAdapter(Programme)


def programmes_path(data_dir: Path) -> Path:
    """``<data_dir>/incentives.toml`` if the deployment has one, else the packaged default."""
    local = data_dir / "incentives.toml"
    return local if local.exists() else DEFAULT_PROGRAMMES


def load_programmes(path: Path) -> tuple[Programme, ...]:
    """Read and validate the programmes file at ``path``."""
    return parse_programmes(read_toml_file(path, "incentive programmes"), str(path))


def parse_programmes(text: str, source: str = "<incentives>") -> tuple[Programme, ...]:
    """Validate the TOML ``text`` of a programmes file; ``source`` names it in errors."""
    programmes = parse_toml_model(text, source, _FILE).programs
    names = [p.name for p in programmes]
    for i, programme in enumerate(programmes):
        if names.index(programme.name) != i:
            raise InvalidInput(f"{source}: programs.{i}.name: {programme.name!r} is defined twice")
        problem = consistency_problem(programme)
        if problem:
            raise InvalidInput(f"{source}: programs.{i}.{problem}")
    return programmes


def programme_from_json(data: dict[str, Any], source: str) -> Programme:
    """A programme from JSON-like ``data`` (an API body or a stored row), validated as the
    file's entries are; :class:`InvalidInput` naming the field otherwise."""
    try:
        programme = _ONE.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise InvalidInput(f"{source}: {loc}: {first['msg']}") from exc
    problem = consistency_problem(programme)
    if problem:
        raise InvalidInput(f"{source}: {problem}")
    return programme


def programme_json(programme: Programme) -> dict[str, Any]:
    """``programme`` as JSON-ready data (what :func:`programme_from_json` reads back)."""
    data: dict[str, Any] = _ONE.dump_python(programme, mode="json")
    return data


def consistency_problem(programme: Programme) -> str | None:
    """What is inconsistent across a programme's fields (``field: why``), or ``None``."""
    if programme.ends_on < programme.starts_on:
        return "ends_on: before starts_on"
    if programme.reward.cash_fen == 0 and programme.reward.impressions == 0:
        return "reward: pays neither cash_fen nor impressions"
    stages = set(programme.eligibility.stages)
    if programme.eligibility.new_creator_channel:
        stages.add("novice")
    missing = sorted(stages - set(programme.rules.targets), key=STAGES.index)
    if missing:
        return f"rules.targets: no target for eligible stages {missing}"
    for stage, target in programme.rules.targets.items():
        if target.min_plays > target.max_plays:
            return f"rules.targets.{stage}: min_plays exceeds max_plays"
    return None
