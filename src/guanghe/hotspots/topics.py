"""Topics of a work: its hashtags and the terms of its title.

Chinese titles are segmented with ``jieba`` (its bundled dictionary; no network); Latin words
are split on anything that is not a letter or digit. A topic's *key* is its text lowercased
with ``#``, spaces and punctuation removed, so ``#WorldCup``, ``world cup`` and ``worldcup``
are one topic. Kept: hashtags, Chinese terms of two or more characters, Latin words of three
or more letters; dropped: numbers and :data:`STOPWORDS`.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Final

import jieba

jieba.setLogLevel(logging.WARNING)

_STOPWORD_TEXT: Final = """
the and for with from into your you how what why when who this that these those are was
were has have had not but all any can its our out day days things nobody tells about
honest review minutes minute people home make made makes get got just more most very
really best new one two ten part
的 了 是 在 和 与 也 就 都 而 及 着 或 一个 我们 你们 他们 这个 那个 什么 怎么 如何 为什么
一下 一起 自己 没有 还是 可以 今天 真的 视频 分享
"""
#: Title words too common to be a topic (function words and the platform's title formulas).
STOPWORDS: Final = frozenset(_STOPWORD_TEXT.split())
_CJK: Final = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD: Final = re.compile(r"[0-9a-z]+")
_DROP: Final = re.compile(r"[\W_]+", re.UNICODE)


def topic_key(text: str) -> str:
    """The normalised key of a topic: NFKC, lowercased, without ``#``, spaces or punctuation."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text).lower())


@lru_cache(maxsize=65_536)
def title_terms(title: str) -> tuple[str, ...]:
    """The topic keys among the terms of ``title``, in order of first use, without repeats."""
    terms: list[str] = []
    for token in jieba.cut(unicodedata.normalize("NFKC", title).lower()):
        if _CJK.search(token):
            key = topic_key(token)
            if len(key) >= 2 and key not in STOPWORDS:
                terms.append(key)
            continue
        for word in _LATIN_WORD.findall(token):
            if len(word) >= 3 and not word.isdigit() and word not in STOPWORDS:
                terms.append(word)
    return tuple(dict.fromkeys(terms))


def work_topics(title: str, hashtags: Sequence[str]) -> tuple[str, ...]:
    """The topic keys of a work: its hashtags, then its title terms, without repeats."""
    tags = [topic_key(tag) for tag in hashtags]
    keys = [t for t in tags if len(t) >= 2 and not t.isdigit()]
    return tuple(dict.fromkeys([*keys, *title_terms(title)]))
