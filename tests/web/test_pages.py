"""Dashboard pages through the ASGI app: sign-in, redirects, role scoping, fragments, assets."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from guanghe import monetize
from guanghe.app import create_app
from guanghe.http.deps import SESSION_COOKIE
from guanghe.monetize.parties import register_party
from guanghe.runtime import Runtime
from guanghe.web import STATIC_DIR, dashboard
from tests.conftest import NOW
from tests.seed import SeedPlatform


@pytest.fixture
def client(runtime: Runtime, seed_platform: SeedPlatform) -> Iterator[TestClient]:
    app = create_app(runtime)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as test_client:
        yield test_client


def sign_in(client: TestClient, token: str) -> None:
    assert client.post("/login", data={"token": token}).status_code == 303


def handles(html: str) -> set[str]:
    return set(re.findall(r"@(creator\d+)", html))


def test_login_form_renders(client: TestClient) -> None:
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="token"' in response.text
    assert response.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("token", ["gh_not-a-real-token", "", "x" * 5_000])
def test_bad_token_gets_the_form_again_with_401(client: TestClient, token: str) -> None:
    response = client.post("/login", data={"token": token})
    assert response.status_code == 401
    assert 'role="alert"' in response.text
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_missing_token_field_is_a_401_page(client: TestClient) -> None:
    response = client.post("/login")
    assert response.status_code == 401
    assert "Enter your API token." in response.text


def test_good_token_sets_an_httponly_lax_cookie(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    token = token_for("operator")
    response = client.post("/login", data={"token": token})
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}={token}")
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    assert client.get("/").headers["location"] == "/dashboard"
    assert client.get("/dashboard").status_code == 200


def test_logout_clears_the_cookie(client: TestClient, token_for: Callable[..., str]) -> None:
    sign_in(client, token_for("operator"))
    response = client.post("/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert f'{SESSION_COOKIE}=""' in response.headers["set-cookie"]
    assert client.get("/dashboard").headers["location"] == "/login"


CROSS_SITE = {"Sec-Fetch-Site": "cross-site"}


def test_a_sign_in_posted_from_another_site_is_refused(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    token = token_for("operator")
    response = client.post("/login", data={"token": token}, headers=CROSS_SITE)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "set-cookie" not in response.headers
    same_origin = client.post(
        "/login", data={"token": token}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert same_origin.status_code == 303


def test_a_sign_out_posted_from_a_sibling_site_is_refused(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    sign_in(client, token_for("operator"))
    response = client.post("/logout", headers={"Sec-Fetch-Site": "same-site"})
    assert response.status_code == 403
    assert client.get("/dashboard").status_code == 200


def test_an_authorisation_toggled_from_another_site_changes_nothing(
    client: TestClient, runtime: Runtime, token_for: Callable[..., str]
) -> None:
    sign_in(client, token_for("creator", 3))
    with runtime.sessions() as session:
        before = monetize.authorisations(session, 3)
    path = "/dashboard/authorisations/profile_ads"
    refused = client.post(path, data={"granted": str(not before.profile_ads)}, headers=CROSS_SITE)
    assert refused.status_code == 403
    with runtime.sessions() as session:
        assert monetize.authorisations(session, 3) == before
    assert client.post(path, data={"granted": str(not before.profile_ads)}).status_code == 303
    with runtime.sessions() as session:
        assert monetize.authorisations(session, 3).profile_ads is not before.profile_ads


@pytest.mark.parametrize("path", ["/", "/dashboard"])
def test_unauthenticated_pages_redirect_to_login(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


def test_stale_cookie_redirects_and_is_dropped(client: TestClient) -> None:
    client.cookies.set(SESSION_COOKIE, "gh_revoked-long-ago")
    response = client.get("/dashboard")
    assert response.headers["location"] == "/login"
    assert SESSION_COOKIE in response.headers["set-cookie"]


def test_unauthenticated_fragment_asks_htmx_to_redirect(client: TestClient) -> None:
    response = client.get("/dashboard/creators")
    assert response.status_code == 401
    assert response.headers["hx-redirect"] == "/login"


def test_operator_dashboard(client: TestClient, token_for: Callable[..., str]) -> None:
    sign_in(client, token_for("operator"))
    html = client.get("/dashboard").text
    assert re.search(r'id="total-creators".*?>6<', html)
    assert re.search(r'id="total-works".*?>20<', html)
    stages = re.search(r'id="chart-stages-data">(.*?)</script>', html, re.S)
    assert stages is not None
    payload = json.loads(stages.group(1))
    assert payload["labels"] == ["Food", "Gaming", "Comedy"]
    assert sum(sum(d["data"]) for d in payload["datasets"]) == 6
    assert 'id="chart-works"' in html
    assert handles(html) == {f"creator{i}" for i in range(1, 7)}


def test_creators_fragment_filters_and_pages(
    client: TestClient, token_for: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_in(client, token_for("operator"))
    food = client.get("/dashboard/creators", params={"vertical": "food"}).text
    assert handles(food) == {"creator1", "creator2"}
    assert "<html" not in food
    mature = client.get("/dashboard/creators", params={"stage": "mature"}).text
    assert handles(mature) == {"creator3", "creator6"}
    monkeypatch.setattr(dashboard, "PAGE_SIZE", 4)
    first = client.get("/dashboard/creators").text
    assert handles(first) == {"creator1", "creator2", "creator3", "creator4"}
    more = re.search(r'hx-get="([^"]+)"', first)
    assert more is not None
    rest = client.get(more.group(1).replace("&amp;", "&")).text
    assert handles(rest) == {"creator5", "creator6"}
    assert "hx-get" not in rest


@pytest.mark.parametrize(
    "params", [{"stage": "legendary"}, {"vertical": "no such"}, {"cursor": "%%%"}]
)
def test_bad_filters_are_422_not_500(
    client: TestClient, token_for: Callable[..., str], params: dict[str, str]
) -> None:
    sign_in(client, token_for("operator"))
    assert client.get("/dashboard/creators", params=params).status_code == 422


def test_creator_sees_only_itself(client: TestClient, token_for: Callable[..., str]) -> None:
    sign_in(client, token_for("creator", 3))
    html = client.get("/dashboard").text
    assert handles(html) == {"creator3"}
    assert 'id="chart-works"' in html
    assert 'id="chart-stages"' not in html
    assert handles(client.get("/dashboard/creators").text) == {"creator3"}


def test_institution_sees_its_creators(client: TestClient, token_for: Callable[..., str]) -> None:
    sign_in(client, token_for("institution", 2))
    html = client.get("/dashboard").text
    assert handles(html) == {"creator3", "creator5"}
    assert re.search(r'id="total-creators".*?>2<', html)
    assert 'id="institution-level"' in html  # not judged yet: no cycle ran
    assert "Level not judged yet" in html
    assert 'id="institution-support"' in html


@pytest.mark.parametrize("role", ["advertiser", "merchant", "ranker", "agent"])
def test_other_roles_see_their_capabilities_only(
    client: TestClient, runtime: Runtime, token_for: Callable[..., str], role: str
) -> None:
    subject = None
    if role in {"advertiser", "merchant"}:
        subject = runtime.write(lambda s: register_party(s, role, "Acme", now=NOW).id)
    elif role == "agent":
        subject = 1  # an agent of institution 1
    sign_in(client, token_for(role, subject))
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert 'id="capabilities"' in response.text
    assert handles(response.text) == set()
    assert client.get("/dashboard/creators").status_code == 403


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        ("/static/vendor/htmx.min.js", "htmx"),
        ("/static/vendor/chart.umd.js", "Chart.js v4"),
        ("/static/dashboard.js", "data-chart"),
        ("/static/dashboard.css", ".stat"),
    ],
)
def test_static_files_are_served_locally(client: TestClient, path: str, needle: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert needle in response.text


def test_vendored_libraries_carry_their_licences() -> None:
    vendor = STATIC_DIR / "vendor"
    assert "Zero-Clause BSD" in (vendor / "htmx.LICENSE").read_text()
    assert "MIT" in (vendor / "chart.js.LICENSE.md").read_text()
