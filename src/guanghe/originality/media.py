"""Segment matching of uploaded videos, in picture and in sound, against every indexed video.

:class:`MediaIndex` is the deployment's index of video frame hashes (a
:class:`~guanghe.originality.frame_index.FrameIndex`, label the work, tag the frame's time and
window) and of sound (:class:`~guanghe.originality.audio.AudioIndex`), kept in memory per
runtime and brought up to date from the ``video_fingerprints`` and ``audio_fingerprints`` rows
added since (``id`` above its watermarks) before every search, so it grows as works arrive and
sees works published by other processes.

:func:`match_media` turns the hits into :class:`~guanghe.originality.segments.SegmentMatch`\\ es:

* picture: every upload frame code is searched within :data:`VIDEO_RADIUS` bits (every code
  within :data:`VIDEO_EXACT_RADIUS` bits, and those farther with a 32-bit substring within one
  bit of the query's); the hits per
  work are aligned in time (:func:`~guanghe.originality.segments.align`), which also gives the
  speed; the matched stretch runs from the first to the last aligned upload frame;
* sound: the Chromaprint items are searched by segment; the stretches of the upload that repeat
  a track marked as shared music are left out first, so two videos over the same backing
  track do not match each other, and a match with the shared track itself is no copy.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Final

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanghe.originality import segments
from guanghe.originality.audio import ITEM_S, ITEM_SPAN_S, AudioIndex, Items, fingerprint_audio
from guanghe.originality.frame_index import GUARANTEED_RADIUS, FrameIndex
from guanghe.originality.images import DecodeSlots
from guanghe.originality.segments import SegmentMatch
from guanghe.originality.video import (
    DecodedVideo,
    VideoFingerprint,
    VideoQuery,
    check_video_header,
    decode_video,
    fingerprint_and_query,
    time_of_tag,
)
from guanghe.store import AudioFingerprintRow, SharedMusic, VideoFingerprintRow

#: Frame hashes this close are a hit. They are found through eight 32-bit keys probed with up to
#: one flipped bit (:data:`VIDEO_NFLIP`): every code within :data:`VIDEO_EXACT_RADIUS` bits,
#: exactly as a linear scan, and most within 31. A copy has many frames, and eight tables of
#: 32-bit keys keep a check's cost (8 x 25 buckets of ``n / 2**32`` codes a query code) flat as
#: the index grows.
VIDEO_RADIUS: Final = 31
VIDEO_NFLIP: Final = 1
VIDEO_EXACT_RADIUS: Final = GUARANTEED_RADIUS[VIDEO_NFLIP]
#: An upload stretch covered this much by shared music is no match of another work's sound.
SHARED_COVER: Final = 0.5
_CHUNK: Final = 5_000


@dataclass(frozen=True, slots=True)
class MediaFingerprint:
    """What publishing a video stores and searches with."""

    video: VideoFingerprint
    query: VideoQuery
    audio: Items

    @property
    def duration_s(self) -> float:
        return self.video.duration_s


def fingerprint_upload(data: bytes, slots: DecodeSlots, field: str = "video") -> MediaFingerprint:
    """Check an uploaded video against every limit from its header, then decode and
    fingerprint it in one of ``slots`` (see :func:`~guanghe.originality.video.decode_video`)."""
    check_video_header(data, field)
    with slots.turn():
        return fingerprint_media(decode_video(data, field))


def fingerprint_media(decoded: DecodedVideo) -> MediaFingerprint:
    """The stored fingerprint, the query codes and the sound items of a decoded video."""
    stored, query = fingerprint_and_query(decoded)
    return MediaFingerprint(stored, query, fingerprint_audio(decoded.audio))


@dataclass
class MediaIndex:
    """The video and sound index of one store (in memory; rebuilt from the tables on start)."""

    video: FrameIndex = field(default_factory=FrameIndex)
    audio: AudioIndex = field(default_factory=AudioIndex)
    video_watermark: int = 0
    audio_watermark: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def synced(self, session: Session) -> MediaIndex:
        """This index with every fingerprint row ``session`` can see. Holds :attr:`lock`."""
        with self.lock:
            self._catch_up_video(session)
            self._catch_up_audio(session)
            return self

    def _catch_up_video(self, session: Session) -> None:
        newest = int(session.scalar(select(func.max(VideoFingerprintRow.id))) or 0)
        if newest < self.video_watermark:
            self.video, self.video_watermark = FrameIndex(), 0
        while self.video_watermark < newest:
            rows = session.execute(
                select(
                    VideoFingerprintRow.id,
                    VideoFingerprintRow.work_id,
                    VideoFingerprintRow.codes,
                    VideoFingerprintRow.tags,
                )
                .where(VideoFingerprintRow.id > self.video_watermark)
                .order_by(VideoFingerprintRow.id)
                .limit(_CHUNK)
            ).all()
            if not rows:
                break
            for row in rows:
                codes = np.frombuffer(row.codes, dtype=np.uint8).reshape(-1, 32)
                tags = np.frombuffer(row.tags, dtype="<i2").astype(np.int16)
                labels = np.full(tags.size, row.work_id, dtype=np.int64)
                self.video.add(codes, labels, tags, seal=False)
            self.video_watermark = int(rows[-1].id)
        # one sort for a bulk catch-up (the start of a process), a small segment otherwise
        self.video.settle()

    def _catch_up_audio(self, session: Session) -> None:
        newest = int(session.scalar(select(func.max(AudioFingerprintRow.id))) or 0)
        if newest < self.audio_watermark:
            self.audio, self.audio_watermark = AudioIndex(), 0
        while self.audio_watermark < newest:
            rows = session.execute(
                select(
                    AudioFingerprintRow.id, AudioFingerprintRow.work_id, AudioFingerprintRow.items
                )
                .where(AudioFingerprintRow.id > self.audio_watermark)
                .order_by(AudioFingerprintRow.id)
                .limit(_CHUNK)
            ).all()
            if not rows:
                break
            for row in rows:
                self.audio.add(
                    int(row.work_id), np.frombuffer(row.items, dtype="<u4").astype(np.uint32)
                )
            self.audio_watermark = int(rows[-1].id)


def shared_music_ids(session: Session) -> set[int]:
    """Works whose sound is marked as shared music."""
    return set(session.scalars(select(SharedMusic.work_id)))


def record_media(session: Session, work_id: int, media: MediaFingerprint) -> None:
    """Store a published video's fingerprints (the index picks them up on its next search)."""
    video = media.video
    if video.codes.shape[0]:
        session.add(
            VideoFingerprintRow(
                work_id=work_id,
                codes=video.codes.tobytes(),
                tags=video.tags.astype("<i2").tobytes(),
                duration_ms=round(video.duration_s * 1000),
                interval_ms=round(video.interval_s * 1000),
            )
        )
    if media.audio.size:
        session.add(AudioFingerprintRow(work_id=work_id, items=media.audio.astype("<u4").tobytes()))


