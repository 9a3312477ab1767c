"""The deployment's fingerprint index: kept in memory, one per runtime
(:attr:`guanghe.runtime.Runtime.fingerprint_index`), persisted under the data directory, and
brought up to date from the ``work_fingerprints`` table (the source of truth). Rows with a
negative tag are cover keypoints and go to the keypoint index, the others (PDQ windows) to the
code index; both are saved with the same watermark (the keypoints beside the codes, in
:data:`KEYPOINT_FILE`), and a pair that does not agree is rebuilt.

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
from guanghe.originality.keypoints import KeypointIndex, is_keypoint_tag
from guanghe.originality.matching import PictureIndex
from guanghe.store import WorkFingerprint

INDEX_FILE: Final = "originality/fingerprints.npz"
#: The keypoint index's file name, beside :data:`INDEX_FILE`.
KEYPOINT_FILE: Final = "fingerprint-keypoints.npz"
SAVE_EVERY: Final = 10_000
_CHUNK: Final = 50_000
_log = logging.getLogger(__name__)


@dataclass
class FingerprintIndex:
    """The index of one store, persisted at ``path``."""

    path: Path
    index: HammingIndex | None = None
    keypoints: KeypointIndex | None = None
    watermark: int = 0
    unsaved: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def keypoint_path(self) -> Path:
        return self.path.with_name(KEYPOINT_FILE)

    def synced(self, session: Session) -> PictureIndex:
        """The indexes with every fingerprint row ``session`` can see. Holds :attr:`lock`."""
        with self.lock:
            newest = int(session.scalar(select(func.max(WorkFingerprint.id))) or 0)
            if self.index is None or self.keypoints is None or self.watermark > newest:
                self.index, self.keypoints, self.watermark = self._load(newest)
            added = self._catch_up(session, newest)
            self.unsaved += added
            if self.unsaved >= SAVE_EVERY:
                self._save()
            return PictureIndex(self.index, self.keypoints)

    def save(self) -> None:
        """Write the in-memory indexes to :attr:`path` (nothing if never loaded)."""
        with self.lock:
            self._save()

    def _save(self) -> None:
        if self.index is not None and self.keypoints is not None:
            self.keypoints.save(self.keypoint_path, watermark=self.watermark)
            self.index.save(self.path, watermark=self.watermark)
            self.unsaved = 0

    def _load(self, newest: int) -> tuple[HammingIndex, KeypointIndex, int]:
        if self.path.exists():
            try:
                index, watermark = HammingIndex.load(self.path)
                keypoints, keypoint_watermark = KeypointIndex.load(self.keypoint_path)
            except InvalidInput as exc:
                _log.warning("rebuilding the fingerprint index: %s", exc.detail)
            else:
                if watermark != keypoint_watermark:
                    _log.warning("the saved keypoint and code indexes differ; rebuilding")
                elif watermark <= newest:
                    return index, keypoints, watermark
                else:
                    _log.warning("the saved fingerprint index is ahead of the store; rebuilding")
        return HammingIndex(), KeypointIndex(), 0

    def _catch_up(self, session: Session, newest: int) -> int:
        assert self.index is not None
        assert self.keypoints is not None
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
            labels = np.array([r.work_id for r in rows], dtype=np.int64)
            tags = np.array([r.tag for r in rows], dtype=np.int16)
            keypoint = is_keypoint_tag(tags)
            self.index.add(codes[~keypoint], labels[~keypoint], tags[~keypoint])
            self.keypoints.add(codes[keypoint], labels[keypoint], tags[keypoint])
            self.watermark = int(rows[-1].id)
            added += len(rows)
        return added
