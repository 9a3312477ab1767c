"""The institutions API: each endpoint with the caller's own object, another tenant's,
another role, no token and nonsense input (a 4xx problem, never a 500)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from guanghe.app import create_app
from guanghe.institutions.torch import is_influential_author
from guanghe.runtime import Runtime
from tests.seed import SeedPlatform

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _today() -> dt.date:
    """Today's UTC date, read when a request is built (a run may cross midnight)."""
    return dt.datetime.now(dt.UTC).date()


def _terms() -> dict[str, object]:
    return {"splits": {"ads": 2_000, "commerce": 1_000}, "valid_from": _today().isoformat()}


@pytest.fixture
def client(runtime: Runtime, seed_platform: SeedPlatform) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def auth(token_for: Callable[..., str]) -> Callable[..., dict[str, str]]:
    tokens: dict[tuple[str, int | None], str] = {}

    def headers(role: str, subject: int | None = None) -> dict[str, str]:
        if (role, subject) not in tokens:
            tokens[(role, subject)] = token_for(role, subject)
        return {"Authorization": f"Bearer {tokens[(role, subject)]}"}

    return headers


def test_contract_flow_and_its_access(
    client: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    proposed = client.post(
        "/v1/institutions/2/contracts",
        json={"creator_id": 4, "exclusive": True, **_terms()},
        headers=auth("institution", 2),
    )
    assert proposed.status_code == 201, proposed.text
    contract = proposed.json()
    assert contract["splits"] == {"ads": 2_000, "commerce": 1_000, "tasks": 0, "incentives": 0}
    cid = contract["id"]
    # another institution may not propose for institution 2, nor see the contract (403: it
    # exists and is another's); a ranker has no contracts at all
    other = client.post(
        "/v1/institutions/2/contracts",
        json={"creator_id": 4, **_terms()},
        headers=auth("institution", 1),
    )
    assert other.status_code == 403
    assert client.get(f"/v1/contracts/{cid}", headers=auth("institution", 1)).status_code == 403
    assert client.post(f"/v1/contracts/{cid}/accept", headers=auth("creator", 5)).status_code == 403
    assert client.get("/v1/contracts/999", headers=auth("ranker")).status_code == 403
    assert client.get("/v1/contracts/999", headers=auth("creator", 5)).status_code == 404
    assert (
        client.post(f"/v1/contracts/{cid}/accept", headers=auth("institution", 2)).status_code
        == 403
    )
    assert client.post(f"/v1/contracts/{cid}/accept").status_code == 401
    accepted = client.post(f"/v1/contracts/{cid}/accept", headers=auth("creator", 4))
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "active"
    clash = client.post(
        "/v1/institutions/1/contracts",
        json={"creator_id": 4, **_terms()},
        headers=auth("institution", 1),
    )
    assert clash.status_code == 409
    assert f"exclusive contract {cid} " in clash.json()["detail"]
    assert clash.headers["content-type"] == "application/problem+json"
    creators = client.get("/v1/institutions/2/creators", headers=auth("institution", 2)).json()
    assert [c["creator_id"] for c in creators["items"] if c["contract_id"] == cid] == [4]
    assert (
        client.get("/v1/institutions/2/creators", headers=auth("institution", 1)).status_code == 403
    )
    ended = client.post(f"/v1/contracts/{cid}/end", json={}, headers=auth("creator", 4))
    assert ended.json()["status"] == "ended"
    history = client.get(f"/v1/contracts/{cid}", headers=auth("creator", 4)).json()["history"]
    assert [h["action"] for h in history] == ["proposed", "accepted", "ended"]
    declined = client.post(
        "/v1/institutions/1/contracts", json={"creator_id": 6, **_terms()}, headers=auth("operator")
    ).json()
    assert (
        client.post(f"/v1/contracts/{declined['id']}/decline", headers=auth("creator", 6)).json()[
            "status"
        ]
        == "declined"
    )


@pytest.mark.parametrize(
    "body",
    [
        {"creator_id": 4, "splits": {"ads": 10_001}, "valid_from": _today().isoformat()},
        {"creator_id": "4", **_terms()},
        {"creator_id": 4, "splits": {"ads": 1}, "valid_from": "tomorrow"},
        {"creator_id": 2**63, **_terms()},
        {"creator_id": 4, **_terms(), "exclusive": 1},
    ],
)
def test_nonsense_contracts_are_422(
    client: TestClient, auth: Callable[..., dict[str, str]], body: dict[str, object]
) -> None:
    response = client.post(
        "/v1/institutions/2/contracts", json=body, headers=auth("institution", 2)
    )
    assert response.status_code == 422


def test_institutions_see_only_themselves(
    client: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    everyone = client.get("/v1/institutions", headers=auth("operator")).json()
    assert [i["id"] for i in everyone["items"]] == [1, 2]
    own = client.get("/v1/institutions", headers=auth("institution", 2)).json()
    assert [i["id"] for i in own["items"]] == [2]
    assert client.get("/v1/institutions", headers=auth("agent", 1)).json()["items"][0]["id"] == 1
    assert client.get("/v1/institutions", headers=auth("creator", 1)).status_code == 403
    assert client.get("/v1/institutions/1", headers=auth("institution", 2)).status_code == 403
    assert client.get("/v1/institutions/2", headers=auth("institution", 2)).json()["level"] is None
    assert client.get("/v1/institutions/0", headers=auth("operator")).status_code == 422
    assert client.get("/v1/institutions/99", headers=auth("operator")).status_code == 404
    assert client.get("/v1/institutions").status_code == 401


def test_budgets_preferences_rewards_and_support(
    client: TestClient, auth: Callable[..., dict[str, str]], runtime: Runtime
) -> None:
    period = {
        "starts_on": _today().isoformat(),
        "ends_on": (_today() + dt.timedelta(days=6)).isoformat(),
    }
    budgets = {
        **period,
        "budgets": [{"institution_id": 1, "cash_fen": 1_000, "traffic_impressions": 50_000}],
        "max_creator_share_bp": 6_000,
        "nomination_slots": 1,
    }
    assert (
        client.put("/v1/torch/budgets", json=budgets, headers=auth("institution", 1)).status_code
        == 403
    )
    assert (
        client.put("/v1/torch/budgets", json=budgets, headers=auth("operator")).status_code == 200
    )
    both = {
        **budgets,
        "budgets": [{"level": "S", "institution_id": 1, "cash_fen": 1, "traffic_impressions": 1}],
    }
    assert client.put("/v1/torch/budgets", json=both, headers=auth("operator")).status_code == 422
    prefs = {"preferences": [{"creator_id": 1, "weight": 2.0, "guarantee_impressions": 1_000}]}
    url = "/v1/institutions/1/traffic-preferences"
    assert client.put(url, json=prefs, headers=auth("institution", 1)).status_code == 200
    assert client.put(url, json=prefs, headers=auth("institution", 2)).status_code == 403
    foreign = {"preferences": [{"creator_id": 3, "weight": 1.0}]}  # institution 2's creator
    assert client.put(url, json=foreign, headers=auth("institution", 1)).status_code == 404
    greedy = {"preferences": [{"creator_id": 1, "guarantee_impressions": 40_000}]}
    assert client.put(url, json=greedy, headers=auth("institution", 1)).status_code == 409
    reward = {"creator_id": 1, "amount_fen": 600, "key": "r1"}
    rewards = "/v1/institutions/1/rewards"
    assert (
        client.post(rewards, json=reward, headers=auth("institution", 1)).json()["status"]
        == "created"
    )
    assert (
        client.post(rewards, json=reward, headers=auth("institution", 1)).json()["status"]
        == "exists"
    )
    past = client.post(rewards, json={**reward, "key": "r2"}, headers=auth("institution", 1))
    assert past.status_code == 409  # 600 + 600 > 1,000
    inbox = client.get("/v1/creators/1/inbox", headers=auth("creator", 1)).json()["items"]
    told = [n for n in inbox if n["kind"] == "reward"]
    assert len(told) == 1  # once, though the reward was posted twice
    assert "6.00 CNY" in told[0]["subject"]
    nominated = client.post(
        "/v1/institutions/1/nominations",
        json={"creator_id": 2, "starts_on": _today().isoformat()},
        headers=auth("institution", 1),
    )
    assert nominated.status_code == 201
    decision = client.post(
        f"/v1/torch/nominations/{nominated.json()['id']}/decision",
        json={"approve": True},
        headers=auth("operator"),
    )
    assert decision.json()["status"] == "approved"
    with runtime.sessions() as session:  # the badge in the creator's growth rights
        assert is_influential_author(session, 2, _today())
        assert not is_influential_author(session, 1, _today())
    seen = client.get("/v1/institutions/1/support", headers=auth("agent", 1)).json()
    assert seen["cash_spent_fen"] == 600
    assert seen["budget"]["traffic_impressions"] == 50_000
    assert seen["nominations"][0]["status"] == "approved"
    assert (
        client.get("/v1/institutions/1/support", headers=auth("institution", 2)).status_code == 403
    )
    assert client.get("/v1/institutions/1/support", headers=auth("creator", 1)).status_code == 403
    assert client.get("/v1/institutions/99/support", headers=auth("operator")).status_code == 404
    assert client.get("/v1/institutions/99/creators", headers=auth("operator")).status_code == 404
