"""The multi-index hashing index: exact within its guaranteed radius, incremental, persisted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from guanghe.originality.index import GUARANTEED_RADIUS, HammingIndex


def _noisy_copies(rng: np.random.Generator, codes: np.ndarray, bits: int) -> np.ndarray:
    out = codes.copy()
    for row in out:
        for bit in rng.choice(256, bits, replace=False):
            row[bit // 8] ^= np.uint8(1 << (bit % 8))
    return out


def _brute_force(codes: np.ndarray, query: np.ndarray, radius: int) -> set[tuple[int, int]]:
    distance = np.unpackbits(codes ^ query[None, :], axis=1).sum(axis=1)
    return {(int(i), int(d)) for i, d in enumerate(distance) if d <= radius}


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(1, 6_000), flips=st.integers(0, 40))
def test_search_equals_brute_force_within_the_guaranteed_radius(
    seed: int, size: int, flips: int
) -> None:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, (size, 32), dtype=np.uint8)
    index = HammingIndex()
    half = size // 2
    index.add(codes[:half], np.arange(half), np.zeros(half, np.int16))
    index.add(codes[half:], np.arange(half, size), np.zeros(size - half, np.int16))
    queries = _noisy_copies(rng, codes[rng.integers(0, size, 3)], flips)
    for nflip in (1, 2):
        radius = GUARANTEED_RADIUS[nflip]
        hits = index.search(queries, np.full(3, radius), nflip=nflip)
        for q in range(3):
            got = {
                (int(label), int(d))
                for qi, label, d in zip(hits.query, hits.label, hits.distance, strict=True)
                if qi == q
            }
            assert got == _brute_force(codes, queries[q], radius)


def test_tail_is_folded_and_results_stay_the_same() -> None:
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 256, (20_000, 32), dtype=np.uint8)
    index = HammingIndex()
    for start in range(0, 20_000, 1_000):
        index.add(
            codes[start : start + 1_000], np.arange(start, start + 1_000), np.zeros(1_000, np.int16)
        )
    assert index.size == 20_000
    hits = index.search(codes[[5, 19_999]], np.array([0, 0]), nflip=1)
    assert sorted(hits.label.tolist()) == [5, 19_999]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 256, (300, 32), dtype=np.uint8)
    index = HammingIndex()
    index.add(codes, np.arange(300) + 1_000, np.arange(300, dtype=np.int16) % 8)
    path = tmp_path / "idx.npz"
    index.save(path, watermark=42)
    loaded, watermark = HammingIndex.load(path)
    assert watermark == 42
    hits = loaded.search(codes[7:8], np.array([0]), nflip=1)
    assert hits.label.tolist() == [1_007]
    assert hits.tag.tolist() == [7]
