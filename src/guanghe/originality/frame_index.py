"""``FrameIndex``: exact radius search over the 256-bit frame hashes of every indexed video.

Multi-index hashing with eight tables of 32-bit substrings (:mod:`._frame_kernels`): probing
every table with the query's substring and its variants with up to ``nflip`` flipped bits finds
**every** code within :data:`GUARANTEED_RADIUS` ``[nflip]`` bits (7, 15 or 23) — exactly what a
linear scan at that radius finds — and the codes farther (up to the search radius) that have a
substring within ``nflip`` bits. With 32-bit keys a bucket holds ``n / 2**32`` codes (0.02 at
100,000,000), so a query code costs ``8 x 25`` bucket reads at ``nflip = 1`` (a one-bit flip
inside a bucket's low bits reads the same bucket), whatever the size of the index.

Growth without rebuilding: new codes go to a tail (scanned exhaustively, at most
:data:`TAIL` codes); a full tail becomes a segment, and a segment is merged with the one before
it while that one is less than :data:`MERGE` times as large (a log-structured merge): every code
is re-sorted ``O(log n)`` times in all, segments number ``O(log n)``, and a search reads every
segment. :meth:`FrameIndex.compact` merges all into one (after a bulk load).

Memory, per code: 32 bytes of code, 8 of label, 2 of tag, and per table 4 bytes of row and 1
byte of low key bits (a segment of more than 2**22 codes has a 24-bit directory) — 82 bytes —
plus ``8 x 4 x 2**24`` bytes (512 MiB) of directory per large segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from guanghe.errors import InvalidInput
from guanghe.originality import _frame_kernels as kernels
from guanghe.originality.index import Hits, append_codes, load_codes, save_codes

CODE_BYTES: Final = 32
#: The tail is sealed into a segment when it holds more codes than this.
TAIL: Final = 4096
#: A segment is merged with the one before it while that one holds fewer than MERGE times its codes.
MERGE: Final = 4
#: Every code within this many bits is found, for each ``nflip``.
GUARANTEED_RADIUS: Final = {0: 7, 1: 15, 2: 23}
#: Directory bits of the largest segments (then the low key bits fit a byte).
MAX_DBITS: Final = 24
_MIN_DBITS: Final = 12


@dataclass(frozen=True, slots=True)
class Segment:
    """Rows ``[start, stop)`` sorted by each table's key prefix (see :mod:`._frame_kernels`)."""

    start: int
    stop: int
    dbits: int
    offsets: npt.NDArray[np.uint32]
    rows: npt.NDArray[np.uint32]
    low: npt.NDArray[np.uint8] | npt.NDArray[np.uint16] | npt.NDArray[np.uint32]

    @property
    def size(self) -> int:
        return self.stop - self.start

    @property
    def nbytes(self) -> int:
        return int(self.offsets.nbytes + self.rows.nbytes + self.low.nbytes)


def build_segment(words: npt.NDArray[np.uint64], start: int, stop: int) -> Segment:
    """The tables of rows ``[start, stop)`` of ``words``."""
    n = stop - start
    if stop >= 2**32:
        raise InvalidInput("the frame index holds at most 2**32 codes per process")
    # About four codes a bucket at most, and no more directory than MAX_DBITS bits.
    dbits = int(min(MAX_DBITS, max(_MIN_DBITS, int(n).bit_length() - 2)))
    low_bits = kernels.KEY_BITS - dbits
    low_type = np.uint8 if low_bits <= 8 else np.uint16 if low_bits <= 16 else np.uint32
    offsets = np.empty((kernels.TABLES, (1 << dbits) + 1), dtype=np.uint32)
    rows = np.empty((kernels.TABLES, n), dtype=np.uint32)
    low = np.empty((kernels.TABLES, n), dtype=low_type)
    kernels.build_segment(words, start, stop, dbits, offsets, rows, low)
    return Segment(start, stop, dbits, offsets, rows, low)


