"""The originality check of an upload and the publication of a work with its attribution.

The first publisher is the original. A later upload whose pictures match an indexed work is
attributed to that work's *root* (the original it was itself attributed to, if it was a copy):

* the earliest matched root belongs to the uploader → ``original`` (a re-post of one's own work);
* otherwise, against the matched root of another creator with the strongest evidence (earliest
  first) → ``duplicate`` when the pictures were verified (or the hashes are close and the text
  is copied too), ``suspect`` when only the hashes are close; a suspect opens a review case.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.originality import matching
from guanghe.originality.fingerprint import (
    fingerprint_image,
    query_codes,
    text_signature,
    text_similarity,
    trim_border,
)
from guanghe.originality.keypoints import stored_keypoints
from guanghe.originality.matches import Segment, sync_match
from guanghe.originality.registry import FingerprintIndex
from guanghe.store import (
    OriginalityCase,
    OriginalityDecision,
    Work,
    WorkFingerprint,
    WorkOriginality,
    WorkTextSignature,
)

Verdict = Literal["original", "duplicate", "suspect"]
#: Copied text (estimated Jaccard of 3-gram shingles) that, with close hashes, makes a duplicate.
COPIED_TEXT: Final = 0.5
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OriginalityCheck:
    """The verdict on an upload.

    ``original_work_id`` / ``original_creator_id`` name the original a duplicate or suspect
    copies; ``own_work_id`` the uploader's own earlier work an original re-posts, if any.
    ``distance`` is the Hamming distance (of 256 bits) of the nearest matching hashes.
    """

    verdict: Verdict
    original_work_id: int | None
    original_creator_id: int | None
    distance: int | None
    text_similarity: float | None
    evidence: str
    own_work_id: int | None = None


@dataclass(frozen=True, slots=True)
class _Root:
    work_id: int
    creator_id: int
    published_at: dt.datetime
    match: matching.Match


def check_originality(
    session: Session,
    index: FingerprintIndex,
    covers_dir: Path,
    *,
    creator_id: int,
    cover: Image.Image,
    frames: Iterable[Image.Image] = (),
    text: str = "",
    published_at: dt.datetime | None = None,
) -> OriginalityCheck:
    """Check an upload by ``creator_id`` against every indexed work (with ``published_at``,
    a work already published: against the works published before it); writes nothing."""
    searched = index.synced(session)
    picture_of = _cover_loader(session, covers_dir)
    best: dict[int, matching.Match] = {}
    pictures = [(cover, True), *((frame, False) for frame in frames)]
    for picture, with_grid in pictures:
        codes = query_codes(picture, with_grid=with_grid)
        for match in matching.find_matches(
            picture, codes, searched, picture_of, by_keypoints=with_grid
        ):
            held = best.get(match.candidate.work_id)
            if held is None or _strength(match) > _strength(held):
                best[match.candidate.work_id] = match
    if not best:
        return OriginalityCheck("original", None, None, None, None, "no similar work")
    roots = _roots(session, best)
    if published_at is not None:
        roots = [r for r in roots if r.published_at < published_at]
        if not roots:
            return OriginalityCheck("original", None, None, None, None, "no earlier similar work")
    signature = text_signature(text)
    similarity = _text_similarities(session, signature, {r.work_id for r in roots})
    own = [r for r in roots if r.creator_id == creator_id]
    others = [r for r in roots if r.creator_id != creator_id]

    def rank(root: _Root) -> tuple[int, dt.datetime, int]:
        copied = similarity.get(root.work_id, 0.0) >= COPIED_TEXT
        strong = root.match.evidence == "verified" or copied
        return (0 if strong else 1, root.published_at, root.work_id)

    first_own = min(own, key=lambda r: (r.published_at, r.work_id), default=None)
    chosen = min(others, key=rank, default=None)
    if chosen is None or (first_own is not None and first_own.published_at <= chosen.published_at):
        assert first_own is not None
        return OriginalityCheck(
            "original",
            None,
            None,
            first_own.match.candidate.distance,
            similarity.get(first_own.work_id),
            "re-post of the creator's own work",
            own_work_id=first_own.work_id,
        )
    verdict: Verdict = "duplicate" if rank(chosen)[0] == 0 else "suspect"
    return OriginalityCheck(
        verdict,
        chosen.work_id,
        chosen.creator_id,
        chosen.match.candidate.distance,
        similarity.get(chosen.work_id),
        _describe(chosen.match, similarity.get(chosen.work_id)),
    )


def _strength(match: matching.Match) -> tuple[int, int]:
    return (1 if match.evidence == "verified" else 0, -match.candidate.distance)


def _describe(match: matching.Match, text: float | None) -> str:
    c = match.candidate
    parts = [f"{c.source} {c.query_region}~{c.indexed_region} at {c.distance} bits"]
    if match.agreement is not None:
        parts.append(
            f"pixels agree {match.agreement.structure_agreement:.0%} "
            f"(r={match.agreement.correlation:.2f})"
        )
    if text is not None:
        parts.append(f"text {text:.0%} alike")
    return "; ".join(parts)[:200]


def _roots(session: Session, matches: dict[int, matching.Match]) -> list[_Root]:
    """Each matched work's root original (itself, unless it was attributed to another)."""
    attributed = dict(
        session.execute(
            select(WorkOriginality.work_id, WorkOriginality.original_work_id).where(
                WorkOriginality.work_id.in_(matches),
                WorkOriginality.original_work_id.is_not(None),
            )
        ).all()
    )
    root_of = {work_id: attributed.get(work_id, work_id) for work_id in matches}
    works = {
        row.id: row
        for row in session.execute(
            select(Work.id, Work.creator_id, Work.published_at).where(
                Work.id.in_(set(root_of.values()))
            )
        )
    }
    roots: dict[int, _Root] = {}
    for work_id, match in matches.items():
        root = works.get(root_of[work_id])
        if root is None:
            continue
        held = roots.get(root.id)
        if held is None or _strength(match) > _strength(held.match):
            roots[root.id] = _Root(root.id, root.creator_id, root.published_at, match)
    return list(roots.values())


