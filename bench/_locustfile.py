"""The traffic mix of ``python -m bench load`` for Locust: what the platform's callers send.

Read by ``locust -f`` in a process of its own; the platform's ids and tokens come from the JSON
file named by ``GUANGHE_LOAD_CONFIG`` (written by :mod:`bench.load`). Each simulated user sends
one request per second (``constant_throughput``), so the number of users is the offered rate.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

from locust import FastHttpUser, constant_throughput, task

CONFIG: dict[str, Any] = json.loads(Path(os.environ["GUANGHE_LOAD_CONFIG"]).read_text())


class PlatformCaller(FastHttpUser):
    """The feed ranker's boost calls, profile-page views, creator pages and publishing."""

    wait_time = constant_throughput(1)

    def on_start(self) -> None:
        self.rng = random.Random()
        self.ranker = {"Authorization": f"Bearer {CONFIG['ranker_token']}"}
        self.operator = {"Authorization": f"Bearer {CONFIG['operator_token']}"}

    @task(50)
    def boost(self) -> None:
        """A ranker batch of 20 candidates, most from the day's plan."""
        pairs = self.rng.sample(CONFIG["candidates"], 20)
        body = {"candidates": [{"work_id": w, "creator_id": c} for w, c in pairs]}
        self.client.post("/v1/boost", json=body, headers=self.ranker, name="POST /v1/boost")

    @task(30)
    def profile_slot(self) -> None:
        creator = self.rng.choice(CONFIG["creators"])
        self.client.get(
            f"/v1/profile-slots/{creator}", headers=self.ranker, name="GET /v1/profile-slots/{id}"
        )

    @task(15)
    def creator_page(self) -> None:
        creator = self.rng.choice(CONFIG["creators"])
        self.client.get(
            f"/v1/creators/{creator}", headers=self.operator, name="GET /v1/creators/{id}"
        )

    @task(5)
    def publish(self) -> None:
        """A creator publishes a work with a cover of their own."""
        creator, token = self.rng.choice(CONFIG["publishers"])
        cover = COVERS[self.rng.randrange(len(COVERS))]
        fields = {"creator_id": str(creator), "title": f"load {self.rng.random():.9f}"}
        client: Any = self.client  # sends bytes as they are; its stub says str or dict
        client.post(
            "/v1/works",
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            },
            data=multipart(fields, cover),
            name="POST /v1/works",
        )


BOUNDARY = "guanghe-load-boundary"
COVERS = [Path(path).read_bytes() for path in CONFIG["covers"]]


def multipart(fields: dict[str, str], cover: bytes) -> bytes:
    """A ``multipart/form-data`` body of ``fields`` and a JPEG ``cover`` (FastHttpUser sends
    bytes, not files)."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="cover"; filename="cover.jpg"'
        "\r\nContent-Type: image/jpeg\r\n\r\n".encode()
        + cover
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    return b"".join(parts)
