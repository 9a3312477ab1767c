"""The hotspots page: each hotspot of a vertical with its curve, and the calendar."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from guanghe import hotspots
from guanghe.access import Principal
from guanghe.app import create_app
from guanghe.runtime import Runtime
from tests.hotspots.conftest import BURST_TOPIC, NOW, add_works, count_and_detect
from tests.seed import SeedPlatform

OPERATOR = Principal(user_id=1, role="operator", subject_id=None)


@pytest.fixture
def client(runtime: Runtime, seed_platform: SeedPlatform) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


def test_the_page_shows_each_hotspot_with_its_curve_and_the_calendar(
    client: TestClient, runtime: Runtime, token_for: Callable[..., str]
) -> None:
    add_works(runtime)
    count_and_detect(runtime)
    today = dt.datetime.now(dt.UTC).date()
    spec = hotspots.EventSpec("Food week", "campaign", today, today + dt.timedelta(days=3))
    runtime.write(lambda s: hotspots.create_event(s, OPERATOR, spec, now=dt.datetime.now(dt.UTC)))
    client.post("/login", data={"token": token_for("creator", 1)})
    page = client.get("/dashboard/hotspots?vertical=food")
    assert page.status_code == 200
    assert f"#{BURST_TOPIC}" in page.text
    assert 'id="nav-hotspots"' in page.text
    start = page.text.index('id="chart-hotspot-1-data">') + len('id="chart-hotspot-1-data">')
    payload = json.loads(page.text[start : page.text.index("</script>", start)])
    assert len(payload["labels"]) == 72
    assert payload["datasets"][0]["data"][-1] > 0
    assert "Food week" in page.text
    gaming = client.get("/dashboard/hotspots?vertical=gaming")
    assert 'id="no-hotspots"' in gaming.text
    assert client.get("/dashboard/hotspots?vertical=mars").status_code == 422


def test_ended_hotspots_are_listed_under_the_active_ones(
    client: TestClient, runtime: Runtime, token_for: Callable[..., str]
) -> None:
    add_works(runtime)
    count_and_detect(runtime)
    count_and_detect(runtime, NOW + dt.timedelta(days=3))  # it ends
    client.post("/login", data={"token": token_for("institution", 1)})
    page = client.get("/dashboard/hotspots?vertical=food")
    assert page.status_code == 200
    assert 'id="no-hotspots"' in page.text
    ended = page.text[page.text.index('id="ended-hotspots"') :]
    assert f"#{BURST_TOPIC}" in ended[: ended.index("</section>")]
    gaming = client.get("/dashboard/hotspots?vertical=gaming")
    assert 'id="ended-hotspots"' not in gaming.text
    token = token_for("creator", 1)
    listed = client.get("/v1/hotspots?ended=true", headers={"Authorization": f"Bearer {token}"})
    assert [h["topic"] for h in listed.json()] == [BURST_TOPIC]
    assert [h["active"] for h in listed.json()] == [False]
    active = client.get("/v1/hotspots", headers={"Authorization": f"Bearer {token}"})
    assert active.json() == []
    bad = client.get(
        "/v1/hotspots?ended=maybe&limit=0", headers={"Authorization": f"Bearer {token}"}
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


def test_signed_out_visitors_go_to_login(client: TestClient) -> None:
    response = client.get("/dashboard/hotspots", follow_redirects=False)
    assert response.status_code == 303