def match_video(index: FrameIndex, query: VideoQuery) -> list[SegmentMatch]:
    """Picture matches of an upload, one per indexed work, longest first."""
    if query.codes.shape[0] == 0 or index.size == 0:
        return []
    hits = index.search(query.codes, np.full(query.codes.shape[0], VIDEO_RADIUS), nflip=VIDEO_NFLIP)
    if hits.query.size == 0:
        return []
    matches = []
    order = np.argsort(hits.label, kind="stable")
    labels = hits.label[order]
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    ends = np.r_[starts[1:], labels.size]
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        rows = order[start:end]
        qrows = hits.query[rows]
        upload_t = query.times[qrows]
        if np.unique(upload_t).size < segments.MIN_FRAMES:
            continue
        indexed_t = np.array([time_of_tag(t)[0] for t in hits.tag[rows].tolist()])
        line = segments.align(upload_t, indexed_t)
        if line is None:
            continue
        matched_t = upload_t[line.inliers]
        frames = int(np.unique(matched_t).size)
        upload_start = float(matched_t.min())
        upload_end = min(query.duration_s, float(matched_t.max()) + query.interval_s)
        original_start = max(0.0, line.speed * upload_start + line.offset)
        original_end = max(original_start, line.speed * upload_end + line.offset)
        mirrored = bool(np.mean(query.mirrored[qrows[line.inliers]]) > 0.5)
        matches.append(
            SegmentMatch(
                work_id=int(labels[start]),
                kind="video",
                upload_start_s=upload_start,
                upload_end_s=upload_end,
                original_start_s=original_start,
                original_end_s=original_end,
                upload_share=_share(upload_start, upload_end, query.duration_s),
                speed=round(line.speed, 3),
                mirrored=mirrored,
                score=float(frames),
            )
        )
    return sorted(matches, key=lambda m: (-m.upload_share, -m.score, m.work_id))


def match_audio(
    index: AudioIndex, items: Items, duration_s: float, shared: set[int]
) -> list[SegmentMatch]:
    """Sound matches of an upload (its Chromaprint ``items``), leaving out shared music."""
    found = index.search(items)
    covered = np.zeros(items.size, dtype=np.bool_)
    for segment in found:
        if segment.work_id in shared:
            covered[segment.query_start : segment.query_end] = True
    matches = []
    for segment in found:
        if segment.work_id in shared:
            continue
        if covered[segment.query_start : segment.query_end].mean() >= SHARED_COVER:
            continue
        upload_start = segment.query_start * ITEM_S
        upload_end = min(duration_s, (segment.query_end - 1) * ITEM_S + ITEM_SPAN_S)
        original_start = segment.indexed_start * ITEM_S
        matches.append(
            SegmentMatch(
                work_id=segment.work_id,
                kind="audio",
                upload_start_s=upload_start,
                upload_end_s=upload_end,
                original_start_s=original_start,
                original_end_s=original_start + (upload_end - upload_start),
                upload_share=_share(upload_start, upload_end, duration_s),
                speed=1.0,
                mirrored=False,
                score=round(1.0 - segment.bit_errors, 3),
            )
        )
    return matches


def match_media(index: MediaIndex, media: MediaFingerprint, shared: set[int]) -> list[SegmentMatch]:
    """Picture and sound matches of an upload (picture first, then sound; longest first)."""
    return [
        *match_video(index.video, media.query),
        *match_audio(index.audio, media.audio, media.duration_s, shared),
    ]


def _share(start: float, end: float, duration: float) -> float:
    if duration <= 0:
        return 0.0
    return float(min(1.0, max(0.0, (end - start) / duration)))
