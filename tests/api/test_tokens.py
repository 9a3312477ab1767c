"""``/v1/tokens``: operators list and revoke tokens; a revoked token stops working at once, on
the cached hot paths too."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient

from guanghe.app import create_app
from guanghe.runtime import Runtime
from tests.seed import SeedPlatform


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_operators_list_tokens_and_others_may_not(
    runtime: Runtime, seed_platform: SeedPlatform, token_for: Callable[..., str]
) -> None:
    client = TestClient(create_app(runtime))
    operator, creator = token_for("operator"), token_for("creator", 1)
    ranker = token_for("ranker")
    listed = client.get("/v1/tokens", headers=bearer(operator))
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [(t["role"], t["subject_id"], t["revoked_at"]) for t in items] == [
        ("operator", None, None),
        ("creator", 1, None),
        ("ranker", None, None),
    ]
    assert listed.json()["next_after_id"] is None
    assert all(token not in listed.text for token in (operator, creator, ranker))
    first = client.get("/v1/tokens", params={"limit": 2}, headers=bearer(operator)).json()
    rest = client.get(
        "/v1/tokens", params={"after_id": first["next_after_id"]}, headers=bearer(operator)
    ).json()
    assert [t["id"] for t in first["items"] + rest["items"]] == [t["id"] for t in items]
    for path, method in (("/v1/tokens", "GET"), (f"/v1/tokens/{items[0]['id']}", "DELETE")):
        for token in (creator, ranker):
            response = client.request(method, path, headers=bearer(token))
            assert response.status_code == 403
            assert response.headers["content-type"] == "application/problem+json"
        assert client.request(method, path).status_code == 401
    missing = client.delete("/v1/tokens/999999", headers=bearer(operator))
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert client.delete("/v1/tokens/0", headers=bearer(operator)).status_code == 422


def test_a_revoked_token_stops_working_at_once(
    runtime: Runtime, seed_platform: SeedPlatform, token_for: Callable[..., str]
) -> None:
    client = TestClient(create_app(runtime))
    operator, ranker, creator = token_for("operator"), token_for("ranker"), token_for("creator", 2)
    boost = {"candidates": [{"work_id": 101, "creator_id": 2}]}
    # The boost path trusts a token it has seen for a few seconds: it has seen this one.
    assert client.post("/v1/boost", json=boost, headers=bearer(ranker)).status_code == 200
    assert client.get("/v1/creators/2", headers=bearer(creator)).status_code == 200
    ids = {
        t["role"]: t["id"]
        for t in client.get("/v1/tokens", headers=bearer(operator)).json()["items"]
    }
    revoked = {}
    for role in ("ranker", "creator"):
        response = client.delete(f"/v1/tokens/{ids[role]}", headers=bearer(operator))
        assert response.status_code == 200
        revoked[role] = response.json()["revoked_at"]
        when = dt.datetime.fromisoformat(revoked[role])
        assert abs(dt.datetime.now(dt.UTC) - when) < dt.timedelta(minutes=1)
    assert client.post("/v1/boost", json=boost, headers=bearer(ranker)).status_code == 401
    assert client.get("/v1/creators/2", headers=bearer(creator)).status_code == 401
    again = client.delete(f"/v1/tokens/{ids['ranker']}", headers=bearer(operator))
    assert again.status_code == 200
    assert again.json()["revoked_at"] == revoked["ranker"]  # revoking again changes nothing
    assert client.get("/v1/tokens", headers=bearer(operator)).status_code == 200
