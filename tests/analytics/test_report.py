"""The ecosystem report: figures, unavailable metrics, bad dates; API, CLI and dashboard."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from guanghe.analytics import ecosystem_report, parse_period
from guanghe.app import create_app
from guanghe.cli.app import main
from guanghe.errors import InvalidInput
from guanghe.runtime import Runtime
from tests.pipelines.sample import log_sample_events
from tests.seed import SeedPlatform


def test_figures_and_unavailable_metrics(runtime: Runtime, seed_platform: SeedPlatform) -> None:
    log_sample_events(runtime)
    period = parse_period("2026-11-01", "2026-11-28")
    with runtime.sessions() as session:
        report = ecosystem_report(session, runtime.event_log, period)
    metrics = {m.key: m for m in report.metrics}
    assert report.previous.start == dt.date(2025, 11, 1)
    assert metrics["works_published"].current.value == 20
    assert metrics["active_authors"].current.value == 6
    assert metrics["supported_creators"].current.value == 6
    # Fans: follows c per event day minus one unfollow, days 0..27 step 3 (10 days).
    assert metrics["fans_gained"].current.value == 10 * (21 - 6)
    assert metrics["fans_gained"].previous.value is None
    assert "no events" in (metrics["fans_gained"].previous.unavailable or "")
    assert metrics["works_published"].previous.value == 0
    for key in ("creators_earning", "total_earnings_fen", "creators_two_income_sources"):
        assert metrics[key].current.value is None
        assert "settled in the ledger" in (metrics[key].current.unavailable or "")


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-02-30", "2026-03-01", "not a date"),
        ("2026-03-02", "2026-03-01", "ends"),
        ("2024-01-01", "2026-01-01", "longer than"),
    ],
)
def test_bad_periods(start: str, end: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_period(start, end)


def test_api_cli_and_dashboard(
    runtime: Runtime,
    seed_platform: SeedPlatform,
    token_for: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    log_sample_events(runtime)
    operator = token_for("operator")
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        headers = {"Authorization": f"Bearer {operator}"}
        ok = client.get("/v1/report/ecosystem?from=2026-11-01&to=2026-11-28", headers=headers)
        assert ok.status_code == 200, ok.text
        assert {m["key"] for m in ok.json()["metrics"]} >= {"works_published", "fans_gained"}
        bad = client.get("/v1/report/ecosystem?from=2026-13-01&to=2026-11-28", headers=headers)
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        creator = {"Authorization": f"Bearer {token_for('creator', 1)}"}
        assert (
            client.get(
                "/v1/report/ecosystem?from=2026-11-01&to=2026-11-28", headers=creator
            ).status_code
            == 403
        )
        client.cookies.set("guanghe_session", operator)
        page = client.get("/dashboard/report?from=2026-11-01&to=2026-11-28")
        assert page.status_code == 200
        assert 'id="metric-works_published"' in page.text
        assert "unavailable" in page.text
        assert 'data-chart="grouped-bar"' in page.text
        assert client.get("/dashboard/report?from=nope&to=2026-11-28").status_code == 422
        assert 'id="nav-report"' in client.get("/dashboard").text
    monkeypatch.setenv("GUANGHE_DATA_DIR", str(runtime.settings.data_dir))
    monkeypatch.setenv("GUANGHE_DATABASE_URL", runtime.settings.database_url)
    with pytest.raises(SystemExit) as done:
        main(["report", "--from", "2026-11-01", "--to", "2026-11-28", "--format", "json"])
    assert done.value.code in (0, None)
    out = json.loads(capsys.readouterr().out)
    assert out["metrics"][0]["current"]["value"] == 20
    with pytest.raises(SystemExit) as failed:
        main(["report", "--from", "2026-11-29", "--to", "2026-11-28"])
    assert failed.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "ends" in err[0]
