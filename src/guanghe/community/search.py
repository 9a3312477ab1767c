"""Search over posts' titles and bodies, Chinese included.

At write time :func:`index_tokens` segments the thread title (for an opening post) and the body
with jieba's search mode (every word and the shorter words inside long ones), lowercased and
NFKC-normalised, into a space-separated ``search_tokens`` column. The dialect indexes it:

- **SQLite**: the FTS5 table ``community_post_search`` (rowid = post id), filled by
  :func:`add_to_index` in the post's transaction;
- **PostgreSQL**: a GIN index over ``to_tsvector('simple', search_tokens)``, kept by the
  database itself.

:func:`search_posts` segments the query the same way (precise mode) and asks for posts
holding every term, newest first; hidden posts and posts of hidden threads are left out by the
same query, so hiding takes effect at once. On SQLite the FTS5 table streams matches newest
first in batches (a common word costs no more than a rare one); on PostgreSQL the GIN index
gives every match and the newest are kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

import jieba
from sqlalchemy import Row, Select, func, literal_column, select, text
from sqlalchemy.orm import Session

from guanghe import creators
from guanghe.access import Principal
from guanghe.bounds import MAX_INT63
from guanghe.community.members import check_reader
from guanghe.community.threads import author_name
from guanghe.errors import InvalidInput
from guanghe.pagination import Page, after_id, check_limit, page_of
from guanghe.store import CommunityBoard, CommunityPost, CommunityThread
from guanghe.text import check_text

jieba.setLogLevel(logging.WARNING)

#: Longest query, in characters.
MAX_QUERY_CHARS: Final = 200
#: Most terms a query may hold.
MAX_QUERY_TERMS: Final = 12
SNIPPET_CHARS: Final = 160
#: Fewest candidates one FTS5 round fetches.
_FTS_BATCH: Final = 100
_WORD: Final = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True, slots=True)
class SearchHit:
    post_id: int
    thread_id: int
    thread_title: str
    board_slug: str
    author: str
    official: bool
    snippet: str
    created_at: dt.datetime


def _normal(text_: str) -> str:
    return unicodedata.normalize("NFKC", text_).lower()


def index_tokens(title: str, body: str) -> str:
    """The searchable words of a post (its thread's ``title`` for an opening post, else
    ``""``, and its ``body``), space-separated."""
    words = jieba.cut_for_search(_normal(f"{title}\n{body}"))
    return " ".join(w for w in (w.strip() for w in words) if w and _WORD.search(w))


def query_terms(query: str) -> tuple[str, ...]:
    """The distinct words of ``query``; :class:`InvalidInput` if it has none or too many."""
    words = (w.strip() for w in jieba.cut(_normal(query)))
    terms = tuple(dict.fromkeys(w for w in words if w and _WORD.search(w)))
    if not terms:
        raise InvalidInput("q holds no words to search for")
    if len(terms) > MAX_QUERY_TERMS:
        raise InvalidInput(f"q holds {len(terms)} words; at most {MAX_QUERY_TERMS} are searched")
    return terms


def add_to_index(session: Session, post_id: int, tokens: str) -> None:
    """Index post ``post_id``'s ``tokens`` (SQLite's FTS5 table; PostgreSQL's GIN index
    follows the column by itself)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text("INSERT INTO community_post_search (rowid, tokens) VALUES (:id, :tokens)"),
            {"id": post_id, "tokens": tokens},
        )


def search_posts(
    session: Session,
    principal: Principal,
    query: str,
    *,
    board_slug: str | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> Page[SearchHit]:
    """Visible posts holding every word of ``query``, newest first."""
    check_reader(principal)
    check_limit(limit)
    terms = query_terms(check_text(query, field="q", max_chars=MAX_QUERY_CHARS))
    statement = _visible()
    if board_slug is not None:
        statement = statement.where(CommunityBoard.slug == board_slug)
    before = after_id(cursor)
    if session.get_bind().dialect.name == "sqlite":
        rows = _newest_by_fts5(session, statement, terms, before, limit + 1)
    else:
        if before is not None:
            statement = statement.where(CommunityPost.id < before)
        vector = func.to_tsvector(literal_column("'simple'"), CommunityPost.search_tokens)
        wanted = func.plainto_tsquery(literal_column("'simple'"), " ".join(terms))
        statement = statement.where(vector.op("@@")(wanted))
        rows = list(session.execute(statement.order_by(CommunityPost.id.desc()).limit(limit + 1)))
    names = creators.handles_of(session, {r.creator_id for r in rows if r.creator_id})
    hits = [
        SearchHit(
            post_id=r.id,
            thread_id=r.thread_id,
            thread_title=r.title,
            board_slug=r.slug,
            author=author_name(names, r.creator_id),
            official=r.official,
            snippet=_snippet(r.body_markdown),
            created_at=r.created_at,
        )
        for r in rows
    ]
    return page_of(hits, limit, lambda h: [h.post_id])


def _visible() -> Select[int, int, int | None, bool, str, dt.datetime, str, str]:
    """Visible posts (not hidden, in a thread not hidden) with what a hit shows."""
    return (
        select(
            CommunityPost.id,
            CommunityPost.thread_id,
            CommunityPost.creator_id,
            CommunityPost.official,
            CommunityPost.body_markdown,
            CommunityPost.created_at,
            CommunityThread.title,
            CommunityBoard.slug,
        )
        .join(CommunityThread, CommunityThread.id == CommunityPost.thread_id)
        .join(CommunityBoard, CommunityBoard.id == CommunityThread.board_id)
        .where(CommunityPost.hidden.is_(False), CommunityThread.hidden.is_(False))
    )


def _newest_by_fts5(
    session: Session,
    visible: Select[int, int, int | None, bool, str, dt.datetime, str, str],
    terms: tuple[str, ...],
    before: int | None,
    wanted: int,
) -> list[Row[int, int, int | None, bool, str, dt.datetime, str, str]]:
    """The ``wanted`` newest visible posts matching every term, below post ``before``.

    FTS5 streams matching rowids newest first (``ORDER BY rowid DESC``) without collecting
    every match, so a common word costs no more than a rare one: batches of candidates are
    fetched and filtered to visible posts until enough are found or the matches run out."""
    phrase = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
    batch = max(4 * wanted, _FTS_BATCH)
    found: list[Row[int, int, int | None, bool, str, dt.datetime, str, str]] = []
    while len(found) < wanted:
        candidates = [
            int(r)
            for r in session.execute(
                text(
                    "SELECT rowid FROM community_post_search WHERE community_post_search MATCH "
                    ":match AND rowid < :before ORDER BY rowid DESC LIMIT :batch"
                ),
                {"match": phrase, "before": before or MAX_INT63, "batch": batch},
            ).scalars()
        ]
        if candidates:
            shown = session.execute(
                visible.where(CommunityPost.id.in_(candidates)).order_by(CommunityPost.id.desc())
            ).all()
            found.extend(shown[: wanted - len(found)])
        if len(candidates) < batch:
            break
        before = candidates[-1]
    return found


def _snippet(markdown: str) -> str:
    flat = " ".join(markdown.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1] + "…"
