"""The rules file: the default loads; every kind of mistake is a clear InvalidInput."""

from __future__ import annotations

from pathlib import Path

import pytest

from guanghe.creators import load_rules, parse_rules
from guanghe.creators.rules import DEFAULT_RULES
from guanghe.errors import InvalidInput

DEFAULT = DEFAULT_RULES.read_text()


def test_default_rules_load_with_cumulative_rights() -> None:
    rules = load_rules()
    assert [t.name for t in rules.tiers] == ["starter", "rising", "star", "elite"]
    assert "pre_diagnosis" in rules.rights_of("star")
    assert "teaching_resources" in rules.rights_of("elite")
    assert rules.tiers[2].min_followers == 100_000


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "min_quality = 55.0",
            "min_quality = 155.0",
            r"line 89: tiers\.2\.min_quality: .*less than or equal to 100",
        ),
        (
            "min_followers = 500_000",
            "min_followers = -1",
            r"line 15: stages\.mature\.min_followers",
        ),
        ('rights = ["pre_diagnosis"]', 'rights = ["nope"]', r"line 91: .*unknown right 'nope'"),
        ("[pool]", "[pool]\nbogus = 1", r"line 39: pool\.bogus: Unexpected"),
        (
            "engagement_rate = 0.45",
            "engagement_rate = 'a'",
            r"quality\.weights\.engagement_rate: .*valid number",
        ),
        ("version = 1", "version = 2", r"version: "),
        ('name = "rising"', 'name = "starter"', r"defined twice"),
        ("window_days = 28", "window_days = 30", r"quality\.window_days"),
    ],
)
def test_bad_rules_name_the_line_and_field(old: str, new: str, message: str) -> None:
    assert old in DEFAULT
    with pytest.raises(InvalidInput, match=message):
        parse_rules(DEFAULT.replace(old, new, 1), "rules.toml")


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"not valid TOML: .*line"):
        parse_rules(DEFAULT + "\n[broken\n", "rules.toml")
    with pytest.raises(InvalidInput, match="cannot read rules file"):
        load_rules(tmp_path / "absent.toml")
    with pytest.raises(InvalidInput, match="at least one weight must be positive"):
        parse_rules(
            DEFAULT.replace("0.45", "0.0")
            .replace("0.05", "0.0")
            .replace("0.20", "0.0")
            .replace("0.10", "0.0"),
            "rules.toml",
        )


def test_rights_that_gate_nothing_yet_are_coming_and_pre_diagnosis_has_its_own_rule() -> None:
    rules = load_rules()
    coming = {name for name, right in rules.rights.items() if right.status == "coming"}
    assert coming == {"creator_community", "exclusive_support"}
    assert rules.rights["pre_diagnosis"].requirements() == {"min_followers": 100_000.0}
