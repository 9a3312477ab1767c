"""``/v1/community/...`` over HTTP: post, reply, mention, search, report, moderate; bad input
is a 4xx problem that writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from guanghe.runtime import Runtime
from tests.api.conftest import Parties, assert_problem, row_counts


def _open(client: TestClient, parties: Parties) -> dict[str, Any]:
    board = client.post(
        "/v1/community/boards",
        json={"slug": "food", "title": "Food", "vertical": "food"},
        headers=parties.headers("operator"),
    )
    assert board.status_code == 201, board.text
    opened = client.post(
        f"/v1/community/boards/{board.json()['id']}/threads",
        json={"title": "冬至饺子怎么拍", "body": "求**灯光**建议 @creator2"},
        headers=parties.headers("creator1"),
    )
    assert opened.status_code == 201, opened.text
    body: dict[str, Any] = opened.json()
    return body


def test_post_reply_search_report_and_hide(client: TestClient, parties: Parties) -> None:
    opened = _open(client, parties)
    thread, first = opened["thread"]["id"], opened["post"]["id"]
    assert opened["post"]["body_html"] == "<p>求<strong>灯光</strong>建议 @creator2</p>\n"
    inbox = client.get("/v1/creators/2/inbox", headers=parties.headers("creator2")).json()
    assert [n["kind"] for n in inbox["items"]] == ["community_mention"]
    reply = client.post(
        f"/v1/community/threads/{thread}/posts",
        json={"body": "用暖光，侧逆光拍蒸汽", "reply_to_id": first},
        headers=parties.headers("creator2"),
    )
    assert reply.status_code == 201, reply.text
    official = client.post(
        f"/v1/community/threads/{thread}/posts",
        json={"body": "官方教程见学习中心", "official": True},
        headers=parties.headers("operator"),
    )
    assert official.json()["official"] is True
    found = client.get(
        "/v1/community/search", params={"q": "侧逆光"}, headers=parties.headers("creator3")
    )
    assert [h["post_id"] for h in found.json()["items"]] == [reply.json()["id"]]
    report = client.post(
        f"/v1/community/posts/{reply.json()['id']}/reports",
        json={"reason": "off topic"},
        headers=parties.headers("creator3"),
    )
    assert report.status_code == 201, report.text
    reports = client.get("/v1/community/reports", headers=parties.headers("operator")).json()
    assert [r["id"] for r in reports["items"]] == [report.json()["id"]]
    hidden = client.post(
        f"/v1/community/posts/{reply.json()['id']}/hide",
        json={"reason": "off topic"},
        headers=parties.headers("operator"),
    )
    assert hidden.json()["action"] == "hide_post"
    page = client.get(f"/v1/community/threads/{thread}", headers=parties.headers("creator3"))
    assert [p["author"] for p in page.json()["posts"]] == ["@creator1", "Guanghe operations"]
    assert page.json()["thread"]["answered"] is True
    again = client.get(
        "/v1/community/search", params={"q": "侧逆光"}, headers=parties.headers("creator3")
    )
    assert again.json()["items"] == []
    log = client.get("/v1/community/moderation-log", headers=parties.headers("operator"))
    assert [(e["action"], e["reason"]) for e in log.json()["items"]] == [("hide_post", "off topic")]


def test_a_suspended_creators_post_is_refused(client: TestClient, parties: Parties) -> None:
    thread = _open(client, parties)["thread"]["id"]
    suspended = client.post(
        "/v1/community/members/2/suspensions",
        json={"hours": 24, "reason": "harassment"},
        headers=parties.headers("operator"),
    )
    assert suspended.status_code == 201, suspended.text
    refused = client.post(
        f"/v1/community/threads/{thread}/posts",
        json={"body": "hello"},
        headers=parties.headers("creator2"),
    )
    body = assert_problem(refused, 403, "forbidden")
    assert "harassment" in str(body["detail"])
    member = client.get("/v1/community/members/2", headers=parties.headers("creator2")).json()
    assert member["suspension"]["reason"] == "harassment"
    assert member["trust"]["name"] == "newcomer"  # a suspension costs a level


def test_flooding_is_a_429_with_retry_after(client: TestClient, parties: Parties) -> None:
    thread = _open(client, parties)["thread"]["id"]
    statuses = [
        client.post(
            f"/v1/community/threads/{thread}/posts",
            json={"body": f"post {n}"},
            headers=parties.headers("creator2"),
        ).status_code
        for n in range(21)
    ]
    assert statuses == [201] * 20 + [429]
    refused = client.post(
        f"/v1/community/threads/{thread}/posts",
        json={"body": "more"},
        headers=parties.headers("creator2"),
    )
    assert_problem(refused, 429, "too-many-requests")
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600


@pytest.mark.parametrize(
    ("method", "path", "json", "params", "status"),
    [
        ("POST", "/v1/community/threads/{thread}/posts", {"body": ""}, {}, 422),
        ("POST", "/v1/community/threads/{thread}/posts", {"body": "a\x00"}, {}, 422),
        ("POST", "/v1/community/threads/{thread}/posts", {"body": "   "}, {}, 422),
        ("POST", "/v1/community/threads/{thread}/posts", {"body": "x" * 10_001}, {}, 422),
        ("POST", "/v1/community/threads/{thread}/posts", {"body": "x", "official": 1}, {}, 422),
        ("POST", "/v1/community/threads/{thread}/posts", {"body": "x", "reply_to_id": 0}, {}, 422),
        ("POST", "/v1/community/threads/{thread}/posts", {"body": "x", "reply_to_id": 9}, {}, 422),
        ("POST", "/v1/community/threads/987654/posts", {"body": "x"}, {}, 404),
        ("POST", "/v1/community/threads/99999999999999999999/posts", {"body": "x"}, {}, 422),
        ("POST", "/v1/community/boards/{board}/threads", {"title": " ", "body": "x"}, {}, 422),
        ("POST", "/v1/community/posts/{post}/reactions", {"kind": "boo"}, {}, 422),
        ("POST", "/v1/community/posts/{post}/reports", {"reason": ""}, {}, 422),
        ("GET", "/v1/community/search", None, {"q": "。。"}, 422),
        ("GET", "/v1/community/search", None, {"q": "x", "cursor": "!!"}, 422),
        ("GET", "/v1/community/search", None, {"q": "x", "cursor": "bm9wZQ"}, 422),
        ("GET", "/v1/community/search", None, {"q": "x", "limit": 0}, 422),
        ("GET", "/v1/community/threads/{thread}", None, {"cursor": "WyJ4Il0"}, 422),
        ("GET", "/v1/community/boards/{board}/threads", None, {"cursor": "WzFd"}, 422),
        ("GET", "/v1/community/boards/{board}/threads", None, {"cursor": "WyJ4IiwxXQ"}, 422),
    ],
)
def test_bad_input_is_a_problem_and_writes_nothing(
    client: TestClient,
    parties: Parties,
    runtime: Runtime,
    method: str,
    path: str,
    json: dict[str, Any] | None,
    params: dict[str, Any],
    status: int,
) -> None:
    opened = _open(client, parties)
    ids = {"thread": opened["thread"]["id"], "board": opened["thread"]["board_id"]}
    ids["post"] = opened["post"]["id"]
    before = row_counts(runtime)
    response = client.request(
        method,
        path.format(**ids),
        json=json,
        params=params,
        headers=parties.headers("creator2"),
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert row_counts(runtime) == before
