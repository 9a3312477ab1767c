"""The community's thread page and search over HTTP at a fixed request rate, with many posts.

``python -m bench community [--posts N] [--rate R] [--seconds S] [--warmup W]
[--database-url URL] [--connections C] [--seed K]``

Fills a fresh store (a temporary SQLite file, or the PostgreSQL database given, which must be
empty) with 5,000 creators, a board per vertical, ``--posts`` posts (default 1,000,000) in
threads of 1 to 40 posts; bodies are drawn from a few hundred Chinese and English texts,
rendered and segmented once each (:func:`guanghe.community.render_markdown`,
:func:`guanghe.community.index_tokens`), and bulk-inserted with the search index built after
the load (the FTS5 table on SQLite; on PostgreSQL the GIN index is dropped for the load and
made again, then the tables vacuumed and analysed). Then starts ``guanghe serve`` in a
subprocess and sends, on an open-loop schedule of ``--rate`` requests per second, first
``GET /v1/community/threads/{id}`` for random threads, then
``GET /v1/community/search?q=...`` for words of the texts (common and rare), measuring each
after ``--warmup`` seconds at the rate. Latency is measured from each request's
scheduled time (no coordinated omission). Prints p50/p90/p99/max per request kind side by side.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np

from bench._http import open_loop

CREATORS: Final = 5_000
CHUNK: Final = 20_000
SUBJECTS: Final = (
    "完播率",
    "封面",
    "直播带货",
    "涨粉",
    "选品",
    "灯光",
    "剪辑节奏",
    "原创保护",
    "任务中心",
    "流量扶持",
    "cover",
    "lighting",
    "schedule",
    "editing",
    "livestream",
    "hashtags",
)
OPENERS: Final = (
    "大家好，我想请教一下{s}的问题。",
    "I have a question about {s} for my channel.",
    "做了三个月，{s}一直上不去，怎么办？",
    "Sharing what worked for me with {s}:",
    "新人求助：{s}有什么技巧？",
)
DETAILS: Final = (
    "前三秒直接给结果，别铺垫。",
    "坚持每天同一时间更新，粉丝会记住。",
    "**高饱和度**的颜色加大字标题效果最好。",
    "Natural light from a window beats a cheap ring light.",
    "Cut every pause longer than half a second.",
    "第{n}天终于有了起色，播放量翻了一倍。",
    "I tried {n} variations and kept the two best.",
    "可以参考成长中心的新手课程。",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench community")
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)

    import httpx

    from guanghe.access import create_token
    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.store import transaction

    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory(prefix="guanghe-community-") as data_dir:
        settings = Settings(data_dir=Path(data_dir), database_url=args.database_url)
        with Runtime(settings) as runtime:
            runtime.init()
            started = time.perf_counter()
            threads = _fill(runtime, rng, args.posts)
            filled_s = time.perf_counter() - started
            with transaction(runtime.sessions) as session:
                _, token = create_token(
                    session, role="creator", subject_id=1, name="bench", now=dt.datetime.now(dt.UTC)
                )
        backend = "PostgreSQL" if args.database_url else "SQLite"
        print(
            f"{backend}: {args.posts:,} posts in {threads:,} threads written and indexed in "
            f"{filled_s:.0f} s"
        )
        port = _free_port()
        env = {
            **os.environ,
            "GUANGHE_DATA_DIR": data_dir,
            "GUANGHE_DATABASE_URL": args.database_url,
        }
        command = [sys.executable, "-m", "guanghe", "serve", "--port", str(port)]
        log = (Path(data_dir) / "server.log").open("w")
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 240  # a loaded machine starts slowly
            while True:
                try:
                    httpx.get(base + "/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        print((Path(data_dir) / "server.log").read_text(), file=sys.stderr)
                        raise
                    time.sleep(0.2)
            pages = _load(base, token, args, lambda i: f"/v1/community/threads/{_pick(i, threads)}")
            words = [s.lower() for s in SUBJECTS] + ["前三秒", "粉丝", "window", "标题"]
            search = _load(
                base,
                token,
                args,
                lambda i: f"/v1/community/search?q={words[i % len(words)]}",
            )
        finally:
            server.terminate()
            server.wait(timeout=10)
    heads = ("count", "non-200", "p50 ms", "p90 ms", "p99 ms", "max ms")
    print(f"{'request':<14}" + "".join(f"{h:>9}" for h in heads))
    for name, results in (("thread page", pages), ("search", search)):
        latency = np.array([r[0] for r in results]) * 1e3
        bad = sum(1 for r in results if r[1] != 200)
        p50, p90, p99 = np.percentile(latency, [50, 90, 99])
        print(
            f"{name:<14}{len(results):>9,}{bad:>9}{p50:>9.1f}{p90:>9.1f}{p99:>9.1f}"
            f"{latency.max():>9.1f}"
        )
    return 0


def _pick(i: int, threads: int) -> int:
    """A thread id spread over all of them (a multiplicative hash of ``i``)."""
    return 1 + (i * 2_654_435_761) % threads


def _load(base: str, token: str, args: argparse.Namespace, path: Any) -> list[tuple[float, int]]:
    total, warmup = int(args.rate * args.seconds), int(args.rate * args.warmup)

    async def send(session: Any, i: int) -> int:
        try:
            async with session.get(path(i)) as response:
                await response.read()
                return int(response.status)
        except TimeoutError:  # counted, as status 0, with the time it took
            return 0

    return open_loop(
        base,
        {"Authorization": f"Bearer {token}"},
        total=total,
        rate=args.rate,
        connections=args.connections,
        send=send,
        warmup=warmup,
    )


def _texts(rng: np.random.Generator) -> list[tuple[str, str, str]]:
    """A few hundred distinct bodies: (Markdown, sanitised HTML, search tokens)."""
    from guanghe.community import index_tokens, render_markdown

    texts = []
    for k in range(400):
        subject = SUBJECTS[k % len(SUBJECTS)]
        opener = OPENERS[int(rng.integers(len(OPENERS)))].format(s=subject)
        details = " ".join(
            DETAILS[int(j)].format(n=int(rng.integers(2, 90)))
            for j in rng.choice(len(DETAILS), size=2, replace=False)
        )
        body = f"{opener}\n\n{details}"
        texts.append((body, render_markdown(body), index_tokens("", body)))
    return texts


def _fill(runtime: Any, rng: np.random.Generator, posts: int) -> int:
    """Creators, a board per vertical, threads and ``posts`` posts; the thread count."""
    from sqlalchemy import insert, text

    from guanghe.community import index_tokens
    from guanghe.store import (
        SEARCH_INDEX_DDL,
        CommunityBoard,
        CommunityPost,
        CommunityThread,
        Creator,
        sync_id_sequences,
    )

    now = dt.datetime.now(dt.UTC)
    texts = _texts(rng)
    dialect = runtime.engine.dialect.name
    with runtime.engine.begin() as connection:
        verticals = [int(v) for v in connection.execute(text("SELECT id FROM verticals")).scalars()]
        connection.execute(
            insert(Creator),
            [
                {
                    "id": c,
                    "handle": f"bench{c}",
                    "display_name": f"Bench {c}",
                    "vertical_id": verticals[c % len(verticals)],
                    "joined_on": dt.date(2024, 1, 1),
                    "follower_count": 0,
                    "stage": "growing",
                }
                for c in range(1, CREATORS + 1)
            ],
        )
        connection.execute(
            insert(CommunityBoard),
            [
                {
                    "id": v,
                    "slug": f"board-{v}",
                    "title": f"Board {v}",
                    "description": "",
                    "vertical_id": v,
                    "created_at": now,
                }
                for v in verticals
            ],
        )
        if dialect == "postgresql":
            connection.execute(text("DROP INDEX ix_community_posts_search"))
    sizes = _thread_sizes(rng, posts)
    start = now - dt.timedelta(days=365)
    post_id = 0
    for first, chunk in _chunks(sizes):
        thread_rows, post_rows = [], []
        for offset, size in enumerate(chunk):
            thread_id = first + offset
            opened = start + dt.timedelta(seconds=int(thread_id) * 30)
            title = f"{SUBJECTS[thread_id % len(SUBJECTS)]} 第{thread_id}问"
            thread_rows.append(
                {
                    "id": thread_id,
                    "board_id": verticals[thread_id % len(verticals)],
                    "title": title,
                    "creator_id": 1 + thread_id % CREATORS,
                    "operator_id": None,
                    "created_at": opened,
                    "last_post_at": opened + dt.timedelta(minutes=int(size)),
                    "post_count": int(size),
                    "locked": False,
                    "hidden": False,
                    "answered": False,
                }
            )
            for n in range(int(size)):
                post_id += 1
                body, html, tokens = texts[(post_id * 7919) % len(texts)]
                if n == 0:
                    tokens = index_tokens(title, "") + " " + tokens
                post_rows.append(
                    {
                        "id": post_id,
                        "thread_id": thread_id,
                        "reply_to_id": None,
                        "creator_id": 1 + (post_id * 31) % CREATORS,
                        "operator_id": None,
                        "body_markdown": body,
                        "body_html": html,
                        "search_tokens": tokens,
                        "official": False,
                        "hidden": False,
                        "created_at": opened + dt.timedelta(minutes=n),
                    }
                )
        with runtime.engine.begin() as connection:
            connection.execute(insert(CommunityThread), thread_rows)
            connection.execute(insert(CommunityPost), post_rows)
    with runtime.engine.begin() as connection:
        if dialect == "sqlite":
            connection.execute(
                text(
                    "INSERT INTO community_post_search (rowid, tokens) "
                    "SELECT id, search_tokens FROM community_posts"
                )
            )
        else:
            connection.execute(text(SEARCH_INDEX_DDL["postgresql"]))
    if dialect == "postgresql":
        # vacuum now, or autovacuum of the freshly loaded tables runs during the measurement
        with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as bare:
            bare.execute(text("VACUUM (ANALYZE)"))
    sync_id_sequences(runtime.engine)
    return len(sizes)


def _thread_sizes(rng: np.random.Generator, posts: int) -> list[int]:
    """Thread lengths of 1 to 40 posts summing to ``posts``."""
    sizes: list[int] = []
    left = posts
    while left > 0:
        size = min(left, int(rng.integers(1, 41)))
        sizes.append(size)
        left -= size
    return sizes


def _chunks(sizes: list[int]) -> Iterator[tuple[int, list[int]]]:
    """(first thread id, sizes) in chunks of about :data:`CHUNK` posts."""
    first, chunk, count = 1, [], 0
    for k, size in enumerate(sizes, start=1):
        chunk.append(size)
        count += size
        if count >= CHUNK:
            yield first, chunk
            first, chunk, count = k + 1, [], 0
    if chunk:
        yield first, chunk
