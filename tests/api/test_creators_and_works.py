"""The creators and works API: auth, scoping, filters, pagination and problem+json errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from guanghe.app import create_app
from guanghe.runtime import Runtime
from tests.seed import SeedPlatform


@pytest.fixture
def client(runtime: Runtime, seed_platform: SeedPlatform) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["type"] == f"urn:guanghe:problem:{code}"
    assert body["status"] == status
    assert body["detail"]
    return body


def test_healthz_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    spec = client.get("/openapi.json").json()
    assert {"/v1/creators", "/v1/creators/{creator_id}", "/v1/works", "/v1/works/{work_id}"} <= set(
        spec["paths"]
    )


def test_operator_pages_through_all_creators(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    headers = auth(token_for("operator"))
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 4} | ({"cursor": cursor} if cursor else {})
        body = client.get("/v1/creators", params=params, headers=headers).json()
        seen += [c["id"] for c in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [1, 2, 3, 4, 5, 6]


def test_creator_filters(client: TestClient, token_for: Callable[..., str]) -> None:
    headers = auth(token_for("operator"))
    by_stage = client.get("/v1/creators", params={"stage": "mature"}, headers=headers).json()
    assert [c["id"] for c in by_stage["items"]] == [3, 6]
    by_vertical = client.get("/v1/creators", params={"vertical": "food"}, headers=headers).json()
    assert {c["vertical"] for c in by_vertical["items"]} == {"food"}
    rich = client.get("/v1/creators", params={"min_followers": 500_000}, headers=headers).json()
    assert [c["id"] for c in rich["items"]] == [3, 6]


def test_creator_token_sees_only_itself(client: TestClient, token_for: Callable[..., str]) -> None:
    headers = auth(token_for("creator", 2))
    listed = client.get("/v1/creators", headers=headers).json()
    assert [c["id"] for c in listed["items"]] == [2]
    assert client.get("/v1/creators/2", headers=headers).json()["handle"] == "creator2"
    assert_problem(client.get("/v1/creators/3", headers=headers), 403, "forbidden")
    works = client.get("/v1/works", params={"limit": 200}, headers=headers).json()
    assert works["items"]
    assert {w["creator_id"] for w in works["items"]} == {2}
    other_work = client.get("/v1/works", headers=auth(token_for("operator"))).json()["items"]
    foreign = next(w["id"] for w in other_work if w["creator_id"] != 2)
    assert_problem(client.get(f"/v1/works/{foreign}", headers=headers), 403, "forbidden")


def test_institution_token_sees_its_creators(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    listed = client.get("/v1/creators", headers=auth(token_for("institution", 2))).json()
    assert [c["id"] for c in listed["items"]] == [3, 5]


def test_roles_without_creator_access_are_forbidden(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    assert_problem(client.get("/v1/creators", headers=auth(token_for("ranker"))), 403, "forbidden")


def test_works_newest_first_with_cursor(
    client: TestClient, token_for: Callable[..., str], seed_platform: SeedPlatform
) -> None:
    headers = auth(token_for("operator"))
    seen: list[str] = []
    ids: list[int] = []
    cursor = None
    while True:
        params = {"limit": 7} | ({"cursor": cursor} if cursor else {})
        body = client.get("/v1/works", params=params, headers=headers).json()
        seen += [w["published_at"] for w in body["items"]]
        ids += [w["id"] for w in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(ids) == sorted(seed_platform.work_ids)
    assert seen == sorted(seen, reverse=True)
    window = client.get(
        "/v1/works",
        params={"published_from": "2026-11-27T00:00:00Z", "published_to": "2026-11-28T00:00:00Z"},
        headers=headers,
    ).json()["items"]
    assert window
    assert all(w["published_at"].startswith("2026-11-27") for w in window)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "unauthenticated"),
        ({"Authorization": "Bearer gh_nope"}, "unauthenticated"),
        ({"Authorization": "Basic abc"}, "unauthenticated"),
    ],
)
def test_missing_or_wrong_token_is_401(
    client: TestClient, headers: dict[str, str], code: str
) -> None:
    response = client.get("/v1/creators", headers=headers)
    assert_problem(response, 401, code)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "url",
    [
        "/v1/creators?limit=0",
        "/v1/creators?limit=abc",
        "/v1/creators?stage=legend",
        "/v1/creators?vertical=knitting",
        "/v1/creators?cursor=%%%",
        "/v1/creators?cursor=bm90IGpzb24",
        "/v1/creators/abc",
        "/v1/creators/99999999999999999999999",
        "/v1/works?published_from=yesterday",
        "/v1/works?published_from=2026-11-27T00:00:00",
        "/v1/works?cursor=WyJub3QgYSBkYXRlIiwgMV0",
    ],
)
def test_malformed_input_is_422(
    client: TestClient, token_for: Callable[..., str], url: str
) -> None:
    assert_problem(client.get(url, headers=auth(token_for("operator"))), 422, "invalid-input")


def test_unknown_ids_and_routes_are_404(client: TestClient, token_for: Callable[..., str]) -> None:
    headers = auth(token_for("operator"))
    assert_problem(client.get("/v1/creators/999", headers=headers), 404, "not-found")
    assert_problem(client.get("/v1/works/999", headers=headers), 404, "not-found")
    assert_problem(client.get("/v1/nothing", headers=headers), 404, "not-found")