def _text_similarities(
    session: Session, signature: np.ndarray | None, work_ids: set[int]
) -> dict[int, float]:
    if signature is None or not work_ids:
        return {}
    rows = session.execute(
        select(WorkTextSignature.work_id, WorkTextSignature.minhash).where(
            WorkTextSignature.work_id.in_(work_ids)
        )
    )
    return {
        work_id: text_similarity(signature, np.frombuffer(minhash, dtype=np.uint32))
        for work_id, minhash in rows
    }


def _cover_loader(session: Session, covers_dir: Path) -> matching.PictureSource:
    def load(work_id: int) -> Image.Image | None:
        relpath = session.scalar(select(Work.cover_path).where(Work.id == work_id))
        if not relpath:
            return None
        try:
            with Image.open(covers_dir / relpath) as image:
                return image.convert("RGB")
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            _log.warning("cover of work %s unreadable: %s", work_id, exc)
            return None

    return load


@dataclass(frozen=True, slots=True)
class FingerprintValues:
    """The column values of a work's fingerprint rows and of its text signature row."""

    fingerprints: list[dict[str, Any]]
    signature: dict[str, Any] | None


def fingerprint_values(
    work_id: int,
    *,
    cover: Image.Image,
    frames: Iterable[Image.Image] = (),
    text: str = "",
) -> FingerprintValues:
    """The rows :func:`record_fingerprints` stores, as column values (for a bulk insert)."""
    rows = []
    trimmed_cover = trim_border(cover)  # once, for its hashes and its keypoints
    for source, pictures in (("cover", [trimmed_cover]), ("frame", list(frames))):
        for picture in pictures:
            fingerprint = fingerprint_image(picture, trimmed=source == "cover")
            for region, code in enumerate(fingerprint.codes):
                rows.append(
                    {
                        "work_id": work_id,
                        "tag": matching.tag_of(source, region),
                        "pdq": code.tobytes(),
                        "quality": fingerprint.quality,
                    }
                )
    keypoints = stored_keypoints(trimmed_cover, trimmed=True)
    cover_quality = rows[0]["quality"]
    rows.extend(
        {"work_id": work_id, "tag": int(tag), "pdq": descriptor.tobytes(), "quality": cover_quality}
        for descriptor, tag in zip(keypoints.descriptors, keypoints.tags, strict=True)
    )
    signature = text_signature(text)
    return FingerprintValues(
        rows,
        None if signature is None else {"work_id": work_id, "minhash": signature.tobytes()},
    )


