"""The deployment's fingerprint index: kept in memory, one per runtime
(:attr:`guanghe.runtime.Runtime.fingerprint_index`), persisted under the data directory, and
brought up to date from the ``work_fingerprints`` table (the source of truth).

On first use the saved file is loaded (or, when missing, unreadable or ahead of the store,
rebuilt from the table); before every search the rows added since (``id`` above the
watermark) are appended, so works published by other processes are found too. The file is
rewritten once :data:`SAVE_EVERY` rows have arrived since the last save, and by
:meth:`FingerprintIndex.save`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanghe.errors import InvalidInput
from guanghe.originality.index import HammingIndex
from guanghe.store import WorkFingerprint

INDEX_FILE: Final = "originality/fingerprints.npz"
SAVE_EVERY: Final = 10_000
_CHUNK: Final = 50_000
_log = logging.getLogger(__name__)


@dataclass
class FingerprintIndex:
    """The index of one store, persisted at ``path``."""

    path: Path
    index: HammingIndex | None = None
    watermark: int = 0
    unsaved: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def synced(self, session: Session) -> HammingIndex:
        """The index with every fingerprint row ``session`` can see. Holds :attr:`lock`."""
        with self.lock:
            newest = int(session.scalar(select(func.max(WorkFingerprint.id))) or 0)
            if self.index is None or self.watermark > newest:
                self.index, self.watermark = self._load(newest)
            added = self._catch_up(session, newest)
            self.unsaved += added
            if self.unsaved >= SAVE_EVERY:
                self.index.save(self.path, watermark=self.watermark)
                self.unsaved = 0
            return self.index

    def save(self) -> None:
        """Write the in-memory index to :attr:`path` (nothing if never loaded)."""
        with self.lock:
            if self.index is not None:
                self.index.save(self.path, watermark=self.watermark)
                self.unsaved = 0

    def _load(self, newest: int) -> tuple[HammingIndex, int]:
        if self.path.exists():
            try:
                index, watermark = HammingIndex.load(self.path)
            except InvalidInput as exc:
                _log.warning("rebuilding the fingerprint index: %s", exc.detail)
            else:
                if watermark <= newest:
                    return index, watermark
                _log.warning("the saved fingerprint index is ahead of the store; rebuilding")
        return HammingIndex(), 0

    def _catch_up(self, session: Session, newest: int) -> int:
        assert self.index is not None
        added = 0
        while self.watermark < newest:
            rows = session.execute(
                select(
                    WorkFingerprint.id,
                    WorkFingerprint.work_id,
                    WorkFingerprint.tag,
                    WorkFingerprint.pdq,
                )
                .where(WorkFingerprint.id > self.watermark)
                .order_by(WorkFingerprint.id)
                .limit(_CHUNK)
            ).all()
            if not rows:
                break
            codes = np.frombuffer(b"".join(r.pdq for r in rows), dtype=np.uint8).reshape(-1, 32)
            self.index.add(
                codes,
                np.array([r.work_id for r in rows], dtype=np.int64),
                np.array([r.tag for r in rows], dtype=np.int16),
            )
            self.watermark = int(rows[-1].id)
            added += len(rows)
        return added
