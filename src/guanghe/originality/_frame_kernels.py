"""Numba kernels of the video frame index (see :mod:`guanghe.originality.frame_index`).

A 256-bit code is four ``uint64`` words; table ``t`` (of :data:`TABLES`) keys a code by its
32-bit substring ``t`` (bits ``32 t`` to ``32 t + 31``). Two codes within distance ``r`` share,
by the pigeonhole principle, a substring that differs in at most ``r // 8`` bits, so probing
each table with the query's substring and every variant with up to ``nflip`` flipped bits finds
every code within ``8 (nflip + 1) - 1`` bits.

A segment (a contiguous range of rows) stores, per table, its rows in the order of their key's
top ``dbits`` bits (a counting sort: ``offsets`` is the directory, ``rows`` the rows, ``low`` the
key's remaining low bits in the same order). A probe flips up to ``nflip`` bits of the query's
prefix, reads that bucket and keeps the entries whose low bits are within the flips left, so a
probe costs two reads of contiguous memory however large the segment.

Reference: Norouzi, Punjani and Fleet, "Fast search in Hamming space with multi-index hashing"
(CVPR 2012).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

TABLES = 8
KEY_BITS = 32

U64 = NDArray[np.uint64]
U32 = NDArray[np.uint32]
I64 = NDArray[np.int64]
Low = NDArray[np.uint8] | NDArray[np.uint16] | NDArray[np.uint32]


@njit(cache=True, inline="always")
def _popcount(x: np.uint64) -> int:
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return int((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(cache=True, inline="always")
def _key(words: U64, row: int, table: int) -> int:
    word = words[row, table // 2]
    return int((word >> np.uint64(KEY_BITS * (table % 2))) & np.uint64(0xFFFFFFFF))


@njit(cache=True, inline="always")
def _distance(a: U64, i: int, b: U64, j: int) -> int:
    total = 0
    for w in range(4):
        total += _popcount(a[i, w] ^ b[j, w])
    return total


@njit(cache=True, parallel=True)
def build_segment(
    words: U64, start: int, stop: int, dbits: int, offsets: U32, rows: U32, low: Low
) -> None:
    """Fill ``offsets`` ``(TABLES, 2**dbits + 1)``, ``rows`` and ``low`` ``(TABLES, stop -
    start)`` for rows ``[start, stop)``: ``rows[t, offsets[t, p]:offsets[t, p + 1]]`` are the
    rows whose key ``t`` has the prefix ``p``, ``low`` their keys' low ``32 - dbits`` bits."""
    shift = KEY_BITS - dbits
    mask = (1 << shift) - 1
    buckets = 1 << dbits
    for t in prange(TABLES):
        offsets[t, :] = 0
        for r in range(start, stop):
            offsets[t, (_key(words, r, t) >> shift) + 1] += 1
        for p in range(buckets):
            offsets[t, p + 1] += offsets[t, p]
        fill = offsets[t, :buckets].astype(np.int64)
        for r in range(start, stop):
            key = _key(words, r, t)
            p = key >> shift
            rows[t, fill[p]] = r
            low[t, fill[p]] = key & mask
            fill[p] += 1


@njit(cache=True, inline="always")
def _first_table(words: U64, row: int, queries: U64, q: int, nflip: int) -> int:
    """The first table through which ``row`` is reachable from query ``q``."""
    for t in range(TABLES):
        if _popcount(np.uint64(_key(words, row, t) ^ _key(queries, q, t))) <= nflip:
            return t
    return TABLES


@njit(cache=True)
def _push(out: I64, found: int, q: int, row: int, d: int) -> I64:
    if found == out.shape[0]:
        grown = np.empty((2 * out.shape[0], 3), dtype=np.int64)
        grown[:found] = out[:found]
        out = grown
    out[found, 0], out[found, 1], out[found, 2] = q, row, d
    return out


@njit(cache=True)
def search_segment(
    words: U64,
    offsets: U32,
    rows: U32,
    low: Low,
    dbits: int,
    queries: U64,
    radius: I64,
    nflip: int,
    out: I64,
    found: int,
) -> tuple[I64, int]:
    """Append to ``out`` (rows ``[0, found)`` used) every ``(query, row, distance)`` of this
    segment with ``distance <= radius[query]`` whose key in some table is within ``nflip`` bits
    of the query's, each pair once. Returns ``(out, found)``."""
    shift = np.int64(KEY_BITS - dbits)
    mask = (np.int64(1) << shift) - np.int64(1)
    one = np.int64(1)
    for q in range(queries.shape[0]):
        for t in range(TABLES):
            key = np.int64(_key(queries, q, t))
            prefix = key >> shift
            qlow = key & mask
            # Prefix variants: no flip, then one flipped bit i, then two (i < j).
            for i in range(-1, dbits if nflip >= 1 else 0):
                for j in range(-1, (i if nflip >= 2 else 0) if i >= 0 else 0):
                    probe = prefix
                    left = nflip
                    if i >= 0:
                        probe = probe ^ (one << np.int64(i))
                        left -= 1
                    if j >= 0:
                        probe = probe ^ (one << np.int64(j))
                        left -= 1
                    for p in range(offsets[t, probe], offsets[t, probe + 1]):
                        if _popcount(np.uint64(np.int64(low[t, p]) ^ qlow)) > left:
                            continue
                        row = int(rows[t, p])
                        d = _distance(words, row, queries, q)
                        if d > radius[q] or _first_table(words, row, queries, q, nflip) != t:
                            continue
                        out = _push(out, found, q, row, d)
                        found += 1
    return out, found


@njit(cache=True)
def scan(
    words: U64, start: int, stop: int, queries: U64, radius: I64, out: I64, found: int
) -> tuple[I64, int]:
    """Append every ``(query, row, distance <= radius[query])`` of rows ``[start, stop)`` by an
    exhaustive scan (the recent tail, and the benchmark's reference)."""
    for q in range(queries.shape[0]):
        for row in range(start, stop):
            d = _distance(words, row, queries, q)
            if d <= radius[q]:
                out = _push(out, found, q, row, d)
                found += 1
    return out, found
