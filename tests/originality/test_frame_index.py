"""The video frame index: exactly a linear scan within its guaranteed radius, grown without
rebuilding, persisted."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from guanghe.originality.frame_index import GUARANTEED_RADIUS, TAIL, FrameIndex
from guanghe.originality.index import Hits


def _noisy_copies(
    rng: np.random.Generator, codes: npt.NDArray[np.uint8], bits: int
) -> npt.NDArray[np.uint8]:
    out = codes.copy()
    for row in out:
        for bit in rng.choice(256, bits, replace=False):
            row[bit // 8] ^= np.uint8(1 << (bit % 8))
    return out


def _pairs(hits: Hits) -> set[tuple[int, int, int, int]]:
    return set(
        zip(
            hits.query.tolist(),
            hits.label.tolist(),
            hits.tag.tolist(),
            hits.distance.tolist(),
            strict=True,
        )
    )


def _brute_force(
    codes: npt.NDArray[np.uint8], queries: npt.NDArray[np.uint8], radius: int
) -> set[tuple[int, int, int, int]]:
    out = set()
    for q, query in enumerate(queries):
        distance = np.unpackbits(codes ^ query[None, :], axis=1).sum(axis=1)
        out |= {(q, int(i), int(i) % 7, int(d)) for i, d in enumerate(distance) if d <= radius}
    return out


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(1, 3 * TAIL),
    flips=st.integers(0, 30),
    chunks=st.integers(1, 5),
)
def test_search_is_exactly_a_linear_scan_within_the_guaranteed_radius(
    seed: int, size: int, flips: int, chunks: int
) -> None:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, (size, 32), dtype=np.uint8)
    # near-duplicates among the indexed codes too, so that buckets hold several rows
    dup = rng.integers(0, size, size // 5)
    codes[: dup.size] = _noisy_copies(rng, codes[dup], int(rng.integers(0, 12)))
    index = FrameIndex()
    bounds = np.linspace(0, size, chunks + 1).astype(int)
    for a, b in itertools.pairwise(bounds):
        index.add(codes[a:b], np.arange(a, b), (np.arange(a, b) % 7).astype(np.int16))
    queries = np.concatenate(
        [
            _noisy_copies(rng, codes[rng.integers(0, size, 6)], flips),
            rng.integers(0, 256, (2, 32), dtype=np.uint8),
        ]
    )
    for nflip, radius in GUARANTEED_RADIUS.items():
        expected = _brute_force(codes, queries, radius)
        assert _pairs(index.search(queries, np.full(len(queries), radius), nflip=nflip)) == expected
        assert _pairs(index.scan(queries, np.full(len(queries), radius))) == expected
        # beyond the guarantee: a subset of the scan's answer, still without duplicates
        wide = index.search(queries, np.full(len(queries), 40), nflip=nflip)
        assert len(_pairs(wide)) == wide.query.size
        assert _pairs(wide) <= _brute_force(codes, queries, 40)
        assert _pairs(wide) >= expected


def test_growth_seals_and_merges_segments_without_losing_codes() -> None:
    rng = np.random.default_rng(4)
    n = 30 * TAIL
    codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    index = FrameIndex()
    sizes = []
    for start in range(0, n, 1_000):
        stop = min(n, start + 1_000)
        index.add(codes[start:stop], np.arange(start, stop), np.zeros(stop - start, np.int16))
        sizes.append(len(index.segments))
    assert index.size == n
    # a log-structured merge: few segments, each MERGE times smaller than the one before
    assert max(sizes) <= 6
    spans = [(s.start, s.stop) for s in index.segments]
    assert spans[0][0] == 0
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert n - index.sealed <= TAIL
    probe = rng.integers(0, n, 50)
    hits = index.search(codes[probe], np.zeros(50, np.int64), nflip=0)
    assert sorted(hits.label.tolist()) == sorted(probe.tolist())
    index.compact()
    assert len(index.segments) == 1
    assert index.sealed == n
    assert sorted(index.search(codes[probe], np.zeros(50, np.int64)).label.tolist()) == sorted(
        probe.tolist()
    )


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 256, (300, 32), dtype=np.uint8)
    index = FrameIndex()
    index.add(codes, np.arange(300) + 1_000, np.arange(300, dtype=np.int16) % 8)
    path = tmp_path / "frames.npz"
    index.save(path, watermark=42)
    loaded, watermark = FrameIndex.load(path)
    assert watermark == 42
    hits = loaded.search(codes[7:8], np.array([0]), nflip=1)
    assert hits.label.tolist() == [1_007]
    assert hits.tag.tolist() == [7]


def test_bad_codes_are_refused() -> None:
    import pytest

    from guanghe.errors import InvalidInput

    index = FrameIndex()
    with pytest.raises(InvalidInput):
        index.add(np.zeros((2, 16), np.uint8), np.arange(2), np.zeros(2, np.int16))
    with pytest.raises(InvalidInput):
        index.search(np.zeros((1, 32), np.uint8), np.array([3]), nflip=3)
