"""Institution levels: the rule table is validated, metrics come from the creators' facts,
and each institution is told which metrics keep it from the next level."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from guanghe.errors import InvalidInput
from guanghe.institutions.levels import (
    assign_levels,
    institution_metrics,
    load_level_rules,
    parse_level_rules,
)


def facts(rows: list[tuple[int, int, bool, bool, int, int, int, int, float, int]]) -> pa.Table:
    names = [
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
    ]
    return pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in rows])


def test_metrics_and_levels_with_shortfalls() -> None:
    strong = [(1, c, True, True, 4, 0, 300, 10_000, 70.0, 50_000) for c in range(40)]
    weak = [
        (2, 100, True, True, 5, 3, 10, 1_000, 50.0, 2_000),  # duplicates count against
        (2, 101, True, False, 1, 0, 0, 500, 40.0, 0),  # left: not counted, hurts retention
        (2, 102, False, True, 0, 0, 0, 100, 20.0, 0),
    ]
    metrics = institution_metrics(facts(strong + weak))
    rules = load_level_rules()
    by_id = {a.institution_id: a for a in assign_levels(rules, metrics)}
    top, low = by_id[1], by_id[2]
    assert top.level == "S"
    assert top.next_level is None
    assert top.shortfalls == ()
    assert low.metrics["active_creators"] == 1
    assert low.metrics["originality"] == pytest.approx(1 - 3 / 5)
    assert low.metrics["retention"] == pytest.approx(1 / 2)
    assert low.metrics["follower_growth"] == pytest.approx(10 / (1_100 - 10))
    assert low.level == "C"
    assert low.next_level == "B"
    assert {s.metric for s in low.shortfalls} == {
        "active_creators",
        "originality",
        "retention",
        "earnings_fen",
    }


def test_metrics_do_not_depend_on_the_facts_order() -> None:
    """Enough rows for DuckDB to aggregate on several threads: the same facts in another
    order give the same floats, bit for bit."""
    rng = np.random.default_rng(3)
    n = 1_000_000
    columns = {
        "institution_id": rng.integers(1, 21, n),
        "creator_id": np.arange(1, n + 1),
        "contracted_at_start": rng.random(n) < 0.9,
        "contracted_at_end": rng.random(n) < 0.9,
        "works": rng.integers(0, 30, n),
        "duplicates": rng.integers(0, 3, n),
        "net_follows": rng.integers(-50, 500, n),
        "followers": rng.integers(1_000, 100_000, n),
        "quality": rng.random(n) * 100,
        "earnings_fen": rng.integers(0, 100_000, n),
    }
    runs = []
    for seed in range(4):
        order = np.random.default_rng(seed).permutation(n)
        table = pa.table({name: values[order] for name, values in columns.items()})
        runs.append(institution_metrics(table))
    for run in runs[1:]:
        assert run.equals(runs[0])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('version = 1\n[[levels]]\nname = "C"\nmin_quality = 1\n', "floor"),
        ('version = 1\n[[levels]]\nname = "X"\n', "levels.0.name"),
        (
            'version = 1\n[[levels]]\nname = "C"\n[[levels]]\nname = "B"\nmin_quality = 50\n'
            '[[levels]]\nname = "A"\nmin_quality = 40\n',
            "line 9: levels.2.min_quality",
        ),
        ('version = 1\n[[levels]]\nname = "C"\n[[levels]]\nname = "C"\n', "C twice"),
    ],
)
def test_a_bad_level_table_names_the_line(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_level_rules(text, "levels.toml")
