"""The task-center endpoints: each with the caller's own object, another tenant's, another
role, no token and nonsense input."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from guanghe.access import Principal
from guanghe.pipelines.tasks_step import recommend_offers
from guanghe.runtime import Runtime
from guanghe.tasks import TaskSpec, check_submissions, create_task, fund_platform_tasks
from tests.api.conftest import Parties

OPERATOR = Principal(user_id=0, role="operator", subject_id=None)


def _body(**changes: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    body: dict[str, Any] = {
        "kind": "promotion",
        "title": "Try the noodles",
        "verticals": [],
        "hashtag": "demo",
        "starts_at": (now - dt.timedelta(hours=1)).isoformat(),
        "ends_at": (now + dt.timedelta(days=7)).isoformat(),
        "reward_fen": 1_000,
        "slots": 2,
    }
    body.update(changes)
    return body


def _fund(runtime: Runtime) -> None:
    now = dt.datetime.now(dt.UTC)
    runtime.write(lambda s: fund_platform_tasks(s, key="t", amount_fen=100_000, now=now))


def _open_task(runtime: Runtime, slots: int = 2) -> int:
    """A platform task posted two days ago (its priority window is over)."""
    now = dt.datetime.now(dt.UTC)
    spec = TaskSpec(
        kind="shooting",
        title="Open",
        starts_at=now - dt.timedelta(days=60),  # the seed's works are from late November
        ends_at=now + dt.timedelta(days=5),
        slots=slots,
        reward_fen=500,
        hashtag="demo",
    )
    return runtime.write(
        lambda s: create_task(s, OPERATOR, spec, now=now - dt.timedelta(days=2))
    ).id


def test_posting_tasks(client: TestClient, parties: Parties, runtime: Runtime) -> None:
    assert client.post("/v1/tasks", json=_body()).status_code == 401
    denied = client.post("/v1/tasks", json=_body(), headers=parties.headers("creator1"))
    assert denied.status_code == 403
    short = client.post("/v1/tasks", json=_body(), headers=parties.headers("operator"))
    assert short.status_code == 409
    _fund(runtime)
    made = client.post("/v1/tasks", json=_body(), headers=parties.headers("operator"))
    assert made.status_code == 201, made.text
    assert made.json()["sponsor_kind"] == "platform"
    assert made.json()["free"] == 2
    for bad in (
        _body(slots=0),
        _body(slots="2"),
        _body(verticals=["no-such-vertical"]),
        _body(kind="dance"),
        _body(title="\x00"),
        _body(reward_fen=0),
        _body(ends_at="2026-01-01T00:00:00"),
    ):
        response = client.post("/v1/tasks", json=bad, headers=parties.headers("operator"))
        assert response.status_code == 422, (bad, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


def test_advertisers_see_only_their_tasks(client: TestClient, parties: Parties) -> None:
    mine = client.post("/v1/tasks", json=_body(), headers=parties.headers("advertiser"))
    assert mine.status_code == 201, mine.text
    assert mine.json()["sponsor_kind"] == "advertiser"
    task_id = mine.json()["id"]
    listed = client.get("/v1/tasks", headers=parties.headers("advertiser")).json()["items"]
    assert [t["id"] for t in listed] == [task_id]
    impressions = _body(reward_impressions=100)
    refused = client.post("/v1/tasks", json=impressions, headers=parties.headers("advertiser"))
    assert refused.status_code == 422
    assert (
        client.get(f"/v1/tasks/{task_id}", headers=parties.headers("merchant")).status_code == 403
    )
    assert client.get("/v1/tasks/0", headers=parties.headers("operator")).status_code == 422
    assert client.get("/v1/tasks/999", headers=parties.headers("operator")).status_code == 404


def test_accept_submit_review(client: TestClient, parties: Parties, runtime: Runtime) -> None:
    _fund(runtime)
    task_id = _open_task(runtime, slots=1)
    url = f"/v1/tasks/{task_id}/accept"
    assert client.post(url, json={"creator_id": 1}).status_code == 401
    assert (
        client.post(url, json={"creator_id": 1}, headers=parties.headers("creator2")).status_code
        == 403
    )
    assert (
        client.post(url, json={"creator_id": "1"}, headers=parties.headers("creator1")).status_code
        == 422
    )
    accepted = client.post(url, json={"creator_id": 1}, headers=parties.headers("creator1"))
    assert accepted.status_code == 201, accepted.text
    again = client.post(url, json={"creator_id": 1}, headers=parties.headers("creator1"))
    assert again.status_code == 409
    full = client.post(url, json={"creator_id": 2}, headers=parties.headers("creator2"))
    assert full.status_code == 409
    assert "no slot left" in full.json()["detail"]

    sub_url = f"/v1/tasks/{task_id}/submissions"
    foreign = client.post(
        sub_url, json={"creator_id": 1, "work_id": 101}, headers=parties.headers("creator1")
    )
    assert foreign.status_code == 403  # work 101 is creator 2's
    submitted = client.post(
        sub_url, json={"creator_id": 1, "work_id": 100}, headers=parties.headers("creator1")
    )
    assert submitted.status_code == 201, submitted.text
    submission = submitted.json()["id"]
    assert client.get(sub_url, headers=parties.headers("creator2")).json()["items"] == []
    assert len(client.get(sub_url, headers=parties.headers("creator1")).json()["items"]) == 1
    assert client.get(sub_url, headers=parties.headers("advertiser")).status_code == 403

    review_url = f"{sub_url}/{submission}/review"
    approve = {"decision": "approve", "reason": ""}
    assert (
        client.post(review_url, json=approve, headers=parties.headers("creator1")).status_code
        == 403
    )
    assert (
        client.post(review_url, json=approve, headers=parties.headers("operator")).status_code
        == 409
    )
    assert (
        client.post(
            review_url, json={"decision": "maybe"}, headers=parties.headers("operator")
        ).status_code
        == 422
    )
    now = dt.datetime.now(dt.UTC)
    runtime.write(
        lambda s: check_submissions(
            s,
            duplicates=frozenset(),
            plays=lambda w: dict.fromkeys(w, 1),
            today=now.date(),
            now=now,
        )
    )
    approved = client.post(review_url, json=approve, headers=parties.headers("operator"))
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    twice = client.post(review_url, json=approve, headers=parties.headers("operator"))
    assert twice.status_code == 409


def test_recommended_tasks_carry_why(
    client: TestClient, parties: Parties, runtime: Runtime
) -> None:
    _fund(runtime)
    _open_task(runtime, slots=3)
    now = dt.datetime.now(dt.UTC)
    recommend_offers(runtime, now.date(), now)
    mine = client.get("/v1/creators/1/tasks", headers=parties.headers("creator1"))
    assert mine.status_code == 200, mine.text
    items = mine.json()["items"]
    assert items
    assert {"features", "model", "rule"} <= set(items[0]["why"])
    assert "x" not in items[0]["why"]
    assert (
        client.get("/v1/creators/1/tasks", headers=parties.headers("creator2")).status_code == 403
    )
    assert client.get("/v1/creators/1/tasks").status_code == 401
    assert (
        client.get("/v1/creators/abc/tasks", headers=parties.headers("operator")).status_code == 422
    )
