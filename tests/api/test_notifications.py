"""The notification endpoints: a creator's own inbox and settings, another tenant's, other
roles, no token and nonsense input; the operators' dead-letter list and replay."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from guanghe.notifications import NoticeDraft, notify_many
from guanghe.runtime import Runtime
from guanghe.store import NoticeDelivery
from tests.api.conftest import Parties

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
SETTINGS: dict[str, Any] = {
    "channels": {"payout": ["inbox", "webhook"], "task": ["email"]},
    "timezone": "Asia/Shanghai",
    "quiet_start_minute": 22 * 60,
    "quiet_end_minute": 7 * 60,
    "digest": False,
    "webhook_url": "https://hooks.example.test/guanghe",
    "webhook_secret": "s" * 24,
    "email": "creator1@example.test",
}


def write_notices(runtime: Runtime, creator_id: int, count: int) -> list[int]:
    drafts = [
        NoticeDraft(creator_id, "payout", f"Paid {n}", "", f"payout:{n}", {"n": n})
        for n in range(count)
    ]
    return runtime.write(lambda s: notify_many(s, drafts, now=NOW))


def test_a_creator_reads_and_pages_their_inbox(
    client: TestClient, parties: Parties, runtime: Runtime
) -> None:
    ids = write_notices(runtime, 1, 3)
    first = client.get("/v1/creators/1/inbox?limit=2", headers=parties.headers("creator1"))
    assert first.status_code == 200
    page = first.json()
    assert [n["id"] for n in page["items"]] == ids[::-1][:2]
    assert page["unread"] == 3
    rest = client.get(
        f"/v1/creators/1/inbox?limit=2&cursor={page['next_cursor']}",
        headers=parties.headers("creator1"),
    ).json()
    assert [n["id"] for n in rest["items"]] == [ids[0]]
    read = client.post(f"/v1/creators/1/inbox/{ids[0]}/read", headers=parties.headers("creator1"))
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    unread = client.get(
        "/v1/creators/1/inbox?unread_only=true", headers=parties.headers("operator")
    )
    assert unread.json()["unread"] == 2


@pytest.mark.parametrize(
    ("who", "status"), [("creator2", 403), ("advertiser", 403), ("ranker", 403), (None, 401)]
)
def test_others_cannot_see_an_inbox_or_settings(
    client: TestClient, parties: Parties, runtime: Runtime, who: str | None, status: int
) -> None:
    (notice,) = write_notices(runtime, 1, 1)
    headers = parties.headers(who) if who else {}
    for response in (
        client.get("/v1/creators/1/inbox", headers=headers),
        client.post(f"/v1/creators/1/inbox/{notice}/read", headers=headers),
        client.get("/v1/creators/1/notification-settings", headers=headers),
        client.put("/v1/creators/1/notification-settings", json=SETTINGS, headers=headers),
    ):
        assert response.status_code == status, response.text
        assert response.headers["content-type"] == "application/problem+json"


def test_another_creators_notice_is_not_found(
    client: TestClient, parties: Parties, runtime: Runtime
) -> None:
    (notice,) = write_notices(runtime, 2, 1)
    response = client.post(
        f"/v1/creators/1/inbox/{notice}/read", headers=parties.headers("creator1")
    )
    assert response.status_code == 404


def test_settings_round_trip_without_the_secret(client: TestClient, parties: Parties) -> None:
    headers = parties.headers("creator1")
    default = client.get("/v1/creators/1/notification-settings", headers=headers).json()
    assert default["channels"]["payout"] == ["inbox"]
    saved = client.put("/v1/creators/1/notification-settings", json=SETTINGS, headers=headers)
    assert saved.status_code == 200, saved.text
    again = client.get("/v1/creators/1/notification-settings", headers=headers).json()
    assert again == saved.json()
    assert "webhook_secret" not in again
    assert again["webhook_secret_set"] is True
    assert again["channels"]["payout"] == ["inbox", "webhook"]
    kept = client.put(
        "/v1/creators/1/notification-settings",
        json={k: v for k, v in SETTINGS.items() if k != "webhook_secret"},
        headers=headers,
    )
    assert kept.json()["webhook_secret_set"] is True


@pytest.mark.parametrize(
    "change",
    [
        {"webhook_url": "https://user:pw@hooks.example.test/x"},
        {"webhook_url": "ftp://hooks.example.test/x"},
        {"webhook_url": "not a url"},
        {"webhook_url": "https://hooks.example.test:99999/x"},
        {"webhook_secret": "short"},
        {"timezone": "Mars/Olympus"},
        {"quiet_start_minute": 1440},
        {"quiet_start_minute": "10"},
        {"digest": 1},
        {"channels": {"payout": ["pager"]}},
        {"channels": {"gossip": ["inbox"]}},
        {"email": "no-at-sign"},
        {"email": "a@b\u0000c"},
    ],
)
def test_nonsense_settings_are_422(
    client: TestClient, parties: Parties, change: dict[str, Any]
) -> None:
    headers = parties.headers("creator1")
    response = client.put(
        "/v1/creators/1/notification-settings", json={**SETTINGS, **change}, headers=headers
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    after = client.get("/v1/creators/1/notification-settings", headers=headers).json()
    assert after["webhook_url"] is None  # nothing written


def test_a_webhook_needs_a_secret(client: TestClient, parties: Parties) -> None:
    body = {k: v for k, v in SETTINGS.items() if k != "webhook_secret"}
    response = client.put(
        "/v1/creators/1/notification-settings", json=body, headers=parties.headers("creator1")
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        "/v1/creators/0/inbox",
        "/v1/creators/x/inbox",
        "/v1/creators/1/inbox?limit=0",
        "/v1/creators/1/inbox?cursor=!!",
        "/v1/creators/1/inbox?cursor=bm9wZQ",
    ],
)
def test_nonsense_paths_are_422(client: TestClient, parties: Parties, path: str) -> None:
    response = client.get(path, headers=parties.headers("operator"))
    assert response.status_code == 422, response.text


def test_an_operator_asking_for_an_unknown_creator_gets_404(
    client: TestClient, parties: Parties
) -> None:
    response = client.get("/v1/creators/999/inbox", headers=parties.headers("operator"))
    assert response.status_code == 404


def test_operators_list_and_replay_dead_letters(
    client: TestClient, parties: Parties, runtime: Runtime
) -> None:
    client.put(
        "/v1/creators/1/notification-settings", json=SETTINGS, headers=parties.headers("creator1")
    )
    (notice,) = write_notices(runtime, 1, 1)

    def kill(session: sa.orm.Session) -> None:
        session.execute(
            sa.update(NoticeDelivery).values(status="dead", attempts=8, last_error="500")
        )

    runtime.write(kill)
    for who in ("creator1", "institution"):
        if who in parties.tokens:
            denied = client.get("/v1/notifications/dead-letters", headers=parties.headers(who))
            assert denied.status_code == 403
    listed = client.get("/v1/notifications/dead-letters", headers=parties.headers("operator"))
    assert [d["notice_id"] for d in listed.json()["items"]] == [notice]
    assert (
        client.post(
            f"/v1/notifications/dead-letters/{notice}/replay", headers=parties.headers("creator1")
        ).status_code
        == 403
    )
    replayed = client.post(
        f"/v1/notifications/dead-letters/{notice}/replay", headers=parties.headers("operator")
    )
    assert replayed.status_code == 200
    assert len(replayed.json()["delivery_ids"]) == 1
    again = client.post(
        f"/v1/notifications/dead-letters/{notice}/replay", headers=parties.headers("operator")
    )
    assert again.status_code == 404
