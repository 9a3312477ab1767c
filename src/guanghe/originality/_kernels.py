"""Numba kernels of the multi-index hashing search (see :mod:`guanghe.originality.index`).

A 256-bit code is four ``uint64`` words; table ``t`` keys a code by its 16-bit substring
``t`` (bits ``16 t`` to ``16 t + 15``). Two codes within distance ``r`` share, by the pigeonhole
principle, a substring that differs in at most ``r // 16`` bits, so probing each table with the
query's substring and every variant of it with up to ``nflip`` flipped bits finds every code
within ``16 (nflip + 1) - 1`` bits (and most codes somewhat farther).

Reference: Norouzi, Punjani and Fleet, "Fast search in Hamming space with multi-index hashing"
(CVPR 2012).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

TABLES = 16
KEY_BITS = 16
BUCKETS = 1 << KEY_BITS

U64 = NDArray[np.uint64]
I32 = NDArray[np.int32]
I64 = NDArray[np.int64]


@njit(cache=True, inline="always")
def _popcount(x: np.uint64) -> int:
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return int((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(cache=True, inline="always")
def _key(words: U64, row: int, table: int) -> int:
    word = words[row, table // 4]
    return int((word >> np.uint64(KEY_BITS * (table % 4))) & np.uint64(BUCKETS - 1))


@njit(cache=True, inline="always")
def _distance(a: U64, i: int, b: U64, j: int) -> int:
    total = 0
    for w in range(4):
        total += _popcount(a[i, w] ^ b[j, w])
    return total


@njit(cache=True, nogil=True)
def build_tables(words: U64, rows: int) -> tuple[I32, I64]:
    """Counting sort of rows ``[0, rows)`` by each table's key: ``(order, offsets)`` with
    ``order[t, offsets[t, k]:offsets[t, k + 1]]`` the rows whose key ``t`` is ``k``."""
    order = np.empty((TABLES, rows), dtype=np.int32)
    offsets = np.zeros((TABLES, BUCKETS + 1), dtype=np.int64)
    for t in range(TABLES):
        for r in range(rows):
            offsets[t, _key(words, r, t) + 1] += 1
        for k in range(BUCKETS):
            offsets[t, k + 1] += offsets[t, k]
        fill = offsets[t, :BUCKETS].copy()
        for r in range(rows):
            k = _key(words, r, t)
            order[t, fill[k]] = r
            fill[k] += 1
    return order, offsets


@njit(cache=True, inline="always")
def _first_table(words: U64, row: int, queries: U64, q: int, nflip: int) -> int:
    """The first table through which ``row`` is reachable from query ``q``."""
    for t in range(TABLES):
        diff = _key(words, row, t) ^ _key(queries, q, t)
        if _popcount(np.uint64(diff)) <= nflip:
            return t
    return TABLES


@njit(cache=True, nogil=True)
def search(
    words: U64,
    order: I32,
    offsets: I64,
    sorted_rows: int,
    total_rows: int,
    queries: U64,
    radius: I64,
    nflip: I64,
) -> tuple[I64, I64, I64]:
    """Every ``(query, row, distance)`` with ``distance <= radius[query]``, each pair once.

    Rows ``[0, sorted_rows)`` are searched through the tables with up to ``nflip[query]``
    flipped key bits (0, 1 or 2); rows ``[sorted_rows, total_rows)`` (the recent tail) are
    scanned exhaustively.
    """
    out_q = np.empty(1024, dtype=np.int64)
    out_r = np.empty(1024, dtype=np.int64)
    out_d = np.empty(1024, dtype=np.int64)
    found = 0
    probes = np.empty(1 + KEY_BITS + KEY_BITS * (KEY_BITS - 1) // 2, dtype=np.int64)
    for q in range(queries.shape[0]):
        flips = nflip[q]
        for t in range(TABLES):
            key = np.int64(_key(queries, q, t))
            probes[0] = key
            count = 1
            if flips >= 1:
                for i in range(KEY_BITS):
                    probes[count] = key ^ (np.int64(1) << i)
                    count += 1
            if flips >= 2:
                for i in range(KEY_BITS):
                    for j in range(i + 1, KEY_BITS):
                        probes[count] = key ^ (np.int64(1) << i) ^ (np.int64(1) << j)
                        count += 1
            for probe in probes[:count]:
                for p in range(offsets[t, probe], offsets[t, probe + 1]):
                    row = order[t, p]
                    d = _distance(words, row, queries, q)
                    if d > radius[q] or _first_table(words, row, queries, q, flips) != t:
                        continue
                    if found == out_q.shape[0]:
                        out_q = np.concatenate((out_q, np.empty_like(out_q)))
                        out_r = np.concatenate((out_r, np.empty_like(out_r)))
                        out_d = np.concatenate((out_d, np.empty_like(out_d)))
                    out_q[found], out_r[found], out_d[found] = q, row, d
                    found += 1
        for row in range(sorted_rows, total_rows):
            d = _distance(words, row, queries, q)
            if d <= radius[q]:
                if found == out_q.shape[0]:
                    out_q = np.concatenate((out_q, np.empty_like(out_q)))
                    out_r = np.concatenate((out_r, np.empty_like(out_r)))
                    out_d = np.concatenate((out_d, np.empty_like(out_d)))
                out_q[found], out_r[found], out_d[found] = q, row, d
                found += 1
    return out_q[:found], out_r[:found], out_d[:found]
