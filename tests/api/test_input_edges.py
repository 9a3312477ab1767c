"""Hostile input at the API edge (issue 16, defects 2 and 5): text the stores cannot hold,
days near the ends of the calendar, integers past 63 bits and coerced types are each a 422
problem naming the field, and write nothing, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from guanghe.runtime import Runtime
from tests.api.conftest import Parties, assert_problem, row_counts
from tests.originality.pictures import encode, picture

NUL = "a\x00b"
LONE_SURROGATE = "a\ud800b"

CAMPAIGN: dict[str, Any] = {
    "name": "Noodle week",
    "billing": "cpm",
    "bid_fen": 3_000,
    "budget_fen": 10_000,
    "starts_at": "2026-11-28T00:00:00Z",
    "ends_at": "2026-12-28T00:00:00Z",
    "creative_title": "Try Acme noodles",
    "creative_url": "https://acme.example/noodles",
}
PRODUCT: dict[str, Any] = {
    "title": "Cast iron wok",
    "category": "kitchenware",
    "price_fen": 19_900,
    "commission_bp": 1_500,
    "stock": 40,
}

#: (who, path, body, the field the problem must name) for every JSON body with text.
TEXT_BODIES: list[tuple[str, str, dict[str, Any], str]] = [
    ("operator", "/v1/advertisers", {"name": NUL}, "name"),
    ("operator", "/v1/merchants", {"name": NUL}, "name"),
    ("merchant", "/v1/products", PRODUCT | {"title": NUL}, "title"),
    ("merchant", "/v1/products", PRODUCT | {"category": NUL}, "category"),
    ("merchant", "/v1/products", PRODUCT | {"description": NUL}, "description"),
    ("advertiser", "/v1/campaigns", CAMPAIGN | {"name": NUL}, "name"),
    ("advertiser", "/v1/campaigns", CAMPAIGN | {"creative_title": NUL}, "creative_title"),
    (
        "advertiser",
        "/v1/campaigns",
        CAMPAIGN | {"creative_url": "https://x/" + NUL},
        "creative_url",
    ),
    ("advertiser", "/v1/campaigns", CAMPAIGN | {"excluded_keywords": [NUL]}, "excluded_keywords"),
    ("advertiser", "/v1/campaigns", CAMPAIGN | {"target_verticals": [NUL]}, "target_verticals"),
    ("operator", "/v1/advertisers/{advertiser}/deposits", {"key": NUL, "amount_fen": 5}, "key"),
    (
        "operator",
        "/v1/ledger/adjustments",
        {"key": "k", "debit_account_id": 1, "credit_account_id": 2, "amount": 5, "reason": NUL},
        "reason",
    ),
    (
        "operator",
        "/v1/ledger/adjustments",
        {"key": NUL, "debit_account_id": 1, "credit_account_id": 2, "amount": 5, "reason": "why"},
        "key",
    ),
    (
        "creator1",
        "/v1/originality/claims",
        {"work_id": 101, "original_work_id": 100, "statement": NUL},
        "statement",
    ),
    ("creator1", "/v1/originality/disputes", {"work_id": 100, "statement": NUL}, "statement"),
    ("operator", "/v1/advertisers", {"name": LONE_SURROGATE}, "name"),
]


def _json_with_surrogates(body: dict[str, Any]) -> bytes:
    """``body`` as JSON text that may carry a lone surrogate (``\\ud800`` escaped)."""
    return json.dumps(body).encode()


@pytest.mark.parametrize(("who", "path", "body", "field"), TEXT_BODIES)
def test_unstorable_text_in_a_body_is_422_naming_the_field_and_writes_nothing(
    client: TestClient,
    runtime: Runtime,
    parties: Parties,
    who: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    before = row_counts(runtime)
    response = client.post(
        path.format(advertiser=parties.advertiser),
        content=_json_with_surrogates(body),
        headers=parties.headers(who) | {"Content-Type": "application/json"},
    )
    problem = assert_problem(response, 422, "invalid-input")
    assert field in str(problem["detail"])
    assert row_counts(runtime) == before


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/creators", {"vertical": "\x00"}, "vertical"),
        ("/v1/works", {"vertical": "food\x00"}, "vertical"),
        ("/v1/creators", {"cursor": "\x00"}, "cursor"),
    ],
)
def test_unstorable_text_in_a_query_is_422_naming_the_parameter(
    client: TestClient, parties: Parties, path: str, params: dict[str, str], field: str
) -> None:
    response = client.get(path, params=params, headers=parties.headers("operator"))
    assert field in str(assert_problem(response, 422, "invalid-input")["detail"])


@pytest.mark.parametrize("field", ["title", "caption", "hashtags", "vertical"])
def test_unstorable_text_in_a_work_upload_is_422_and_writes_nothing(
    client: TestClient, runtime: Runtime, parties: Parties, field: str
) -> None:
    form = {"creator_id": "1", "title": "Noodles", "caption": "", "hashtags": "#food"}
    form[field] = "food" + NUL
    before = row_counts(runtime)
    response = client.post(
        "/v1/works",
        data=form,
        files=[("cover", ("cover.png", encode(picture(7)), "image/png"))],
        headers=parties.headers("creator1"),
    )
    assert field in str(assert_problem(response, 422, "invalid-input")["detail"])
    assert row_counts(runtime) == before


def _cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/ledger/accounts/1/statements/9999-12", {}, "month"),
        ("/v1/ledger/accounts/1/statements/0001-01", {}, "month"),
        ("/v1/ledger/accounts/1/statements/2026-13", {}, "month"),
        ("/v1/report/ecosystem", {"from": "0001-01-01", "to": "2026-11-30"}, "from"),
        ("/v1/report/ecosystem", {"from": "9999-12-01", "to": "9999-12-31"}, "from"),
        ("/v1/report/ecosystem", {"from": "2026-11-01", "to": "9999-12-31"}, "to"),
        ("/v1/creators", {"cursor": _cursor([2**64])}, "cursor"),
        ("/v1/creators", {"cursor": _cursor([-1])}, "cursor"),
        ("/v1/works", {"cursor": _cursor(["2026-11-28T12:00:00+00:00", 2**64])}, "cursor"),
        ("/v1/works", {"cursor": _cursor(["9999-12-31T23:59:59-23:59", 5])}, "cursor"),
        ("/v1/works", {"published_from": "9999-12-31T23:59:59-23:59"}, "published_from"),
        ("/v1/creators", {"min_followers": str(2**63)}, "min_followers"),
        ("/v1/creators", {"limit": str(2**64)}, "limit"),
        ("/v1/products", {"cursor": _cursor([2**64])}, "cursor"),
        ("/v1/campaigns", {"merchant_id": "1", "advertiser_id": str(2**63)}, "advertiser_id"),
        ("/v1/traffic/plan", {"day": "0001-01-01"}, "day"),
        ("/v1/ledger/accounts/1/transfers", {"before_id": str(2**63)}, "before_id"),
    ],
)
def test_days_and_integers_outside_their_bounds_are_422_naming_the_field(
    client: TestClient, parties: Parties, path: str, params: dict[str, str], field: str
) -> None:
    response = client.get(path, params=params, headers=parties.headers("operator"))
    assert field in str(assert_problem(response, 422, "invalid-input")["detail"])


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "field"),
    [
        (
            "advertiser",
            "POST",
            "/v1/campaigns",
            CAMPAIGN | {"ends_at": "9999-12-31T23:59:59-23:59"},
            "ends_at",
        ),
        (
            "advertiser",
            "POST",
            "/v1/campaigns",
            CAMPAIGN | {"starts_at": "0001-01-01T00:00:00+23:59"},
            "starts_at",
        ),
        ("advertiser", "POST", "/v1/campaigns", CAMPAIGN | {"budget_fen": "10000"}, "budget_fen"),
        (
            "advertiser",
            "POST",
            "/v1/campaigns",
            CAMPAIGN | {"advertiser_id": 2**64},
            "advertiser_id",
        ),
        (
            "operator",
            "PUT",
            "/v1/traffic/budgets",
            {
                "pool": "general",
                "starts_on": "9999-12-01",
                "ends_on": "9999-12-31",
                "impressions": 5,
            },
            "starts_on",
        ),
        (
            "operator",
            "PUT",
            "/v1/traffic/budgets",
            {
                "pool": "general",
                "starts_on": "2026-12-01",
                "ends_on": "2026-12-31",
                "impressions": "5",
            },
            "impressions",
        ),
        (
            "operator",
            "POST",
            "/v1/ledger/adjustments",
            {
                "key": "k",
                "debit_account_id": 1,
                "credit_account_id": 2,
                "amount": "10",
                "reason": "why",
            },
            "amount",
        ),
        (
            "operator",
            "POST",
            "/v1/ledger/adjustments",
            {
                "key": "k",
                "debit_account_id": 2**64,
                "credit_account_id": 2,
                "amount": 1,
                "reason": "why",
            },
            "debit_account_id",
        ),
        ("creator1", "PUT", "/v1/authorisations/1/profile_ads", {"granted": 0}, "granted"),
        ("creator1", "PUT", "/v1/authorisations/1/profile_ads", {"granted": "true"}, "granted"),
        (
            "operator",
            "POST",
            "/v1/advertisers/{advertiser}/deposits",
            {"key": "k", "amount_fen": "5"},
            "amount_fen",
        ),
        ("merchant", "POST", "/v1/products", PRODUCT | {"price_fen": 19.5}, "price_fen"),
    ],
)
def test_bodies_outside_their_bounds_or_types_are_422_and_write_nothing(
    client: TestClient,
    runtime: Runtime,
    parties: Parties,
    who: str,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    before = row_counts(runtime)
    response = client.request(
        method, path.format(advertiser=parties.advertiser), json=body, headers=parties.headers(who)
    )
    assert field in str(assert_problem(response, 422, "invalid-input")["detail"])
    assert row_counts(runtime) == before


def test_days_at_the_stated_bounds_are_accepted(client: TestClient, parties: Parties) -> None:
    operator = parties.headers("operator")
    statement = client.get("/v1/ledger/accounts/1/statements/2100-12", headers=operator)
    assert statement.status_code == 200, statement.text
    report = client.get(
        "/v1/report/ecosystem", params={"from": "2000-01-01", "to": "2000-12-31"}, headers=operator
    )
    assert report.status_code == 200, report.text
    campaign = client.post(
        "/v1/campaigns",
        json=CAMPAIGN | {"ends_at": "2100-12-31T23:59:59Z"},
        headers=parties.headers("advertiser"),
    )
    assert campaign.status_code == 201, campaign.text


def test_unstorable_text_in_a_dashboard_form_is_422_and_writes_nothing(
    client: TestClient, runtime: Runtime, parties: Parties
) -> None:
    login = client.post(
        "/login", data={"token": parties.tokens["creator1"]}, follow_redirects=False
    )
    assert login.status_code == 303
    before = row_counts(runtime)
    response = client.post(
        "/dashboard/originality/claims",
        data={"work_id": "101", "original_work_id": "100", "statement": NUL},
        follow_redirects=False,
    )
    assert "statement" in str(assert_problem(response, 422, "invalid-input")["detail"])
    assert row_counts(runtime) == before
