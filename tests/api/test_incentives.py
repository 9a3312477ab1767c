"""Incentive endpoints: programmes listed to everyone (budgets to operators), put by operators
only, a creator's incentives to the creator, their institution and operators."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanghe.incentives import enrol_and_update, sync_programmes
from guanghe.incentives.progress import WindowActivity
from guanghe.runtime import Runtime
from tests.api.conftest import NOW, Parties
from tests.incentives.sample import DAY, programme, seed_candidates

BODY: dict[str, Any] = {
    "title": "Summer originals",
    "starts_on": "2026-11-01",
    "ends_on": "2026-12-31",
    "window_days": 14,
    "eligibility": {"stages": ["novice"], "verticals": ["food"], "new_creator_channel": True},
    "rules": {
        "original_works": 2,
        "targets": {"novice": {"uplift": 0.5, "min_plays": 100, "max_plays": 5000}},
    },
    "reward": {"cash_fen": 1000, "impressions": 2000},
    "budget": {"cash_fen": 100000, "impressions": 0},
}


def _enrol(runtime: Runtime) -> None:
    def work(session: Session) -> None:
        stored = sync_programmes(session, [programme()], now=NOW)[0]
        activity = WindowActivity(baseline={1: 280}, plays={1: 40})
        enrol_and_update(session, stored, seed_candidates(), (), activity, DAY, set())

    runtime.write(work)


def test_operators_put_programmes_and_see_budgets(client: TestClient, parties: Parties) -> None:
    put = client.put(
        "/v1/incentives/programs/summer", json=BODY, headers=parties.headers("operator")
    )
    assert put.status_code == 200, put.text
    assert put.json()["funded"] == {"CNY": 100000, "IMPRESSION": 0}
    assert put.json()["revision"] == 1
    again = client.put(
        "/v1/incentives/programs/summer", json=BODY, headers=parties.headers("operator")
    )
    assert again.json()["revision"] == 1  # the same programme again changes nothing
    listed = client.get("/v1/incentives/programs", headers=parties.headers("operator")).json()
    names = [p["name"] for p in listed["items"]]
    assert "summer" in names
    assert "quality_creators" in names  # the packaged file's
    as_creator = client.get("/v1/incentives/programs", headers=parties.headers("creator1"))
    assert as_creator.status_code == 200
    assert all(p["funded"] is None for p in as_creator.json()["items"])


def test_only_operators_put_and_bad_programmes_are_422(
    client: TestClient, parties: Parties
) -> None:
    url = "/v1/incentives/programs/summer"
    assert client.put(url, json=BODY, headers=parties.headers("creator1")).status_code == 403
    assert client.put(url, json=BODY).status_code == 401
    for bad in (
        BODY | {"ends_on": "2026-10-01"},
        BODY | {"reward": {"cash_fen": 0, "impressions": 0}},
        BODY | {"eligibility": {"stages": ["mature"]}},  # no target for mature
        BODY | {"eligibility": {"verticals": ["knitting"], "stages": ["novice"]}},
        BODY | {"title": "a\x00b"},
        BODY | {"window_days": "14"},
        BODY | {"budget": {"cash_fen": -1}},
    ):
        response = client.put(url, json=bad, headers=parties.headers("operator"))
        assert response.status_code == 422, (bad, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    bad_name = client.put(
        "/v1/incentives/programs/Bad Name!", json=BODY, headers=parties.headers("operator")
    )
    assert bad_name.status_code == 422


def test_a_creator_sees_their_own_incentives_and_no_one_elses(
    client: TestClient, parties: Parties, runtime: Runtime, token_for: Any
) -> None:
    _enrol(runtime)
    own = client.get("/v1/creators/1/incentives", headers=parties.headers("creator1"))
    assert own.status_code == 200
    item = own.json()["items"][0]
    assert (item["target_plays"], item["plays"], item["progress"]) == (210, 40, 0.1905)
    assert (
        client.get("/v1/creators/2/incentives", headers=parties.headers("creator1")).status_code
        == 403
    )
    institution = {"Authorization": f"Bearer {token_for('institution', 1)}"}
    assert client.get("/v1/creators/1/incentives", headers=institution).status_code == 200
    assert client.get("/v1/creators/3/incentives", headers=institution).status_code == 403
    assert (
        client.get("/v1/creators/1/incentives", headers=parties.headers("advertiser")).status_code
        == 403
    )
    assert client.get("/v1/creators/1/incentives").status_code == 401
    assert (
        client.get("/v1/creators/999/incentives", headers=parties.headers("operator")).status_code
        == 404
    )
    for nonsense in ("/v1/creators/0/incentives", "/v1/creators/x/incentives"):
        assert client.get(nonsense, headers=parties.headers("operator")).status_code == 422
    bad_cursor = client.get(
        "/v1/creators/1/incentives", params={"cursor": "!!"}, headers=parties.headers("operator")
    )
    assert bad_cursor.status_code == 422
