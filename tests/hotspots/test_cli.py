"""``guanghe hotspots``: list, detect, and the calendar's import and export (SQLite and
PostgreSQL); bad input is one line on stderr and a non-zero exit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from guanghe.cli.app import main
from guanghe.runtime import Runtime
from tests.hotspots.conftest import BURST_TOPIC, NOW

Run = Callable[..., tuple[int, str, str]]
ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:game-week@test\r
SUMMARY:Game week\r
DTSTART;VALUE=DATE:20261210\r
DTEND;VALUE=DATE:20261217\r
X-GUANGHE-VERTICALS:gaming\r
END:VEVENT\r
END:VCALENDAR\r
"""


@pytest.fixture
def cli(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Run:
    monkeypatch.setenv("GUANGHE_DATA_DIR", str(runtime.settings.data_dir))
    monkeypatch.setenv("GUANGHE_DATABASE_URL", runtime.settings.resolved_database_url)

    def run(*argv: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exit_info:
            main(list(argv))
        out, err = capsys.readouterr()
        return int(exit_info.value.code or 0), out, err

    return run


def test_detect_then_list_shows_the_burst(cli: Run, burst: list[int]) -> None:
    code, out, _ = cli("hotspots", "detect", "--date", NOW.date().isoformat())
    assert code == 0
    counts = dict(part.split("=") for part in out.split())
    assert counts["hotspots_new"] == "1"
    assert counts["hotspot_notices"] == "2"
    code, out, _ = cli("hotspots", "list", "--vertical", "food")
    assert code == 0
    (line,) = out.strip().splitlines()
    assert f"\tfood\t#{BURST_TOPIC}" in line
    code, out, _ = cli("hotspots", "list", "--vertical", "gaming")
    assert (code, out) == (0, "")
    code, out, err = cli("hotspots", "list", "--ended")
    assert (code, out, err.strip()) == (0, "", "no ended hotspots")
    later = (NOW + dt.timedelta(days=3)).date().isoformat()
    code, out, _ = cli("hotspots", "detect", "--date", later)  # the burst is over
    assert "hotspots_ended=1" in out.split()
    code, out, _ = cli("hotspots", "list", "--ended")
    (line,) = out.strip().splitlines()
    assert f"\tfood\t#{BURST_TOPIC}" in line


def test_an_unknown_vertical_is_one_line_and_a_non_zero_exit(
    cli: Run, seed_platform: object
) -> None:
    code, out, err = cli("hotspots", "list", "--vertical", "nowhere")
    assert code == 2
    assert out == ""
    assert err.strip() == "guanghe: error: vertical: unknown vertical 'nowhere'"


def test_calendar_import_and_export_round_trip(
    cli: Run, seed_platform: object, tmp_path: Path
) -> None:
    source = tmp_path / "events.ics"
    source.write_bytes(ICS)
    code, out, _ = cli("hotspots", "calendar", "import", str(source))
    assert (code, out.strip()) == (0, f"imported 1 events from {source}")
    target = tmp_path / "out.ics"
    code, _, err = cli("hotspots", "calendar", "export", "--out", str(target))
    assert code == 0
    assert "wrote 1 events" in err
    exported = target.read_text()
    assert "UID:game-week@test" in exported
    assert "SUMMARY:Game week" in exported
    code, out, _ = cli("hotspots", "calendar", "export", "--vertical", "food")
    assert code == 0
    assert "BEGIN:VCALENDAR" in out
    assert "game-week@test" not in out  # an event for gaming only


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        (b"not a calendar", "not an iCalendar document"),
        (ICS.replace(b"X-GUANGHE-VERTICALS:gaming", b"X-GUANGHE-VERTICALS:nowhere"), "VEVENT 1"),
    ],
)
def test_a_bad_calendar_file_is_one_line_and_imports_nothing(
    cli: Run, seed_platform: object, tmp_path: Path, content: bytes | None, message: str
) -> None:
    source = tmp_path / "bad.ics"
    if content is not None:
        source.write_bytes(content)
    code, out, err = cli("hotspots", "calendar", "import", str(source))
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("guanghe: error: ")
    assert message in err
    _, exported, _ = cli("hotspots", "calendar", "export")
    assert "BEGIN:VEVENT" not in exported
