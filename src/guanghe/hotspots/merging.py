"""Merging near-identical hot topics of one vertical.

Two hot topics are one hotspot when their spellings are near-identical (MinHash of character
bigrams, estimated Jaccard at least :data:`SPELLING_SIMILARITY`: ``worldcup`` and
``worldcup2026``) or when they are carried by nearly the same works (MinHash of the sets of
work ids, at least :data:`WORKS_SIMILARITY`: the words ``冬至`` and ``饺子`` of the hashtag
``冬至饺子``), or when one's key holds the other's and most works of the smaller carry both.
Candidate pairs come from MinHash LSH (``datasketch``), so merging n topics costs
O(n) hashing plus the candidate pairs; groups are the connected components, each named after its
highest-scoring member.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from datasketch import MinHash, MinHashLSH

SPELLING_SIMILARITY: Final = 0.5
WORKS_SIMILARITY: Final = 0.6
CONTAINED_OVERLAP: Final = 0.6
_PERMUTATIONS: Final = 64


def _minhash(items: set[str]) -> MinHash:
    sketch = MinHash(num_perm=_PERMUTATIONS, seed=1)
    for item in sorted(items):
        sketch.update(item.encode())
    return sketch


def _bigrams(key: str) -> set[str]:
    return {key[i : i + 2] for i in range(len(key) - 1)} or {key}


def merge_topics(
    keys: Sequence[str],
    scores: Sequence[float],
    works: Sequence[set[int]],
    hashtags: Sequence[bool] | None = None,
) -> list[list[int]]:
    """Groups of indices into ``keys`` that are one topic, the member that names it first (a
    hashtag if any member is one (``hashtags``), then the best score); groups in order of
    their best score (highest first)."""
    n = len(keys)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for threshold, members in (
        (SPELLING_SIMILARITY, [_bigrams(k) for k in keys]),
        (WORKS_SIMILARITY, [{str(w) for w in ws} for ws in works]),
    ):
        index = MinHashLSH(threshold=threshold, num_perm=_PERMUTATIONS)
        sketches = [_minhash(m) for m in members]
        for i, sketch in enumerate(sketches):
            if members[i]:
                for j in index.query(sketch):
                    if sketch.jaccard(sketches[int(j)]) >= threshold:
                        parent[root(i)] = root(int(j))
                index.insert(str(i), sketch)
    for i in range(n):
        for j in range(n):
            if i != j and keys[i] in keys[j] and works[i] and works[j]:
                shared = len(works[i] & works[j]) / min(len(works[i]), len(works[j]))
                if shared >= CONTAINED_OVERLAP:
                    parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    tagged = hashtags or [False] * n
    ordered = [
        sorted(g, key=lambda i: (not tagged[i], -scores[i], keys[i])) for g in groups.values()
    ]
    return sorted(ordered, key=lambda g: (-max(scores[i] for i in g), keys[g[0]]))
