"""Posts' Markdown, rendered once at write time into HTML that is safe to show.

``markdown-it-py`` renders CommonMark with raw HTML switched off (a ``<script>`` in a post is
text, escaped); ``nh3`` (the ammonia sanitiser) then keeps only the tags and attributes
:data:`ALLOWED_TAGS` lists and links with http, https or mailto targets, adding
``rel="nofollow noopener"``. Both layers must fail for a stored script to run.

Mentions are ``@handle`` words (a creator's handle: letters, digits, ``_``, ``.``, ``-``).
"""

from __future__ import annotations

import re
from typing import Final

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS: Final = frozenset(
    {
        "a",
        "blockquote",
        "br",
        "code",
        "del",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "hr",
        "li",
        "ol",
        "p",
        "pre",
        "strong",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    }
)
_ATTRIBUTES: Final = {"a": {"href", "title"}}
_SCHEMES: Final = frozenset({"http", "https", "mailto"})
_MENTION: Final = re.compile(r"(?<![\w@.])@([A-Za-z0-9_][A-Za-z0-9_.-]{0,63})")
#: Most distinct creators one post may mention (and so notify).
MAX_MENTIONS: Final = 10

_renderer: Final = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
    ["table", "strikethrough"]
)


def render_markdown(text: str) -> str:
    """``text`` (Markdown) as sanitised HTML."""
    html = _renderer.render(text)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in _ATTRIBUTES.items()},
        url_schemes=set(_SCHEMES),
        link_rel="nofollow noopener",
    )


def mentioned_handles(text: str) -> tuple[str, ...]:
    """The handles ``text`` mentions, in order of first mention, at most
    :data:`MAX_MENTIONS` (a trailing ``.`` or ``-`` ends a sentence, not a handle)."""
    handles = [m.rstrip(".-") for m in _MENTION.findall(text)]
    return tuple(dict.fromkeys(h for h in handles if h))[:MAX_MENTIONS]
