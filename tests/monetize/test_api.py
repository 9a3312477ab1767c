"""The monetization API end to end: campaigns funded in the ledger, the profile slot, opt-out
on the next view, tenants kept apart, and bad input answered with problem+json."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from guanghe import monetize
from guanghe.errors import NotFound
from guanghe.http.deps import SESSION_COOKIE
from guanghe.runtime import Runtime
from guanghe.store import Campaign, Product, ProductPlacement, transaction
from tests.monetize.conftest import NOW, Market, campaign_body, opt_in, product_body


def test_campaign_budget_moves_from_prepaid_to_the_campaign(
    client: TestClient, market: Market
) -> None:
    response = client.post(
        "/v1/campaigns", json=campaign_body(), headers=market.headers("advertiser")
    )
    assert response.status_code == 201, response.text
    campaign = response.json()
    assert campaign["advertiser_id"] == market.advertiser
    assert (campaign["status"], campaign["remaining_fen"], campaign["spent_fen"]) == (
        "active",
        10_000,
        0,
    )
    accounts = client.get("/v1/ledger/accounts", headers=market.headers("advertiser")).json()
    balances = {a["purpose"]: a["balance"] for a in accounts}
    assert balances == {"prepaid": 90_000, f"campaign:{campaign['id']}": 10_000}


def test_a_budget_above_the_prepaid_balance_is_a_conflict_and_writes_nothing(
    client: TestClient, market: Market, runtime: Runtime
) -> None:
    response = client.post(
        "/v1/campaigns",
        json=campaign_body(budget_fen=100_001),
        headers=market.headers("advertiser"),
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "prepaid" in response.json()["detail"]
    with runtime.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Campaign)) == 0


def test_profile_slot_serves_the_auction_winner_and_honours_opt_out_on_the_next_view(
    client: TestClient, market: Market
) -> None:
    low = client.post(
        "/v1/campaigns", json=campaign_body(bid_fen=2_000), headers=market.headers("advertiser")
    ).json()
    high = client.post(
        "/v1/campaigns",
        json=campaign_body(bid_fen=5_000, name="Bolt"),
        headers=market.headers("other_advertiser"),
    ).json()
    ranker = market.headers("ranker")
    before = client.get("/v1/profile-slots/2", headers=ranker).json()
    assert (before["profile_ads"], before["ad"]) == (False, None)

    opt_in(client, market, 2, "profile_ads", True)
    slot = client.get("/v1/profile-slots/2", headers=ranker).json()
    assert slot["ad"]["campaign_id"] == high["id"]
    assert slot["ad"]["price_millifen"] == 2_000  # second price: the runner-up's bid
    served = client.get(f"/v1/campaigns/{high['id']}", headers=market.headers("other_advertiser"))
    assert (served.json()["impressions"], served.json()["committed_fen"]) == (1, 2)
    assert low["id"] != high["id"]

    opt_in(client, market, 2, "profile_ads", False)
    after = client.get("/v1/profile-slots/2", headers=ranker).json()
    assert (after["profile_ads"], after["ad"]) == (False, None)
    history = client.get("/v1/authorisations/2/history", headers=market.headers("creator2")).json()
    assert [(h["kind"], h["granted"]) for h in history] == [
        ("profile_ads", False),
        ("profile_ads", True),
    ]


def test_targeting_exclusions_and_pacing_decide_eligibility(
    client: TestClient, market: Market
) -> None:
    headers = market.headers("advertiser")
    client.post(
        "/v1/campaigns",
        json=campaign_body(name="Gaming only", target_verticals=["gaming"], bid_fen=9_000),
        headers=headers,
    )
    client.post(
        "/v1/campaigns",
        json=campaign_body(name="No demos", excluded_keywords=["#demo"], bid_fen=8_000),
        headers=headers,
    )
    future = campaign_body(
        name="Later",
        bid_fen=7_000,
        starts_at=(NOW + dt.timedelta(days=1)).isoformat(),
        ends_at=(NOW + dt.timedelta(days=2)).isoformat(),
    )
    client.post("/v1/campaigns", json=future, headers=headers)
    fallback = client.post(
        "/v1/campaigns", json=campaign_body(name="Anyone", bid_fen=1_000), headers=headers
    ).json()
    for creator in (1, 3):
        opt_in(client, market, creator, "profile_ads", True)
    ranker = market.headers("ranker")
    # creator 1 (food, #demo works): gaming targeting and the #demo keyword exclude two.
    assert (
        client.get("/v1/profile-slots/1", headers=ranker).json()["ad"]["campaign_id"]
        == (fallback["id"])
    )
    # creator 3 is in gaming (vertical 2): the gaming campaign wins, at the next bid.
    ad = client.get("/v1/profile-slots/3", headers=ranker).json()["ad"]
    assert ad["title"] == "Try Acme noodles"
    assert ad["price_millifen"] == 1_000


def test_paused_campaigns_and_products_out_of_stock_leave_the_page(
    client: TestClient, market: Market, runtime: Runtime
) -> None:
    campaign = client.post(
        "/v1/campaigns", json=campaign_body(), headers=market.headers("advertiser")
    ).json()
    product = client.post(
        "/v1/products", json=product_body(), headers=market.headers("merchant")
    ).json()
    with transaction(runtime.sessions) as session:
        session.add(
            ProductPlacement(
                creator_id=4, rank=1, product_id=product["id"], score=1.0, as_of=NOW.date()
            )
        )
    opt_in(client, market, 4, "profile_ads", True)
    opt_in(client, market, 4, "product_display", True)
    ranker = market.headers("ranker")
    slot = client.get("/v1/profile-slots/4", headers=ranker).json()
    assert slot["ad"]["campaign_id"] == campaign["id"]
    assert [p["product_id"] for p in slot["products"]] == [product["id"]]
    assert slot["products"][0]["why"].startswith("Shown 1st because it matches")

    paused = client.patch(
        f"/v1/campaigns/{campaign['id']}",
        json={"status": "paused"},
        headers=market.headers("advertiser"),
    )
    assert paused.json()["status"] == "paused"
    client.patch(
        f"/v1/products/{product['id']}", json={"stock": 0}, headers=market.headers("merchant")
    )
    slot = client.get("/v1/profile-slots/4", headers=ranker).json()
    assert (slot["ad"], slot["products"]) == (None, [])


def test_creators_preview_their_own_page_without_spending(
    client: TestClient, market: Market, runtime: Runtime
) -> None:
    campaign = client.post(
        "/v1/campaigns", json=campaign_body(), headers=market.headers("advertiser")
    ).json()
    opt_in(client, market, 5, "profile_ads", True)
    preview = client.get("/v1/profile-slots/5", headers=market.headers("creator5")).json()
    assert preview["preview"] is True
    assert preview["ad"]["campaign_id"] == campaign["id"]
    with runtime.sessions() as session:
        assert session.get_one(Campaign, campaign["id"]).reserved_millifen == 0
    other = client.get("/v1/profile-slots/6", headers=market.headers("creator5"))
    assert other.status_code == 403  # another tenant's object: refused, not hidden


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("other_advertiser", "/v1/campaigns/{campaign}"),
        ("other_merchant", "/v1/products/{product}"),
        ("other_advertiser", "/v1/advertisers/{advertiser}"),
        ("creator1", "/v1/authorisations/2"),
        ("creator1", "/v1/earnings/2"),
    ],
)
def test_tenants_cannot_read_each_others_data(
    client: TestClient, market: Market, who: str, path: str
) -> None:
    campaign = client.post(
        "/v1/campaigns", json=campaign_body(), headers=market.headers("advertiser")
    ).json()
    product = client.post(
        "/v1/products", json=product_body(), headers=market.headers("merchant")
    ).json()
    url = path.format(campaign=campaign["id"], product=product["id"], advertiser=market.advertiser)
    response = client.get(url, headers=market.headers(who))
    assert response.status_code == 403  # refused, not hidden (tests/api/test_access_matrix.py)
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get(url, headers=market.headers("operator")).status_code == 200


def test_listings_are_scoped_and_other_roles_are_forbidden(
    client: TestClient, market: Market
) -> None:
    client.post("/v1/campaigns", json=campaign_body(), headers=market.headers("advertiser"))
    client.post("/v1/products", json=product_body(), headers=market.headers("merchant"))
    foreign_campaigns = client.get("/v1/campaigns", headers=market.headers("other_advertiser"))
    assert foreign_campaigns.json() == {"items": [], "next_cursor": None}
    foreign_products = client.get("/v1/products", headers=market.headers("other_merchant"))
    assert foreign_products.json() == {"items": [], "next_cursor": None}
    everyone = client.get("/v1/campaigns", headers=market.headers("operator")).json()
    assert len(everyone["items"]) == 1
    assert client.get("/v1/campaigns", headers=market.headers("merchant")).status_code == 403
    assert client.get("/v1/profile-slots/1", headers=market.headers("merchant")).status_code == 403
    forged = campaign_body(advertiser_id=market.other_advertiser)
    assert (
        client.post("/v1/campaigns", json=forged, headers=market.headers("advertiser")).status_code
        == 403
    )
    totals = client.get("/v1/monetization/totals", headers=market.headers("operator")).json()
    assert (totals["active_campaigns"], totals["active_products"]) == (1, 1)
    assert (
        client.get("/v1/monetization/totals", headers=market.headers("creator1")).status_code == 403
    )


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/campaigns", campaign_body(budget_fen=0)),
        ("/v1/campaigns", campaign_body(billing="cpa")),
        ("/v1/campaigns", campaign_body(ends_at=(NOW - dt.timedelta(days=2)).isoformat())),
        ("/v1/campaigns", campaign_body(starts_at="2026-11-28T10:00:00")),
        ("/v1/campaigns", campaign_body(creative_url="javascript:alert(1)")),
        ("/v1/campaigns", campaign_body(target_stages=["legend"])),
        ("/v1/campaigns", campaign_body(min_followers=10, max_followers=5)),
        ("/v1/products", product_body(commission_bp=0)),
        ("/v1/products", product_body(price_fen=-5)),
        ("/v1/products", product_body(stock="many")),
    ],
)
def test_bad_input_is_a_problem_json_422(
    client: TestClient, market: Market, path: str, body: dict[str, object]
) -> None:
    who = "advertiser" if "campaigns" in path else "merchant"
    response = client.post(path, json=body, headers=market.headers(who))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:guanghe:problem:invalid-input"


def test_bad_authorisation_requests(client: TestClient, market: Market) -> None:
    creator = market.headers("creator1")
    assert (
        client.put("/v1/authorisations/1/tips", json={"granted": True}, headers=creator).status_code
        == 422
    )
    assert (
        client.put("/v1/authorisations/1/profile_ads", json={}, headers=creator).status_code == 422
    )
    assert client.get("/v1/profile-slots/0", headers=market.headers("ranker")).status_code == 422
    missing = client.get("/v1/profile-slots/999", headers=market.headers("ranker"))
    assert missing.status_code == 404
    assert client.get("/v1/profile-slots/1").status_code == 401


def test_a_write_another_site_sends_with_the_session_cookie_is_refused(
    client: TestClient, market: Market, runtime: Runtime
) -> None:
    path = "/v1/authorisations/1/profile_ads"
    with runtime.sessions() as session:
        before = monetize.authorisations(session, 1)
    body = {"granted": not before.profile_ads}
    client.cookies.set(SESSION_COOKIE, market.tokens["creator1"])
    forged = client.put(path, json=body, headers={"Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 403
    assert forged.headers["content-type"] == "application/problem+json"
    with runtime.sessions() as session:
        assert monetize.authorisations(session, 1) == before
    client.cookies.clear()
    # A caller that holds the token and sends it is no forgery, wherever its page is from.
    bearer = {**market.headers("creator1"), "Sec-Fetch-Site": "cross-site"}
    assert client.put(path, json=body, headers=bearer).status_code == 200
    assert client.put(path, json=body, headers=market.headers("creator1")).status_code == 200


def test_unregistered_advertisers_get_no_token(
    market: Market, token_for: Callable[..., str]
) -> None:
    with pytest.raises(NotFound, match="advertiser 99 does not exist"):
        token_for("advertiser", 99)


def test_products_api_round_trip(client: TestClient, market: Market, runtime: Runtime) -> None:
    created = client.post("/v1/products", json=product_body(), headers=market.headers("merchant"))
    assert created.status_code == 201
    product = created.json()
    assert product["commission_fen"] == 19_900 * 1_500 // 10_000
    patched = client.patch(
        f"/v1/products/{product['id']}",
        json={"price_fen": 9_900, "active": False},
        headers=market.headers("merchant"),
    ).json()
    assert (patched["price_fen"], patched["active"]) == (9_900, False)
    with runtime.sessions() as session:
        assert session.get_one(Product, product["id"]).price_fen == 9_900