def record_fingerprints(
    session: Session,
    work_id: int,
    *,
    cover: Image.Image,
    frames: Iterable[Image.Image] = (),
    text: str = "",
) -> None:
    """Store the hashes of a work's cover and frames, the cover's keypoints (their tags keep
    their positions, see :class:`~guanghe.originality.keypoints.Keypoints`) and its text
    signature."""
    values = fingerprint_values(work_id, cover=cover, frames=frames, text=text)
    session.add_all(WorkFingerprint(**row) for row in values.fingerprints)
    if values.signature is not None:
        session.add(WorkTextSignature(**values.signature))


def record_attribution(
    session: Session,
    work_id: int,
    check: OriginalityCheck,
    *,
    now: dt.datetime,
    context: str = "checked at publication",
    media: str = "picture",
    segment: Segment | None = None,
) -> None:
    """Store the check's verdict on ``work_id`` and log it (the note starts with
    ``context``); a duplicate opens a match in force from ``now`` (of ``media``, with the
    ``segment`` of a video or sound match), a suspect a review case."""
    decision = add_verdict(session, work_id, check, now=now, context=context)
    session.flush()
    sync_match(
        session,
        decision,
        distance=check.distance,
        evidence=check.evidence,
        media=media,
        segment=segment,
    )
    if check.verdict == "suspect":
        session.add(
            OriginalityCase(
                kind="review",
                work_id=work_id,
                claimed_original_work_id=check.original_work_id,
                statement=f"possible copy of work {check.original_work_id}: {check.evidence}",
                opened_at=now,
            )
        )


def add_verdict(
    session: Session,
    work_id: int,
    check: OriginalityCheck,
    *,
    now: dt.datetime,
    context: str,
) -> OriginalityDecision:
    """Add (unflushed) the verdict row and the logged decision of :func:`record_attribution`,
    nothing else: alone, only for an ``original`` verdict on a work with no match in force,
    where there is no match to open or end."""
    verdict, logged = verdict_values(work_id, check, now=now, context=context)
    session.add(WorkOriginality(**verdict))
    decision = OriginalityDecision(**logged)
    session.add(decision)
    return decision


def verdict_values(
    work_id: int, check: OriginalityCheck, *, now: dt.datetime, context: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The column values of :func:`add_verdict`'s verdict row and decision (for a bulk
    insert, with the same restriction)."""
    verdict = {
        "work_id": work_id,
        "verdict": check.verdict,
        "original_work_id": check.original_work_id,
        "original_creator_id": check.original_creator_id,
        "distance": check.distance,
        "text_similarity": check.text_similarity,
        "evidence": check.evidence,
        "decided_at": now,
    }
    decision = {
        "work_id": work_id,
        "verdict": check.verdict,
        "original_work_id": check.original_work_id,
        "note": f"{context}: {check.evidence}",
        "decided_at": now,
    }
    return verdict, decision


def save_cover(covers_dir: Path, work_id: int, data: bytes, extension: str) -> str:
    """Write a cover's bytes atomically; returns its path relative to ``covers_dir``."""
    relpath = f"{work_id // 1000}/{work_id}.{extension}"
    path = covers_dir / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return relpath
