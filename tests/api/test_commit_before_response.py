"""A write is committed before its response is sent: a client never hears 201 of a write the
store refused at commit, and the page a dashboard redirect leads to reads the write."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.types import Message, Receive, Scope, Send

from guanghe.app import create_app
from guanghe.runtime import Runtime
from tests.api.conftest import Parties, assert_problem, row_counts
from tests.api.test_hotspots_api import EVENT


def _refuse(session: Session) -> None:
    """Fail a commit as a store that went away at that moment would."""
    raise OperationalError("COMMIT", {}, ConnectionError("server closed the connection"))


def test_a_write_the_store_refuses_at_commit_is_a_problem_not_a_201(
    client: TestClient, parties: Parties, runtime: Runtime
) -> None:
    before = row_counts(runtime)
    sa.event.listen(runtime.sessions, "before_commit", _refuse)
    try:
        response = client.post(
            "/v1/calendar/events", json=EVENT, headers=parties.headers("operator")
        )
    finally:
        sa.event.remove(runtime.sessions, "before_commit", _refuse)
    assert_problem(response, 503, "unavailable")
    assert row_counts(runtime) == before


def test_the_response_goes_out_after_the_commit(runtime: Runtime, parties: Parties) -> None:
    order: list[str] = []
    app = create_app(runtime)

    async def recording(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_recorded(message: Message) -> None:
            if message["type"] == "http.response.start":
                order.append("response")
            await send(message)

        await app(scope, receive, send_recorded)

    sa.event.listen(runtime.sessions, "after_commit", lambda session: order.append("commit"))
    with TestClient(recording) as client:
        response = client.post(
            "/v1/calendar/events", json=EVENT, headers=parties.headers("operator")
        )
    assert response.status_code == 201, response.text
    assert order == ["commit", "response"]
