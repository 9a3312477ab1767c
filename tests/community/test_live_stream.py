"""The live room over HTTP: a vote cast through one server reaches a page streaming from
another server through Redis pub/sub (the real Redis at 127.0.0.1:6379), and does not without
it (each server's in-process feed alone: the control that shows the test can fail); a past
session's stream sends its snapshot and ends; bad input is a problem+json 4xx."""

from __future__ import annotations

import datetime as dt
import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest

from guanghe.api.routers import live as live_router
from guanghe.app import create_app
from guanghe.community import live_feed
from guanghe.runtime import Runtime
from tests.live import serve
from tests.seed import SeedPlatform

REDIS = "redis://127.0.0.1:6379/0"


def _events(
    url: str,
    token: str,
    into: queue.Queue[tuple[str, object]],
    *,
    until: str = "ended",
    within: float = 20.0,
) -> None:
    """Read the stream at ``url`` into ``into`` as (event, data) until it ends, an ``until``
    event arrives or ``within`` seconds pass (checked at each line: keep-alives come every
    ``KEEPALIVE_S``)."""
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + within
    with httpx.stream("GET", url, headers=headers, timeout=httpx.Timeout(10, read=30)) as reply:
        assert reply.status_code == 200, reply.read()
        event = ""
        for line in reply.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                into.put((event, json.loads(line[6:])))
                if event == until:
                    return
            if time.monotonic() > deadline:
                return


def _next(events: queue.Queue[tuple[str, object]], kind: str) -> object:
    while True:
        event, data = events.get(timeout=10)
        if event == kind:
            return data


def _session(base: str, operator: dict[str, str], *, hours_from_now: float) -> int:
    starts = dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours_from_now)
    body = {
        "topic": "Ask the operators",
        "host_creator_id": 2,
        "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(hours=2)).isoformat(),
        "capacity": 100,
    }
    made = httpx.post(f"{base}/v1/live/sessions", json=body, headers=operator)
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


Servers = Callable[[str | None], tuple[str, str]]


@pytest.fixture
def servers(runtime: Runtime) -> Iterator[Servers]:
    """Two servers over one store, fanning out through ``redis_url`` (None: in process)."""
    stack = ExitStack()

    def start(redis_url: str | None) -> tuple[str, str]:
        settings = runtime.settings.model_copy(
            update={"redis_url": redis_url, "rate_limit": "100000/second", "notify_in_serve": False}
        )
        first, second = (
            stack.enter_context(
                serve(create_app(stack.enter_context(Runtime(settings))), lifespan=True)
            )
            for _ in range(2)
        )
        return first, second

    try:
        yield start
    finally:
        stack.close()


def _vote_seen_elsewhere(
    servers: Servers,
    token_for: Callable[..., str],
    redis_url: str | None,
    *,
    within: float = 20.0,
) -> bool:
    """Whether a vote cast through one server reaches a page streaming from the other within
    ``within`` seconds of the page opening."""
    first, second = servers(redis_url)
    operator = {"Authorization": f"Bearer {token_for('operator')}"}
    creator1 = {"Authorization": f"Bearer {token_for('creator', 1)}"}
    sid = _session(first, operator, hours_from_now=-0.5)
    asked = httpx.post(
        f"{first}/v1/live/sessions/{sid}/questions", json={"body": "Covers?"}, headers=creator1
    )
    assert asked.status_code == 201, asked.text
    events: queue.Queue[tuple[str, object]] = queue.Queue()
    reader = threading.Thread(
        target=_events,
        args=(f"{second}/v1/live/sessions/{sid}/events", token_for("creator", 4), events),
        kwargs={"until": "question", "within": within},
        daemon=True,
    )
    reader.start()
    snapshot = _next(events, "snapshot")
    assert [(q["id"], q["votes"]) for q in snapshot] == [(asked.json()["id"], 0)]  # type: ignore[attr-defined]
    voted = httpx.put(
        f"{first}/v1/live/sessions/{sid}/questions/{asked.json()['id']}/vote", headers=creator1
    )
    assert voted.status_code == 200, voted.text
    assert voted.json()["votes"] == 1
    reader.join(timeout=30)
    seen = [data for event, data in events.queue if event == "question"]
    assert all(q["votes"] == 1 for q in seen)
    return bool(seen)


def test_a_vote_reaches_a_page_on_another_server_through_redis(
    servers: Servers,
    token_for: Callable[..., str],
    seed_platform: SeedPlatform,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Channels of this test's own: Redis pub/sub ignores the database number, and another
    # test running at once (``pytest -n``) publishes for the same session ids.
    monkeypatch.setattr(
        live_feed, "CHANNEL_PREFIX", f"{live_feed.CHANNEL_PREFIX}{uuid.uuid4().hex}:"
    )
    assert _vote_seen_elsewhere(servers, token_for, REDIS)


@pytest.mark.slow
def test_without_redis_another_server_does_not_see_the_vote(
    servers: Servers,
    token_for: Callable[..., str],
    seed_platform: SeedPlatform,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A vote crossing servers arrives within milliseconds (the Redis test); waiting 8 s for
    # one that must not, with a keep-alive every second so that the page stops reading then
    # (not at the next 15-second one), keeps this control from idling its worker for 30 s.
    monkeypatch.setattr(live_router, "KEEPALIVE_S", 1.0)
    assert not _vote_seen_elsewhere(servers, token_for, None, within=8.0)


def test_a_past_sessions_stream_ends_and_bad_input_is_a_problem(
    servers: Servers,
    token_for: Callable[..., str],
    seed_platform: SeedPlatform,
) -> None:
    base, _ = servers(None)
    operator = {"Authorization": f"Bearer {token_for('operator')}"}
    sid = _session(base, operator, hours_from_now=-5)
    events: queue.Queue[tuple[str, object]] = queue.Queue()
    _events(f"{base}/v1/live/sessions/{sid}/events", token_for("institution", 1), events)
    assert [e for e, _ in events.queue] == ["snapshot", "ended"]
    ranker = {"Authorization": f"Bearer {token_for('ranker')}"}
    refused = httpx.get(f"{base}/v1/live/sessions/{sid}/events", headers=ranker)
    assert refused.status_code == 403, refused.text
    missing = httpx.get(f"{base}/v1/live/sessions/987654/events", headers=operator)
    assert missing.status_code == 404, missing.text
    bad = httpx.post(
        f"{base}/v1/live/sessions",
        json={
            "topic": "x",
            "host_creator_id": 1,
            "starts_at": "2026-12-01T10:00:00",
            "ends_at": "soon",
            "capacity": 0,
        },
        headers=operator,
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    full = httpx.put(
        f"{base}/v1/live/sessions/{sid}/rsvp",
        headers={"Authorization": f"Bearer {token_for('creator', 1)}"},
    )
    assert full.status_code == 409, full.text
    assert full.json()["type"].endswith("conflict")
