"""Institution levels (S / A / B / C): the validated rule table, each institution's metrics
from its contracted creators, and the level and the shortfalls to the next one.

Metrics of an institution over a window (its creators are those contracted at the window's
end; retention looks at those contracted at its start):

=================  =======================================================================
active_creators    creators who published at least one work in the window
follower_growth    net new followers / followers at the window's start
quality            mean quality score (0..100)
originality        1 - duplicate works / works published (duplicates count against)
earnings_fen       the creators' settled income (fen)
retention          creators contracted at the start and still at the end / those at the start
=================  =======================================================================

:func:`institution_metrics` aggregates one row per (institution, creator) in DuckDB (one
vectorised pass, O(rows)); :func:`assign_levels` compares every institution with every level
at once in NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Final, Literal

import duckdb
import numpy as np
import pyarrow as pa
from pydantic import ConfigDict, Field, TypeAdapter

from guanghe.errors import InvalidInput
from guanghe.toml_models import parse_toml_model, read_toml_file, where

DEFAULT_LEVELS: Final = Path(__file__).with_name("levels.toml")
#: The metrics levels are judged on, in the order they are shown.
METRICS: Final = (
    "active_creators",
    "follower_growth",
    "quality",
    "originality",
    "earnings_fen",
    "retention",
)
#: Columns of the per-creator facts :func:`institution_metrics` reads.
FACT_COLUMNS: Final = (
    "institution_id",
    "creator_id",
    "contracted_at_start",
    "contracted_at_end",
    "works",
    "duplicates",
    "net_follows",
    "followers",
    "quality",
    "earnings_fen",
)
_FORBID: Final = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class Level:
    """A level and its minimums (None: no minimum)."""

    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    name: Literal["S", "A", "B", "C"]
    min_active_creators: int | None = Field(default=None, ge=0)
    min_follower_growth: float | None = Field(default=None, ge=-1)
    min_quality: float | None = Field(default=None, ge=0, le=100)
    min_originality: float | None = Field(default=None, ge=0, le=1)
    min_earnings_fen: int | None = Field(default=None, ge=0)
    min_retention: float | None = Field(default=None, ge=0, le=1)

    def minimums(self) -> dict[str, float]:
        """Metric -> minimum, for the minimums this level sets."""
        found = {m: getattr(self, f"min_{m}") for m in METRICS}
        return {m: float(v) for m, v in found.items() if v is not None}


@dataclass(frozen=True, slots=True)
class LevelRules:
    """The levels, lowest (the floor) first."""

    __pydantic_config__: ClassVar[ConfigDict] = _FORBID
    version: Literal[1]
    levels: tuple[Level, ...] = Field(min_length=1)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(level.name for level in self.levels)


@dataclass(frozen=True, slots=True)
class Shortfall:
    """A metric that keeps an institution from the next level."""

    metric: str
    required: float
    current: float


@dataclass(frozen=True, slots=True)
class LevelAssessment:
    """An institution's metrics, level, and what it lacks for the next level (None at the
    top)."""

    institution_id: int
    metrics: dict[str, float]
    level: str
    next_level: str | None
    shortfalls: tuple[Shortfall, ...]


_ADAPTER: Final = TypeAdapter(LevelRules)


def load_level_rules(path: Path | None = None) -> LevelRules:
    """Read and validate the level table at ``path`` (the packaged default if None)."""
    path = path or DEFAULT_LEVELS
    return parse_level_rules(read_toml_file(path, "levels"), str(path))


def level_rules_path(data_dir: Path) -> Path:
    """``<data_dir>/levels.toml`` if the deployment has one, else the packaged default."""
    local = data_dir / "levels.toml"
    return local if local.exists() else DEFAULT_LEVELS


def parse_level_rules(text: str, source: str = "<levels>") -> LevelRules:
    """Validate a level table: each of S, A, B, C once, lowest first, the first without
    minimums, and no level asking less than the one below it."""
    rules = parse_toml_model(text, source, _ADAPTER)
    names = rules.names
    for i, name in enumerate(names):
        if names.index(name) != i:
            raise InvalidInput(f"{where(text, source, ('levels', i, 'name'))}: {name} twice")
    if rules.levels[0].minimums():
        raise InvalidInput(
            f"{where(text, source, ('levels', 0, 'name'))}: the first level is the floor and "
            "takes no minimums"
        )
    for i in range(1, len(rules.levels)):
        below, level = rules.levels[i - 1].minimums(), rules.levels[i].minimums()
        for metric, value in below.items():
            if level.get(metric, -np.inf) < value:
                raise InvalidInput(
                    f"{where(text, source, ('levels', i, f'min_{metric}'))}: level "
                    f"{rules.levels[i].name} must ask at least level {names[i - 1]}'s {value:g}"
                )
    return rules


def institution_metrics(facts: pa.Table) -> pa.Table:
    """One row per institution with :data:`METRICS`, from per-(institution, creator) facts
    with :data:`FACT_COLUMNS` (booleans for ``contracted_*``). The one float sum (quality) is
    taken in creator order: DuckDB's parallel aggregation would otherwise add in a different
    order each run, and a level could flip on the last bit."""
    missing = [c for c in FACT_COLUMNS if c not in facts.column_names]
    if missing:
        raise InvalidInput(f"level facts lack column {missing[0]!r}")
    con = duckdb.connect()
    try:
        con.register("facts", facts)
        return con.sql(
            """
            SELECT institution_id,
                count(*) FILTER (WHERE contracted_at_end AND works > 0) AS active_creators,
                coalesce(sum(net_follows) FILTER (WHERE contracted_at_end), 0)
                    / greatest(coalesce(sum(followers - net_follows)
                        FILTER (WHERE contracted_at_end), 0), 1) AS follower_growth,
                coalesce(avg(quality ORDER BY creator_id) FILTER (WHERE contracted_at_end), 0)
                    AS quality,
                1 - coalesce(sum(duplicates) FILTER (WHERE contracted_at_end), 0)
                    / greatest(coalesce(sum(works) FILTER (WHERE contracted_at_end), 0), 1)
                    AS originality,
                coalesce(sum(earnings_fen) FILTER (WHERE contracted_at_end), 0)::DOUBLE
                    AS earnings_fen,
                CASE WHEN count(*) FILTER (WHERE contracted_at_start) = 0 THEN 1.0
                    ELSE (count(*) FILTER (WHERE contracted_at_start AND contracted_at_end))
                        / (count(*) FILTER (WHERE contracted_at_start)) END AS retention
            FROM facts GROUP BY institution_id ORDER BY institution_id
            """
        ).to_arrow_table()
    finally:
        con.close()


def assign_levels(rules: LevelRules, metrics: pa.Table) -> list[LevelAssessment]:
    """Each institution's level (the best whose every minimum it meets) and its shortfalls
    against the next level up."""
    values = (
        np.column_stack(
            [metrics[m].to_numpy(zero_copy_only=False).astype(np.float64) for m in METRICS]
        )
        if metrics.num_rows
        else np.zeros((0, len(METRICS)))
    )
    minimums = np.array(
        [[level.minimums().get(m, -np.inf) for m in METRICS] for level in rules.levels]
    )
    meets = (values[:, None, :] >= minimums[None, :, :]).all(axis=2)  # (institutions, levels)
    # levels are ordered, so the best met is the last True of a prefix run from the floor
    held = np.cumprod(meets, axis=1).sum(axis=1) - 1
    ids = metrics["institution_id"].to_pylist()
    found = []
    for row, (institution_id, level) in enumerate(zip(ids, held.tolist(), strict=True)):
        nxt = rules.levels[level + 1] if level + 1 < len(rules.levels) else None
        shortfalls = tuple(
            Shortfall(m, v, float(values[row, METRICS.index(m)]))
            for m, v in (nxt.minimums().items() if nxt else ())
            if values[row, METRICS.index(m)] < v
        )
        found.append(
            LevelAssessment(
                int(institution_id),
                {m: float(values[row, k]) for k, m in enumerate(METRICS)},
                rules.levels[level].name,
                nxt.name if nxt else None,
                shortfalls,
            )
        )
    return found
