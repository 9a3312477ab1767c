"""Fingerprints of a video's sound (Chromaprint) and their search by segment.

Chromaprint (the library behind AcoustID, called through ``pyacoustid``'s bindings to Debian's
``libchromaprint1``) turns sound into one 32-bit item every :data:`ITEM_S` seconds; each bit
says how two chroma bands compare, so re-encoded or quieter copies keep most bits.

:class:`AudioIndex` is an inverted index of the items (sorted keys, new ones in a tail merged
once it grows, as in :class:`~guanghe.originality.index.HammingIndex`). A query looks up each
of its items, votes for ``(work, offset)`` pairs and checks the best offsets of each work item
by item: the aligned items' bit error rate, smoothed over :data:`SMOOTHING` items, stays under
:data:`MAX_BIT_ERRORS` over a matched stretch (unrelated sound sits near 0.5). The longest
such stretch of at least :data:`MIN_ITEMS` items is the matched segment, if its mean bit error
rate is at most :data:`MAX_MEAN_BIT_ERRORS`.

Both bounds come from measured scores (docs/benchmarks.md, 2026-12-06, audio-false): an item
sums 2.7 s of sound, so a dozen neighbouring items are far from independent evidence, and two
unrelated melodies that happen to play the same notes for a moment agree on a short run of
items whose errors rise on both sides of it (mean 0.14 to 0.28 over the run, up to 0.30
smoothed at its ends). A copy agrees all along: re-encoded sound within 0.001, a trimmed copy
(its items up to half an item's step off the original's) within 0.12.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import chromaprint
import numpy as np
import numpy.typing as npt

from guanghe.errors import Unavailable
from guanghe.originality.video import AUDIO_RATE

#: Seconds of sound per Chromaprint item (a 4096-sample frame every third of it at 11,025 Hz).
ITEM_S: Final = 4096 / 3 / AUDIO_RATE
#: Sound summed up by one item: 20 frames of 4096 samples, a third of a frame apart (the
#: chroma filter's 5 frames and the classifiers' 16, less one overlap).
ITEM_SPAN_S: Final = (19 * 4096 / 3 + 4096) / AUDIO_RATE
#: Shortest matched stretch: 12 items, 1.5 s apart at the ends (about 4 s of sound).
MIN_ITEMS: Final = 12
SMOOTHING: Final = 8
#: Highest smoothed bit error rate inside a matched stretch.
MAX_BIT_ERRORS: Final = 0.2
#: Highest mean bit error rate of a matched stretch.
MAX_MEAN_BIT_ERRORS: Final = 0.13
#: Keys held by more entries than this (silence, hum) are not looked up.
MAX_BUCKET: Final = 2_000
#: Offsets checked per candidate work, most voted first.
CHECKED_OFFSETS: Final = 3
#: Works checked per query, most voted first.
CHECKED_WORKS: Final = 50
MIN_TAIL: Final = 65_536

Items = npt.NDArray[np.uint32]


def fingerprint_audio(samples: npt.NDArray[np.int16]) -> Items:
    """Chromaprint items of mono int16 ``samples`` at :data:`AUDIO_RATE` (empty if silent or
    shorter than Chromaprint's first window)."""
    if samples.size == 0 or not np.any(samples):
        return np.zeros(0, dtype=np.uint32)
    try:
        printer = chromaprint.Fingerprinter()
        printer.start(AUDIO_RATE, 1)
        printer.feed(np.ascontiguousarray(samples, dtype="<i2").tobytes())
        raw, _ = chromaprint.decode_fingerprint(printer.finish())
    except chromaprint.FingerprintError as exc:
        raise Unavailable(f"Chromaprint failed: {exc}") from exc
    return np.array(raw, dtype=np.int64).astype(np.uint32)


@dataclass(frozen=True, slots=True)
class AudioSegment:
    """Items ``[query_start, query_end)`` of the query match items ``[indexed_start, ...)`` of
    ``work_id`` with ``bit_errors`` (share of differing bits over the stretch)."""

    work_id: int
    query_start: int
    query_end: int
    indexed_start: int
    bit_errors: float

    @property
    def length(self) -> int:
        return self.query_end - self.query_start


class AudioIndex:
    """Inverted index of Chromaprint items, with each work's full item sequence."""

    def __init__(self) -> None:
        self.sequences: dict[int, Items] = {}
        self._keys = np.zeros(0, dtype=np.uint32)
        self._labels = np.zeros(0, dtype=np.int64)
        self._positions = np.zeros(0, dtype=np.int32)
        self._tail: list[tuple[int, Items]] = []
        self._tail_size = 0

    @property
    def size(self) -> int:
        """Items held."""
        return int(self._keys.size) + self._tail_size

    def add(self, work_id: int, items: Items) -> None:
        """Index the sound of ``work_id`` (replacing any earlier one is not supported)."""
        if items.size == 0:
            return
        self.sequences[work_id] = items
        self._tail.append((work_id, items))
        self._tail_size += items.size
        if self._tail_size > max(MIN_TAIL, self._keys.size // 8):
            self.fold()

    def fold(self) -> None:
        """Merge the tail into the sorted keys."""
        if not self._tail:
            return
        keys = [self._keys, *(items for _, items in self._tail)]
        labels = [self._labels, *(np.full(i.size, w, dtype=np.int64) for w, i in self._tail)]
        positions = [self._positions, *(np.arange(i.size, dtype=np.int32) for _, i in self._tail)]
        all_keys = np.concatenate(keys)
        order = np.argsort(all_keys, kind="stable")
        self._keys = all_keys[order]
        self._labels = np.concatenate(labels)[order]
        self._positions = np.concatenate(positions)[order]
        self._tail = []
        self._tail_size = 0

    def search(self, query: Items) -> list[AudioSegment]:
        """The matched stretch of each work whose sound ``query`` contains (longest first)."""
        self.fold()
        if query.size < MIN_ITEMS or self._keys.size == 0:
            return []
        lo = np.searchsorted(self._keys, query, side="left")
        hi = np.searchsorted(self._keys, query, side="right")
        found_labels: list[npt.NDArray[np.int64]] = []
        found_offsets: list[npt.NDArray[np.int64]] = []
        for q, (a, b) in enumerate(zip(lo.tolist(), hi.tolist(), strict=True)):
            if a == b or b - a > MAX_BUCKET:
                continue
            found_labels.append(self._labels[a:b])
            found_offsets.append(self._positions[a:b].astype(np.int64) - q)
        if not found_labels:
            return []
        labels = np.concatenate(found_labels)
        offsets = np.concatenate(found_offsets)
        pairs, votes = np.unique(np.stack([labels, offsets], axis=1), axis=0, return_counts=True)
        by_work: dict[int, list[tuple[int, int]]] = {}
        for (work_id, offset), count in zip(pairs.tolist(), votes.tolist(), strict=True):
            by_work.setdefault(int(work_id), []).append((int(count), int(offset)))
        ranked = sorted(by_work.items(), key=lambda kv: -max(c for c, _ in kv[1]))
        segments = []
        for work_id, offsets_voted in ranked[:CHECKED_WORKS]:
            best: AudioSegment | None = None
            for _, offset in sorted(offsets_voted, reverse=True)[:CHECKED_OFFSETS]:
                found = aligned_stretch(query, self.sequences[work_id], offset, work_id)
                if found is not None and (best is None or found.length > best.length):
                    best = found
            if best is not None:
                segments.append(best)
        return sorted(segments, key=lambda s: (-s.length, s.work_id))


def _popcount(values: npt.NDArray[np.uint32]) -> npt.NDArray[np.int64]:
    as_bytes = values.astype("<u4").view(np.uint8).reshape(-1, 4)
    counts: npt.NDArray[np.int64] = np.unpackbits(as_bytes, axis=1).sum(axis=1).astype(np.int64)
    return counts


def aligned_stretch(query: Items, indexed: Items, offset: int, work_id: int) -> AudioSegment | None:
    """The longest stretch where ``query[i]`` and ``indexed[i + offset]`` agree (see the
    module docstring), or None when shorter than :data:`MIN_ITEMS` or with a mean bit error
    rate above :data:`MAX_MEAN_BIT_ERRORS`."""
    start = max(0, -offset)
    end = min(query.size, indexed.size - offset)
    if end - start < MIN_ITEMS:
        return None
    errors = _popcount(query[start:end] ^ indexed[start + offset : end + offset]) / 32
    kernel = np.ones(SMOOTHING) / SMOOTHING
    smoothed = np.convolve(errors, kernel, mode="same")
    good = smoothed <= MAX_BIT_ERRORS
    best_start, best_len, run_start = 0, 0, None
    for i, ok in enumerate([*good.tolist(), False]):
        if ok and run_start is None:
            run_start = i
        elif not ok and run_start is not None:
            if i - run_start > best_len:
                best_start, best_len = run_start, i - run_start
            run_start = None
    if best_len < MIN_ITEMS:
        return None
    stretch = errors[best_start : best_start + best_len]
    if stretch.mean() > MAX_MEAN_BIT_ERRORS:
        return None
    q0 = start + best_start
    return AudioSegment(work_id, q0, q0 + best_len, q0 + offset, float(stretch.mean()))
