"""Request body limits per route (issue 16, defect 9): a body over its route's limit is a 413
problem, refused from its declared length before a byte is read, or cut off as it streams."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from guanghe.api.limits import DEFAULT_BODY_BYTES, LIST_BODY_BYTES, UPLOAD_BODY_BYTES
from guanghe.app import create_app
from guanghe.originality.images import MAX_IMAGE_BYTES, MAX_VIDEO_BYTES
from guanghe.runtime import Runtime
from tests.api.conftest import Parties, assert_problem, row_counts


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime)


def test_a_json_body_over_the_default_limit_is_413_and_writes_nothing(
    client: TestClient, runtime: Runtime, parties: Parties
) -> None:
    before = row_counts(runtime)
    body = {"name": "x" * (DEFAULT_BODY_BYTES + 1)}
    response = client.post("/v1/advertisers", json=body, headers=parties.headers("operator"))
    assert "bytes" in str(assert_problem(response, 413, "too-large")["detail"])
    assert row_counts(runtime) == before


def test_a_deliveries_list_has_its_own_larger_limit(client: TestClient, parties: Parties) -> None:
    deliveries = [
        {"delivery_id": f"d{n}-" + "x" * 100, "work_id": 100, "creator_id": 1, "impressions": 1}
        for n in range(1_000)
    ]
    content = json.dumps({"deliveries": deliveries}).encode()
    assert DEFAULT_BODY_BYTES < len(content) < LIST_BODY_BYTES
    accepted = client.post(
        "/v1/boost/deliveries",
        content=content,
        headers=parties.headers("ranker") | {"Content-Type": "application/json"},
    )
    assert accepted.status_code == 200, accepted.text
    padded = content[:-1] + b" " * LIST_BODY_BYTES + b"}"
    refused = client.post(
        "/v1/boost/deliveries",
        content=padded,
        headers=parties.headers("ranker") | {"Content-Type": "application/json"},
    )
    assert_problem(refused, 413, "too-large")


def test_work_uploads_are_sized_by_the_picture_rules() -> None:
    assert UPLOAD_BODY_BYTES > MAX_IMAGE_BYTES + MAX_VIDEO_BYTES
    assert UPLOAD_BODY_BYTES < 2 * (MAX_IMAGE_BYTES + MAX_VIDEO_BYTES)


def _call(
    app: FastAPI, path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]]
) -> tuple[int, dict[str, Any], int]:
    """Send ``chunks`` as a streamed body to ``app``; the status, the JSON answer and how
    many chunks the app asked for."""
    asked = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal asked
        asked += 1
        if asked <= len(chunks):
            return {"type": "http.request", "body": chunks[asked - 1], "more_body": True}
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        "state": {},
        "app": app,
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body), asked


@pytest.fixture
def started_app(app: FastAPI) -> Iterator[FastAPI]:
    with TestClient(app):
        yield app


def test_a_declared_length_over_the_limit_is_refused_before_reading(
    started_app: FastAPI,
) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(50 * 1024 * 1024).encode()),
    ]
    status, body, asked = _call(started_app, "/v1/advertisers", [b"{"], headers)
    assert (status, body["type"], asked) == (413, "urn:guanghe:problem:too-large", 0)


def test_a_streamed_body_is_cut_at_the_first_chunk_past_the_limit(started_app: FastAPI) -> None:
    chunk = b" " * 16_384
    chunks = [b"{"] + [chunk] * 3_200  # 50 MiB, chunked, no declared length
    headers = [(b"content-type", b"application/json")]
    status, body, asked = _call(started_app, "/v1/advertisers", chunks, headers)
    assert (status, body["type"]) == (413, "urn:guanghe:problem:too-large")
    assert asked <= DEFAULT_BODY_BYTES // len(chunk) + 2
