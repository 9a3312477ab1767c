"""Experiment endpoints: operators define experiments and read reports; bad input is a 4xx
problem that writes nothing; creators see none of it, and their traffic explains itself."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from guanghe.pipelines import run_cycle
from guanghe.runtime import Runtime
from tests.api.conftest import Parties, assert_problem, row_counts
from tests.api.test_access_matrix import EXPERIMENT
from tests.pipelines.sample import AS_OF, log_sample_events


def test_operators_define_experiments_and_read_their_reports(
    runtime: Runtime, client: TestClient, parties: Parties
) -> None:
    operator = parties.headers("operator")
    log_sample_events(runtime)
    created = client.post("/v1/experiments", json=EXPERIMENT, headers=operator)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["treatment_creators"] + body["control_creators"] == 6
    assert body["policy"]["pool_weights"] == {"new_creator": 1.5}
    assert "products ranked by commission" in body["policy_summary"]
    listed = client.get("/v1/experiments", headers=operator).json()["items"]
    assert [e["key"] for e in listed] == ["matrix"]
    again = client.post("/v1/experiments", json=EXPERIMENT, headers=operator)
    assert_problem(again, 409, "conflict")

    report = client.get(f"/v1/experiments/{body['id']}/report", headers=operator)
    assert report.status_code == 200, report.text
    out = report.json()
    assert out["analysed_from"] == "2026-11-20"
    assert out["analysed_to"] == str(AS_OF)
    assert out["pre_to"] == "2026-11-19"
    metrics = {m["metric"]: m for m in out["metrics"]}
    assert set(metrics) == {
        "follows",
        "net_follows",
        "plays",
        "boosted_impressions",
        "orders",
        "gmv_fen",
        "follows_per_1k_followers",
    }
    assert out["pre_from"] == "2026-10-23"  # 28 days before the start
    assert out["strata_by"].startswith("follower size at the start")
    assert "per 1,000 followers" in metrics["follows_per_1k_followers"]["definition"]
    for m in metrics.values():  # six creators cannot tell anything
        assert m["verdict"] == "too small to tell"
        assert m["sentence"].startswith("Too small to tell")
        assert m["estimator"] == "cuped"  # too few for a second stratum
        assert m["strata"] == 1
    early = client.get(
        f"/v1/experiments/{body['id']}/report", params={"as_of": "2026-11-01"}, headers=operator
    )
    assert_problem(early, 404, "not-found")


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"key": "Has Spaces"}, 422),
        ({"treatment_share": 1.5}, 422),
        ({"treatment_share": "half"}, 422),
        ({"ends_on": "2026-11-01"}, 422),
        ({"policy": {"pool_weights": {"nope": 2.0}}}, 422),
        ({"policy": {"pool_shares": {"general": 99}}}, 422),
        ({"policy": {"exploration_share": 0.9}}, 422),
        ({"policy": {"product_ranking": "random"}}, 422),
        ({"policy": {"surprise": 1}}, 422),
        ({"title": ""}, 422),
        ({"starts_on": "1900-01-01"}, 422),
    ],
)
def test_bad_experiments_are_problems_that_write_nothing(
    runtime: Runtime, client: TestClient, parties: Parties, change: dict[str, Any], status: int
) -> None:
    before = row_counts(runtime)
    body = copy.deepcopy(EXPERIMENT) | change
    response = client.post("/v1/experiments", json=body, headers=parties.headers("operator"))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert row_counts(runtime) == before


def test_creators_never_see_experiments_but_see_why_of_their_own_traffic(
    runtime: Runtime, client: TestClient, parties: Parties
) -> None:
    operator = parties.headers("operator")
    log_sample_events(runtime)
    created = client.post("/v1/experiments", json=EXPERIMENT, headers=operator).json()
    creator = parties.headers("creator1")
    for path in ("/v1/experiments", f"/v1/experiments/{created['id']}/report"):
        assert_problem(client.get(path, headers=creator), 403, "forbidden")
    run_cycle(runtime, AS_OF)
    mine = client.get("/v1/creators/1/traffic", headers=creator)
    assert mine.status_code == 200, mine.text
    why = mine.json()["why"]
    assert why is not None
    assert why["sentence"]
    assert why["weight"] is None  # the value of a follow is the operators'
    assert why["bound"] in {
        "floor",
        "cap",
        "vertical cap",
        "pool budget",
        "curve saturated",
        "priced out",
    }
    as_operator = client.get("/v1/creators/1/traffic", headers=operator).json()["why"]
    assert as_operator["weight"] > 0
    assert_problem(client.get("/v1/creators/3/traffic", headers=creator), 403, "forbidden")
