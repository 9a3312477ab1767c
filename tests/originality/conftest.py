"""An app client over the seed platform, and a publishing helper."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from guanghe.app import create_app
from guanghe.runtime import Runtime
from tests.originality.pictures import encode
from tests.seed import SeedPlatform

Publish = Callable[..., httpx2.Response]


@pytest.fixture
def client(runtime: Runtime, seed_platform: SeedPlatform) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def publish(client: TestClient, token_for: Callable[..., str]) -> Publish:
    """``publish(creator_id, cover, title=…, token=…, frames=[(name, bytes)], path=…)``."""
    tokens: dict[int, str] = {}

    def post(
        creator_id: int,
        cover: Image.Image | bytes,
        *,
        title: str = "Street noodles at midnight",
        caption: str = "",
        hashtags: str = "#food #night",
        token: str | None = None,
        frames: list[tuple[str, bytes]] = (),  # type: ignore[assignment]
        path: str = "/v1/works",
    ) -> httpx2.Response:
        if token is None:
            tokens.setdefault(creator_id, token_for("creator", creator_id))
            token = tokens[creator_id]
        data = cover if isinstance(cover, bytes) else encode(cover)
        files: list[tuple[str, Any]] = [("cover", ("cover.png", data, "image/png"))]
        files += [("frames", (name, body, "application/octet-stream")) for name, body in frames]
        form = {
            "creator_id": str(creator_id),
            "title": title,
            "caption": caption,
            "hashtags": hashtags,
        }
        return client.post(
            path, data=form, files=files, headers={"Authorization": f"Bearer {token}"}
        )

    return post
