"""``GET /v1/creators/{id}/growth``: own view, operator view, 403, 404 and before any cycle."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from guanghe.app import create_app
from guanghe.runtime import Runtime
from tests.pipelines.sample import AS_OF
from tests.seed import SeedPlatform


@pytest.fixture
def client(runtime: Runtime, seed_platform: SeedPlatform) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_growth_before_any_cycle_is_a_clear_404(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    response = client.get("/v1/creators/1/growth", headers=auth(token_for("operator")))
    assert response.status_code == 404
    assert "guanghe cycle" in response.json()["detail"]


def test_growth_views_and_errors(
    cycled_platform: SeedPlatform, client: TestClient, token_for: Callable[..., str]
) -> None:
    own = client.get("/v1/creators/3/growth", headers=auth(token_for("creator", 3)))
    assert own.status_code == 200, own.text
    body = own.json()
    assert body["as_of"] == AS_OF.isoformat()
    assert body["stage"] in ("novice", "growing", "mature")
    assert body["tier"] == body["history"][0]["tier"]
    assert {r["name"] for r in body["rights"]} >= {"teaching_resources"}
    if body["next_tier"] is not None:
        for req in body["next_tier"]["requirements"]:
            assert 0.0 <= req["progress"] <= 1.0
            assert req["met"] == (req["name"] not in body["next_tier"]["missing"])
    operator = auth(token_for("operator"))
    assert client.get("/v1/creators/1/growth", headers=operator).status_code == 200
    other = client.get("/v1/creators/4/growth", headers=auth(token_for("creator", 3)))
    assert other.status_code == 403
    assert other.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/creators/999/growth", headers=operator).status_code == 404
    assert client.get("/v1/creators/0/growth", headers=operator).status_code == 422
