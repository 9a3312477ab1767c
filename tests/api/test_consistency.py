"""API consistency (issue 15): every list paginated one way, one vertical vocabulary listed by
an endpoint, pages offering only what works; and an OpenAPI schema stating the problem+json
responses the API really gives (issue 16)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from guanghe.api.limits import LIST_BODY_BYTES
from guanghe.api.problems import PROBLEM_JSON
from guanghe.web.roles import CAPABILITIES
from tests.api.conftest import Parties, assert_problem
from tests.api.test_input_edges import CAMPAIGN, PRODUCT


def _pages(client: TestClient, path: str, headers: dict[str, str], limit: int) -> list[list[int]]:
    """The ids of each page of ``path``, following ``next_cursor`` to the end."""
    pages: list[list[int]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "next_cursor"}
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


@pytest.mark.parametrize(
    ("path", "who", "body"),
    [("/v1/products", "merchant", PRODUCT), ("/v1/campaigns", "advertiser", CAMPAIGN)],
)
def test_products_and_campaigns_honour_limit_and_page_with_a_cursor(
    client: TestClient, parties: Parties, path: str, who: str, body: dict[str, Any]
) -> None:
    created = []
    for n in range(5):
        response = client.post(path, json=body | {"name": f"n{n}"}, headers=parties.headers(who))
        assert response.status_code == 201, response.text
        created.append(response.json()["id"])
    for headers in (parties.headers(who), parties.headers("operator")):
        assert _pages(client, path, headers, limit=2) == [created[:2], created[2:4], created[4:]]
    assert_problem(
        client.get(path, params={"limit": 0}, headers=parties.headers(who)), 422, "invalid-input"
    )
    assert_problem(
        client.get(path, params={"cursor": "bm90IGpzb24"}, headers=parties.headers(who)),
        422,
        "invalid-input",
    )


def test_verticals_are_listed_and_campaigns_target_them_by_name(
    client: TestClient, parties: Parties
) -> None:
    verticals = client.get("/v1/verticals", headers=parties.headers("advertiser")).json()
    slugs = [v["slug"] for v in verticals]
    assert {"food", "gaming"} <= set(slugs)
    creators = client.get("/v1/creators", headers=parties.headers("operator")).json()["items"]
    assert {c["vertical"] for c in creators} <= set(slugs)
    created = client.post(
        "/v1/campaigns",
        json=CAMPAIGN | {"target_verticals": ["gaming"], "excluded_verticals": ["food"]},
        headers=parties.headers("advertiser"),
    )
    assert created.status_code == 201, created.text
    view = client.get(
        f"/v1/campaigns/{created.json()['id']}", headers=parties.headers("advertiser")
    )
    assert (view.json()["target_verticals"], view.json()["excluded_verticals"]) == (
        ["gaming"],
        ["food"],
    )
    for unknown in (["no-such-vertical"], [2]):
        refused = client.post(
            "/v1/campaigns",
            json=CAMPAIGN | {"target_verticals": unknown},
            headers=parties.headers("advertiser"),
        )
        assert "target_verticals" in str(assert_problem(refused, 422, "invalid-input")["detail"])
    assert client.get("/v1/verticals").status_code == 401


def test_the_merchant_page_offers_only_what_exists() -> None:
    offered = " ".join(CAPABILITIES["merchant"]).lower()
    assert "task center" not in offered


def _operation(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = spec["paths"][path][method]
    return operation


def test_openapi_states_problem_responses_where_they_happen(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    assert "HTTPValidationError" not in str(spec)
    assert {"type", "title", "status", "detail", "instance"} <= set(
        spec["components"]["schemas"]["Problem"]["properties"]
    )
    expected: list[tuple[str, str, set[str]]] = [
        ("/v1/campaigns", "post", {"400", "401", "403", "404", "409", "413", "422", "429", "503"}),
        ("/v1/creators/{creator_id}", "get", {"401", "403", "404", "422", "429", "503"}),
        ("/v1/ledger/accounts", "get", {"401", "403", "429", "503"}),
        ("/v1/traffic/plan", "get", {"401", "403", "404", "422", "429", "503"}),
        ("/healthz", "get", {"429", "503"}),
    ]
    for path, method, statuses in expected:
        responses = _operation(spec, path, method)["responses"]
        problems = {s for s, r in responses.items() if PROBLEM_JSON in r.get("content", {})}
        assert problems == statuses, (path, problems)
        for status in problems:
            assert responses[status]["content"][PROBLEM_JSON]["schema"] == problem_ref
    assert _operation(spec, "/v1/boost/deliveries", "post")["x-max-body-bytes"] == LIST_BODY_BYTES
    month = next(
        p
        for p in _operation(spec, "/v1/ledger/accounts/{account_id}/statements/{month}", "get")[
            "parameters"
        ]
        if p["name"] == "month"
    )
    assert "2100-12" in month["description"]
    report_from = next(
        p
        for p in _operation(spec, "/v1/report/ecosystem", "get")["parameters"]
        if p["name"] == "from"
    )
    assert report_from["schema"]["formatMaximum"] == "2100-12-31"
    cursor = next(
        p for p in _operation(spec, "/v1/products", "get")["parameters"] if p["name"] == "cursor"
    )
    assert "pattern" in str(cursor["schema"])


def test_each_documented_problem_is_what_the_api_returns(
    client: TestClient, parties: Parties, token_for: Callable[..., str]
) -> None:
    assert_problem(client.get("/v1/campaigns"), 401, "unauthenticated")
    assert_problem(client.get("/v1/campaigns", headers=parties.headers("ranker")), 403, "forbidden")
    assert_problem(
        client.get("/v1/campaigns/999", headers=parties.headers("advertiser")), 404, "not-found"
    )
