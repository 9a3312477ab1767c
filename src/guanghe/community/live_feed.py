"""Live-room updates fanned out to the open pages: Server-Sent Events frames, one queue per
open page, and across server processes through Redis pub/sub.

:class:`LocalLiveFeed` (the embedded default) hands a published frame to this process's open
pages. :class:`RedisLiveFeed` (``GUANGHE_REDIS_URL`` set) publishes it to the Redis channel
``guanghe:live:<session id>``; every server process holds one pattern subscription and hands
what arrives to its own pages, its own publications included, so a vote taken by any process
reaches every page. Frames are published after the write commits (the edge does it), so no
page sees a change that was rolled back.

A page that cannot keep up (:data:`QUEUE_FRAMES` frames behind), or whose process lost its
Redis subscription for a while, is told to ``resync``: its stream ends and the browser's
``EventSource`` reconnects, receiving a fresh snapshot first.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Final

import redis.asyncio as aioredis

CHANNEL_PREFIX: Final = "guanghe:live:"
#: Frames one page may fall behind before it is told to resync.
QUEUE_FRAMES: Final = 256
#: Back-off between attempts to get the Redis subscription back.
RESUBSCRIBE_S: Final = 0.5

_log = logging.getLogger(__name__)


def sse_frame(event: str, data: Any) -> str:
    """One Server-Sent Events frame: ``event`` and ``data`` as one line of JSON."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'), default=str)}\n\n"


@dataclass(eq=False)
class Subscription:
    """One open page's queue of frames; ``behind`` once it missed some."""

    session_id: int
    frames: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(QUEUE_FRAMES))
    behind: bool = False

    def offer(self, frame: str) -> None:
        if self.behind:
            return
        try:
            self.frames.put_nowait(frame)
        except asyncio.QueueFull:
            self.behind = True


class LocalLiveFeed:
    """Fan-out to the open pages of this process."""

    def __init__(self) -> None:
        self._pages: dict[int, set[Subscription]] = {}

    @asynccontextmanager
    async def subscribe(self, session_id: int) -> AsyncIterator[Subscription]:
        """A queue receiving every frame published for ``session_id`` from now on."""
        await self._ready()
        page = Subscription(session_id)
        self._pages.setdefault(session_id, set()).add(page)
        try:
            yield page
        finally:
            pages = self._pages.get(session_id, set())
            pages.discard(page)
            if not pages:
                self._pages.pop(session_id, None)

    async def publish(self, session_id: int, frame: str) -> None:
        """Hand ``frame`` to every open page of ``session_id``."""
        self.deliver(session_id, frame)

    def deliver(self, session_id: int, frame: str) -> None:
        for page in self._pages.get(session_id, ()):
            page.offer(frame)

    def open_pages(self) -> int:
        """How many pages this process is streaming to."""
        return sum(len(p) for p in self._pages.values())

    def mark_all_behind(self) -> None:
        for pages in self._pages.values():
            for page in pages:
                page.behind = True

    async def _ready(self) -> None:
        return None

    async def close(self) -> None:
        """Nothing to release in process."""
        return


class RedisLiveFeed(LocalLiveFeed):
    """Fan-out through Redis pub/sub, across every server process using ``url``."""

    def __init__(self, url: str, *, timeout_s: float = 1.0) -> None:
        super().__init__()
        self._url = url
        self._timeout_s = timeout_s
        self._client: aioredis.Redis | None = None
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            self._client = aioredis.Redis.from_url(
                self._url,
                socket_connect_timeout=self._timeout_s,
                decode_responses=True,
            )
        return self._client

    async def publish(self, session_id: int, frame: str) -> None:
        """Publish ``frame`` to every process (this one too, through its subscription)."""
        async with asyncio.timeout(self._timeout_s):
            await self._redis().publish(f"{CHANNEL_PREFIX}{session_id}", frame)

    async def _ready(self) -> None:
        """Start this process's subscription on first use and wait until it holds."""
        if self._listener is None or self._listener.done():
            self._subscribed.clear()
            self._listener = asyncio.create_task(self._listen(), name="live-feed-redis")
        async with asyncio.timeout(self._timeout_s * 5):
            await self._subscribed.wait()

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis().pubsub()
            try:
                await pubsub.psubscribe(f"{CHANNEL_PREFIX}*")
                self._subscribed.set()
                async for message in pubsub.listen():
                    if message["type"] == "pmessage":
                        channel = str(message["channel"])
                        self.deliver(int(channel[len(CHANNEL_PREFIX) :]), str(message["data"]))
            except (OSError, ConnectionError, aioredis.RedisError) as exc:
                _log.warning("live feed lost its Redis subscription: %s", exc)
                self._subscribed.clear()
                self.mark_all_behind()
                await asyncio.sleep(RESUBSCRIBE_S)
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        """Stop the subscription and release the connections."""
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener
        if self._client is not None:
            await self._client.aclose()


def make_live_feed(redis_url: str | None) -> LocalLiveFeed:
    """Redis fan-out when ``redis_url`` is set, in-process otherwise."""
    return RedisLiveFeed(redis_url) if redis_url else LocalLiveFeed()
