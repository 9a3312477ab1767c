"""The traffic-support programmes file: planning period, pools, eligibility and limits.

A TOML file (``programs.toml`` beside this module is the default; ``<data_dir>/traffic.toml``
overrides it), validated at load: any problem is an :class:`~guanghe.errors.InvalidInput`
naming the file and the field. Format: ``docs/traffic.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, ClassVar, Final, Literal

from pydantic import ConfigDict, Field, TypeAdapter

from guanghe.errors import InvalidInput
from guanghe.toml_models import parse_toml_model, read_toml_file

DEFAULT_PROGRAMS: Final = Path(__file__).with_name("programs.toml")
_FORBID: Final = ConfigDict(extra="forbid")

Rule = Literal["novice", "high_quality", "institution", "everyone"]


@dataclass(frozen=True, slots=True)
class PeriodRules:
    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    days: Annotated[int, Field(ge=1, le=366)]
    daily_impressions_per_creator: Annotated[int, Field(ge=0)]
    max_vertical_share: Annotated[float, Field(gt=0, le=1)]
    #: Share of every pool's budget spent exploring (:mod:`guanghe.traffic.exploration`).
    exploration_share: Annotated[float, Field(ge=0, lt=1)] = 0.05


@dataclass(frozen=True, slots=True)
class Pool:
    """One pool of the programme: who is in it and what each member may get per day."""

    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    title: str
    rule: Rule
    share: Annotated[float, Field(ge=0, le=1)]
    weight: Annotated[float, Field(gt=0)]
    min_daily_impressions: Annotated[int, Field(ge=0)]
    max_daily_impressions: Annotated[int, Field(gt=0)]


@dataclass(frozen=True, slots=True)
class Programs:
    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    period: PeriodRules
    pools: Annotated[tuple[Pool, ...], Field(min_length=1)]

    def pool(self, name: str) -> Pool:
        """The pool called ``name``."""
        for pool in self.pools:
            if pool.name == name:
                return pool
        raise InvalidInput(f"unknown traffic pool {name!r}; expected one of {self.pool_names}")

    @property
    def pool_names(self) -> tuple[str, ...]:
        return tuple(pool.name for pool in self.pools)


_ADAPTER: Final = TypeAdapter(Programs)


def programs_path(data_dir: Path) -> Path:
    """``<data_dir>/traffic.toml`` if the deployment has one, else the packaged default."""
    local = data_dir / "traffic.toml"
    return local if local.exists() else DEFAULT_PROGRAMS


def load_programs(path: Path) -> Programs:
    """Read and validate the programmes file at ``path``."""
    return parse_programs(read_toml_file(path, "traffic programmes"), str(path))


def parse_programs(text: str, source: str = "<programs>") -> Programs:
    """Validate the TOML ``text`` of a programmes file; ``source`` names it in errors."""
    programs = parse_toml_model(text, source, _ADAPTER)
    names = programs.pool_names
    for i, pool in enumerate(programs.pools):
        if names.index(pool.name) != i:
            raise InvalidInput(f"{source}: pools.{i}.name: pool {pool.name!r} is defined twice")
        if pool.min_daily_impressions > pool.max_daily_impressions:
            raise InvalidInput(
                f"{source}: pools.{i}: min_daily_impressions exceeds max_daily_impressions"
            )
    if programs.pools[-1].rule != "everyone":
        raise InvalidInput(f"{source}: pools: the last pool must have rule 'everyone'")
    return programs
