"""The one TOML-model loader: the rules and the traffic programme files report unreadable
files, bad TOML and invalid values the same way (file, line, key)."""

from __future__ import annotations

from pathlib import Path

import pytest

from guanghe.creators import load_rules
from guanghe.errors import InvalidInput
from guanghe.traffic.programs import DEFAULT_PROGRAMS, load_programs, parse_programs


def test_both_files_name_an_unreadable_file_alike(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(InvalidInput, match=f"cannot read rules file {missing}"):
        load_rules(missing)
    with pytest.raises(InvalidInput, match=f"cannot read traffic programmes file {missing}"):
        load_programs(missing)


def test_programme_errors_give_the_line_of_the_bad_key() -> None:
    text = DEFAULT_PROGRAMS.read_text()
    bad = text.replace("days = ", "days = -", 1)
    line = next(n for n, row in enumerate(bad.splitlines(), 1) if "days = -" in row)
    with pytest.raises(InvalidInput, match=rf"traffic.toml, line {line}: period.days"):
        parse_programs(bad, "traffic.toml")