class FrameIndex:
    """Packed 256-bit codes with an integer label (the work) and tag (the frame) each.

    Attributes
    ----------
    words_
        ``(capacity, 4)`` uint64 codes; rows ``[0, size)`` are in use.
    labels_, tags_
        ``(capacity,)`` label and tag of each code.
    size
        Codes held.
    segments
        The sorted segments, oldest first; rows from the last one's ``stop`` are the tail.
    """

    def __init__(self) -> None:
        self.words_ = np.zeros((0, 4), dtype=np.uint64)
        self.labels_ = np.zeros(0, dtype=np.int64)
        self.tags_ = np.zeros(0, dtype=np.int16)
        self.size = 0
        self.segments: list[Segment] = []

    @property
    def sealed(self) -> int:
        """Rows in segments (the tail starts here)."""
        return self.segments[-1].stop if self.segments else 0

    @property
    def nbytes(self) -> int:
        """Bytes held for the codes in use and the tables."""
        per_row = self.words_.itemsize * 4 + self.labels_.itemsize + self.tags_.itemsize
        return self.size * per_row + sum(s.nbytes for s in self.segments)

    def add(
        self,
        codes: npt.NDArray[np.uint8],
        labels: npt.NDArray[np.int64],
        tags: npt.NDArray[np.int16],
        *,
        seal: bool = True,
    ) -> None:
        """Append ``codes`` ``(k, 32)`` with their ``labels`` and ``tags`` ``(k,)``; with
        ``seal=False`` the tail may grow past :data:`TAIL` (a bulk load, then :meth:`settle`)."""
        append_codes(self, codes, labels, tags)
        if seal and self.size - self.sealed > TAIL:
            self.seal()

    def settle(self) -> None:
        """After adds with ``seal=False``: one segment of everything if the tail outgrew the
        segments, else seal the tail."""
        if self.size - self.sealed > self.sealed:
            self.compact()
        elif self.size - self.sealed > TAIL:
            self.seal()

    def seal(self) -> None:
        """Turn the tail into a segment, then merge while the segments before are not
        :data:`MERGE` times larger."""
        if self.size == self.sealed:
            return
        self.segments.append(build_segment(self.words_, self.sealed, self.size))
        while len(self.segments) >= 2 and self.segments[-2].size < MERGE * self.segments[-1].size:
            last = self.segments.pop()
            before = self.segments.pop()
            self.segments.append(build_segment(self.words_, before.start, last.stop))

    def compact(self) -> None:
        """Every code in one segment (after a bulk load)."""
        self.segments = []
        if self.size:
            self.segments = [build_segment(self.words_, 0, self.size)]

    def search(
        self, queries: npt.NDArray[np.uint8], radius: npt.NDArray[np.int64], nflip: int = 1
    ) -> Hits:
        """Every indexed code within ``radius[i]`` bits of query ``i`` (``queries`` ``(q, 32)``)
        that has a 32-bit substring within ``nflip`` bits of the query's; with ``radius[i] <=
        GUARANTEED_RADIUS[nflip]`` that is every code within ``radius[i]`` bits."""
        if nflip not in GUARANTEED_RADIUS:
            raise InvalidInput(f"nflip must be one of {sorted(GUARANTEED_RADIUS)}")
        queries = np.ascontiguousarray(queries, dtype=np.uint8)
        if queries.ndim != 2 or queries.shape[1] != CODE_BYTES:
            raise InvalidInput(f"queries must be (q, {CODE_BYTES}) bytes, not {queries.shape}")
        q = queries.shape[0]
        words = queries.view("<u8").reshape(q, 4)
        radius = np.ascontiguousarray(np.broadcast_to(radius, (q,)), dtype=np.int64)
        out = np.empty((256, 3), dtype=np.int64)
        found = 0
        for segment in self.segments:
            out, found = kernels.search_segment(
                self.words_,
                segment.offsets,
                segment.rows,
                segment.low,
                segment.dbits,
                words,
                radius,
                nflip,
                out,
                found,
            )
        out, found = kernels.scan(self.words_, self.sealed, self.size, words, radius, out, found)
        return _hits(self, out[:found])

    def scan(self, queries: npt.NDArray[np.uint8], radius: npt.NDArray[np.int64]) -> Hits:
        """Every indexed code within ``radius[i]`` bits of query ``i`` by a linear scan of all
        (the reference the tests and the benchmark compare :meth:`search` with)."""
        queries = np.ascontiguousarray(queries, dtype=np.uint8)
        q = queries.shape[0]
        words = queries.view("<u8").reshape(q, 4)
        radius = np.ascontiguousarray(np.broadcast_to(radius, (q,)), dtype=np.int64)
        out, found = kernels.scan(
            self.words_, 0, self.size, words, radius, np.empty((256, 3), dtype=np.int64), 0
        )
        return _hits(self, out[:found])

    def save(self, path: Path, *, watermark: int) -> None:
        """Write the codes to ``path`` atomically, with ``watermark`` (the newest source row)."""
        save_codes(path, self, watermark=watermark)

    @classmethod
    def load(cls, path: Path) -> tuple[FrameIndex, int]:
        """The index saved at ``path`` (compacted) and its watermark; :class:`InvalidInput` if
        unreadable."""
        index = cls()
        watermark = load_codes(path, index, what="frame index")
        index.compact()
        return index, watermark


def _hits(index: FrameIndex, found: npt.NDArray[np.int64]) -> Hits:
    rows = found[:, 1]
    return Hits(
        np.ascontiguousarray(found[:, 0]),
        index.labels_[rows],
        index.tags_[rows],
        np.ascontiguousarray(found[:, 2]),
    )
