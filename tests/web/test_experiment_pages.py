"""The experiments page: operators see every experiment and one's report with its verdicts;
other roles are refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from guanghe.app import create_app
from guanghe.runtime import Runtime
from tests.api.test_access_matrix import EXPERIMENT
from tests.pipelines.sample import log_sample_events
from tests.seed import SeedPlatform
from tests.web.test_pages import sign_in


@pytest.fixture
def client(runtime: Runtime, seed_platform: SeedPlatform) -> Iterator[TestClient]:
    with TestClient(
        create_app(runtime), raise_server_exceptions=False, follow_redirects=False
    ) as test_client:
        yield test_client


def test_operators_read_the_list_and_a_report(
    runtime: Runtime, client: TestClient, token_for: Callable[..., str]
) -> None:
    operator = token_for("operator")
    log_sample_events(runtime)
    created = client.post(
        "/v1/experiments", json=EXPERIMENT, headers={"Authorization": f"Bearer {operator}"}
    )
    assert created.status_code == 201, created.text
    sign_in(client, operator)
    listing = client.get("/dashboard/experiments")
    assert listing.status_code == 200
    assert "Favour novices" in listing.text
    assert "follows in new_creator valued ×1.5" in listing.text
    report = client.get(f"/dashboard/experiments/{created.json()['id']}")
    assert report.status_code == 200
    assert 'id="experiment-metrics"' in report.text
    assert "too small to tell" in report.text
    assert "post-stratified by follower size at the start" in report.text
    assert "follows per 1k followers" in report.text
    assert client.get("/dashboard/experiments/987654").status_code == 404

    client.cookies.clear()
    sign_in(client, token_for("creator", 1))
    assert client.get("/dashboard/experiments").status_code == 403
