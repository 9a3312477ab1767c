"""``HammingIndex``: radius search over 256-bit codes by multi-index hashing.

Sixteen tables key every code by one 16-bit substring each (a counting sort, so building is
linear). New codes go to a tail that is scanned exhaustively and folded into the tables once it
passes an eighth of the sorted part (amortised linear updates). Memory is 32 bytes per code for
the codes plus 64 bytes per code for the tables; a search probes ``16 * (1 + 16)`` buckets
(``nflip=1``, every code within 31 bits) or ``16 * 137`` (``nflip=2``, within 47 bits), so its
cost grows with the bucket size ``n / 65,536``, not with a scan of ``n``.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from guanghe.errors import InvalidInput
from guanghe.originality import _kernels

Array = TypeVar("Array", bound=npt.NDArray[np.generic])

CODE_BYTES: Final = 32
#: The tail is folded into the tables when it holds more rows than this or an eighth of them.
MIN_TAIL: Final = 4096
#: Guaranteed search radius for each ``nflip``.
GUARANTEED_RADIUS: Final = {0: 15, 1: 31, 2: 47}


@dataclass(frozen=True, slots=True)
class Hits:
    """Search results, one row per (query, indexed code) within radius.

    Attributes
    ----------
    query
        ``(h,)`` index of the query code.
    label
        ``(h,)`` label of the indexed code (a work id).
    tag
        ``(h,)`` tag of the indexed code (which region of which picture).
    distance
        ``(h,)`` Hamming distance.
    """

    query: npt.NDArray[np.int64]
    label: npt.NDArray[np.int64]
    tag: npt.NDArray[np.int16]
    distance: npt.NDArray[np.int64]


class HammingIndex:
    """Multi-index hashing over packed 256-bit codes with an integer label and tag each.

    Attributes
    ----------
    words_
        ``(capacity, 4)`` uint64 codes; rows ``[0, size)`` are in use.
    labels_, tags_
        ``(capacity,)`` label and tag of each code.
    size
        Codes held.
    """

    def __init__(self) -> None:
        self.words_ = np.zeros((0, 4), dtype=np.uint64)
        self.labels_ = np.zeros(0, dtype=np.int64)
        self.tags_ = np.zeros(0, dtype=np.int16)
        self.size = 0
        self._sorted = 0
        self._order = np.zeros((_kernels.TABLES, 0), dtype=np.int32)
        self._offsets = np.zeros((_kernels.TABLES, _kernels.BUCKETS + 1), dtype=np.int64)

    def add(
        self,
        codes: npt.NDArray[np.uint8],
        labels: npt.NDArray[np.int64],
        tags: npt.NDArray[np.int16],
    ) -> None:
        """Append ``codes`` ``(k, 32)`` with their ``labels`` and ``tags`` ``(k,)``."""
        append_codes(self, codes, labels, tags)
        if self.size - self._sorted > max(MIN_TAIL, self._sorted // 8):
            self.fold()

    def fold(self) -> None:
        """Put every code into the tables (the tail becomes empty)."""
        self._order, self._offsets = _kernels.build_tables(self.words_, self.size)
        self._sorted = self.size

    def search(
        self, queries: npt.NDArray[np.uint8], radius: npt.NDArray[np.int64], nflip: int = 1
    ) -> Hits:
        """Every indexed code within ``radius[i]`` bits of query ``i`` (``queries`` ``(q, 32)``).

        Codes within :data:`GUARANTEED_RADIUS` ``[nflip]`` are always found; farther ones
        within ``radius`` are found when one substring is within ``nflip`` bits.
        """
        if nflip not in GUARANTEED_RADIUS:
            raise InvalidInput(f"nflip must be one of {sorted(GUARANTEED_RADIUS)}")
        queries = np.ascontiguousarray(queries, dtype=np.uint8)
        q = queries.shape[0]
        words = queries.view("<u8").reshape(q, 4)
        flips = np.full(q, nflip, dtype=np.int64)
        qi, rows, dist = _kernels.search(
            self.words_,
            self._order,
            self._offsets,
            self._sorted,
            self.size,
            words,
            np.asarray(radius, dtype=np.int64),
            flips,
        )
        return Hits(qi, self.labels_[rows], self.tags_[rows], dist)

    def save(self, path: Path, *, watermark: int) -> None:
        """Write the codes to ``path`` atomically, with ``watermark`` (the newest source row)."""
        save_codes(path, self, watermark=watermark)

    @classmethod
    def load(cls, path: Path) -> tuple[HammingIndex, int]:
        """The index saved at ``path`` and its watermark; :class:`InvalidInput` if unreadable."""
        index = cls()
        watermark = load_codes(path, index, what="fingerprint index")
        index.fold()
        return index, watermark


class _Codes(Protocol):
    """What :func:`save_codes` and :func:`load_codes` read and fill: the first ``size`` rows of
    the codes (four 64-bit words each), their labels and tags."""

    words_: npt.NDArray[np.uint64]
    labels_: npt.NDArray[np.int64]
    tags_: npt.NDArray[np.int16]
    size: int


def append_codes(
    into: _Codes,
    codes: npt.NDArray[np.uint8],
    labels: npt.NDArray[np.int64],
    tags: npt.NDArray[np.int16],
) -> None:
    """Append ``codes`` ``(k, 32)`` with their ``labels`` and ``tags`` ``(k,)`` to ``into``,
    growing its arrays geometrically; :class:`InvalidInput` on mismatched shapes."""
    codes = np.ascontiguousarray(codes, dtype=np.uint8)
    if codes.ndim != 2 or codes.shape[1] != CODE_BYTES:
        raise InvalidInput(f"codes must be (k, {CODE_BYTES}) bytes, not {codes.shape}")
    k = codes.shape[0]
    if labels.shape != (k,) or tags.shape != (k,):
        raise InvalidInput("codes, labels and tags must have the same length")
    needed = into.size + k
    if needed > into.words_.shape[0]:
        capacity = max(needed, 2 * into.words_.shape[0], 1024)
        into.words_ = _grow(into.words_, capacity)
        into.labels_ = _grow(into.labels_, capacity)
        into.tags_ = _grow(into.tags_, capacity)
    into.words_[into.size : needed] = codes.view("<u8").reshape(k, 4)
    into.labels_[into.size : needed] = labels
    into.tags_[into.size : needed] = tags
    into.size = needed


def save_codes(path: Path, codes: _Codes, *, watermark: int) -> None:
    """Write ``codes`` to ``path`` atomically, with ``watermark`` (the newest source row)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with tmp.open("wb") as handle:
            np.savez(
                handle,
                words=codes.words_[: codes.size],
                labels=codes.labels_[: codes.size],
                tags=codes.tags_[: codes.size],
                watermark=np.array([watermark], dtype=np.int64),
            )
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def load_codes(path: Path, codes: _Codes, *, what: str) -> int:
    """Fill ``codes`` from the file :func:`save_codes` wrote and return its watermark;
    :class:`InvalidInput` naming ``what`` if unreadable."""
    try:
        with np.load(path) as data:
            words, labels, tags = data["words"], data["labels"], data["tags"]
            watermark = int(data["watermark"][0])
    except (OSError, KeyError, ValueError) as exc:
        raise InvalidInput(f"cannot read the {what} {path}: {exc}") from exc
    codes.words_ = np.ascontiguousarray(words, dtype=np.uint64)
    codes.labels_ = np.ascontiguousarray(labels, dtype=np.int64)
    codes.tags_ = np.ascontiguousarray(tags, dtype=np.int16)
    codes.size = int(words.shape[0])
    return watermark


def _grow(array: Array, capacity: int) -> Array:
    grown = np.zeros((capacity, *array.shape[1:]), dtype=array.dtype)
    grown[: array.shape[0]] = array
    return grown  # type: ignore[return-value]
