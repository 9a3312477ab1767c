"""The ``guanghe`` command: one clear line and a non-zero exit for bad input, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guanghe.access import authenticate
from guanghe.cli.app import main
from guanghe.errors import Unauthenticated
from guanghe.runtime import Runtime
from tests.seed import SeedPlatform


@pytest.fixture
def cli_env(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setenv("GUANGHE_DATA_DIR", str(runtime.settings.data_dir))
    monkeypatch.setenv("GUANGHE_DATABASE_URL", runtime.settings.resolved_database_url)
    return runtime


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), out, err


def test_help_needs_no_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GUANGHE_DATA_DIR", str(tmp_path / "nowhere"))
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    for command in ("init", "sim", "ingest", "serve", "token", "cycle", "demo"):
        assert command in out
    assert not (tmp_path / "nowhere").exists()


def test_token_create_prints_the_token_last(
    cli_env: Runtime, seed_platform: SeedPlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["token", "create", "--role", "creator", "--subject", "3"], capsys)
    assert code == 0
    token = out.strip().splitlines()[-1]
    with cli_env.sessions() as session:
        principal = authenticate(session, token)
    assert (principal.role, principal.subject_id) == ("creator", 3)


def test_tokens_are_listed_and_revoked(
    cli_env: Runtime, seed_platform: SeedPlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(["token", "create", "--role", "creator", "--subject", "3"], capsys)
    creator = out.strip().splitlines()[-1]
    run(["token", "create", "--role", "ranker", "--name", "feed"], capsys)
    code, out, _ = run(["token", "list"], capsys)
    assert code == 0
    rows = [line.split("\t") for line in out.strip().splitlines()[1:]]
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("creator", "3", "creator 3"),
        ("ranker", "", "feed"),
    ]
    assert creator not in out
    code, out, _ = run(["token", "revoke", rows[0][0]], capsys)
    assert code == 0
    assert f"token {rows[0][0]} (creator creator 3) revoked" in out
    with cli_env.sessions() as session, pytest.raises(Unauthenticated):
        authenticate(session, creator)
    _, listed, _ = run(["token", "list"], capsys)
    _, everything, _ = run(["token", "list", "--revoked"], capsys)
    assert len(listed.strip().splitlines()) == 2
    assert len(everything.strip().splitlines()) == 3
    assert run(["token", "revoke", rows[0][0]], capsys)[0] == 0  # revoking again changes nothing


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["token", "create", "--role", "wizard"], 2, "unknown role 'wizard'"),
        (["token", "create", "--role", "creator"], 2, "needs --subject"),
        (["token", "create", "--role", "creator", "--subject", "999"], 3, "does not exist"),
        (["token", "create", "--role", "operator", "--subject", "1"], 2, "takes no subject"),
        (["token", "create", "--role", "institution", "--subject", "9"], 3, "does not exist"),
        (["token", "create", "--role", "advertiser", "--subject", "1"], 3, "does not exist"),
        (["token", "create", "--role", "merchant", "--subject", "1"], 3, "does not exist"),
        (["token", "revoke", "999"], 3, "token 999 does not exist"),
        (["cycle", "--date", "2026-02-30"], 2, "Invalid value"),
        (["ingest", "nothing.csv"], 2, "no such file"),
        (["sim", "generate", "--creators", "0"], 2, "Invalid value"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(
    cli_env: Runtime,
    seed_platform: SeedPlatform,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    code: int,
    message: str,
) -> None:
    exit_code, _, err = run(argv, capsys)
    assert exit_code == code
    assert message in err
    assert "Traceback" not in err


def test_ingest_reports_bad_rows_and_applies_nothing(
    cli_env: Runtime,
    seed_platform: SeedPlatform,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = {"event_id": "a", "type": "play", "ts": "2026-11-28T10:00:00Z", "creator_id": 2}
    bad = dict(good, event_id="b", creator_id="two")
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    code, _, err = run(["ingest", str(path), "--report", str(tmp_path / "r.csv")], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "1 of 2 rows" in err
    assert "row" in (tmp_path / "r.csv").read_text()
    assert cli_env.event_log.count() == 0
    path.write_text(json.dumps(good) + "\n")
    assert run(["ingest", str(path)], capsys) == (
        0,
        "events.jsonl: 1 rows, 1 added, 0 already in the log\n",
        "",  # the progress bar is drawn on terminals only
    )


def test_ingest_draws_its_progress_on_a_terminals_stderr(
    cli_env: Runtime,
    seed_platform: SeedPlatform,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # Rich: stderr is a terminal
    path = tmp_path / "events.jsonl"
    event = {"event_id": "a", "type": "play", "ts": "2026-11-28T10:00:00Z", "creator_id": 2}
    path.write_text(json.dumps(event) + "\n")
    code, out, err = run(["ingest", str(path)], capsys)
    assert code == 0
    assert out == "events.jsonl: 1 rows, 1 added, 0 already in the log\n"
    assert "ingest events.jsonl" in err


def test_cycle_runs_for_a_date(cli_env: Runtime, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["cycle", "--date", "2026-11-28"], capsys)
    assert code == 0
    assert "cycle 2026-11-28" in out
