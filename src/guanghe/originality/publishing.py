"""Publishing a work: validate the draft, check who may publish it, run the originality check,
then store the work, its cover, fingerprints and attribution in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import Forbidden, InvalidInput, NotFound
from guanghe.originality.attribution import (
    OriginalityCheck,
    check_originality,
    record_attribution,
    record_fingerprints,
    save_cover,
)
from guanghe.originality.images import Picture
from guanghe.originality.media import (
    MediaFingerprint,
    MediaIndex,
    match_media,
    record_media,
    shared_music_ids,
)
from guanghe.originality.media_matches import (
    RootedMatch,
    deciding_copy,
    match_segment,
    record_matches,
    rooted_copies,
    with_media_verdict,
)
from guanghe.originality.registry import FingerprintIndex
from guanghe.store import Creator, Vertical, Work

MAX_TITLE: Final = 200
MAX_CAPTION: Final = 5_000
MAX_HASHTAGS: Final = 30
MAX_HASHTAG_CHARS: Final = 40
#: Duration recorded when neither the request nor a video says how long the work is.
DEFAULT_DURATION_S: Final = 15
_TAG: Final = re.compile(r"[^\s,，#]+")


@dataclass(frozen=True, slots=True)
class WorkDraft:
    """What a creator uploads: metadata, the cover, frames (pictures, or sampled from a
    video, whose length is ``duration_s`` when known) and the fingerprints of an uploaded
    video (``media``), matched by segment in picture and sound."""

    creator_id: int
    title: str
    caption: str
    hashtags: tuple[str, ...]
    cover: Picture
    frames: tuple[Image.Image, ...] = ()
    duration_s: int | None = None
    vertical: str | None = None
    media: MediaFingerprint | None = None

    @property
    def text(self) -> str:
        """The text fingerprinted with MinHash."""
        return " ".join((self.title, self.caption, *self.hashtags))


@dataclass(frozen=True, slots=True)
class PublishedWork:
    id: int
    creator_id: int
    published_at: dt.datetime
    title: str
    caption: str
    hashtags: list[str]
    vertical: str
    duration_s: int
    cover_path: str
    originality: OriginalityCheck
    media_matches: tuple[RootedMatch, ...] = ()


def parse_hashtags(text: str) -> tuple[str, ...]:
    """``"#food, travel #food"`` → ``("#food", "#travel")``: split on spaces, commas and
    ``#``, de-duplicated in order; :class:`InvalidInput` when too many or too long."""
    tags = list(dict.fromkeys("#" + t.lower() for t in _TAG.findall(text)))
    if len(tags) > MAX_HASHTAGS:
        raise InvalidInput(f"hashtags: at most {MAX_HASHTAGS}, not {len(tags)}")
    long = [t for t in tags if len(t) > MAX_HASHTAG_CHARS]
    if long:
        raise InvalidInput(f"hashtags: {long[0]!r} is longer than {MAX_HASHTAG_CHARS} characters")
    return tuple(tags)


def check_metadata(title: str, caption: str) -> tuple[str, str]:
    """The stripped title and caption; :class:`InvalidInput` when empty or too long."""
    title, caption = title.strip(), caption.strip()
    if not title:
        raise InvalidInput("title: a work needs a title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"title: at most {MAX_TITLE} characters, not {len(title)}")
    if len(caption) > MAX_CAPTION:
        raise InvalidInput(f"caption: at most {MAX_CAPTION} characters, not {len(caption)}")
    return title, caption


def check_uploader(session: Session, principal: Principal, creator_id: int) -> Creator:
    """The creator ``principal`` may upload for: a creator only as itself, an operator for
    anyone."""
    if principal.role == "creator":
        if principal.subject_id != creator_id:
            raise Forbidden(f"a creator token publishes only as creator {principal.subject_id}")
    elif principal.role != "operator":
        raise Forbidden(f"the {principal.role} role cannot publish works")
    creator = session.get(Creator, creator_id)
    if creator is None:
        raise NotFound(f"creator {creator_id} does not exist")
    return creator


def publish_work(
    session: Session,
    principal: Principal,
    draft: WorkDraft,
    *,
    index: FingerprintIndex,
    covers_dir: Path,
    now: dt.datetime,
    media_index: MediaIndex | None = None,
) -> PublishedWork:
    """Check and publish ``draft`` at ``now``; the caller commits. A draft with a video
    (``draft.media``) needs ``media_index``."""
    creator = check_uploader(session, principal, draft.creator_id)
    title, caption = check_metadata(draft.title, draft.caption)
    vertical_id, vertical = _vertical(session, creator, draft.vertical)
    check = check_originality(
        session,
        index,
        covers_dir,
        creator_id=creator.id,
        cover=draft.cover.image,
        frames=draft.frames,
        text=draft.text,
    )
    copies: list[RootedMatch] = []
    deciding: RootedMatch | None = None
    if draft.media is not None:
        if media_index is None:
            raise InvalidInput("video: this publisher has no video index")
        matches = match_media(media_index.synced(session), draft.media, shared_music_ids(session))
        copies = rooted_copies(session, matches, creator_id=creator.id)
        deciding = deciding_copy(check, copies)
        check = with_media_verdict(check, deciding)
    work = Work(
        creator_id=creator.id,
        published_at=now,
        title=title,
        caption=caption,
        hashtags=list(draft.hashtags),
        vertical_id=vertical_id,
        duration_s=draft.duration_s or DEFAULT_DURATION_S,
    )
    session.add(work)
    session.flush()
    work.cover_path = save_cover(covers_dir, work.id, draft.cover.data, draft.cover.extension)
    record_fingerprints(
        session, work.id, cover=draft.cover.image, frames=draft.frames, text=draft.text
    )
    if draft.media is not None:
        record_media(session, work.id, draft.media)
        record_matches(session, work.id, copies, now=now)
    record_attribution(
        session,
        work.id,
        check,
        now=now,
        media=deciding.match.kind if deciding else "picture",
        segment=match_segment(deciding) if deciding else None,
    )
    session.flush()
    return PublishedWork(
        id=work.id,
        creator_id=creator.id,
        published_at=now,
        title=title,
        caption=caption,
        hashtags=list(draft.hashtags),
        vertical=vertical,
        duration_s=work.duration_s,
        cover_path=work.cover_path,
        originality=check,
        media_matches=tuple(copies),
    )


def _vertical(session: Session, creator: Creator, slug: str | None) -> tuple[int, str]:
    where = Vertical.id == creator.vertical_id if slug is None else Vertical.slug == slug
    found = session.execute(select(Vertical.id, Vertical.slug).where(where)).one_or_none()
    if found is None:
        raise InvalidInput(f"vertical: unknown vertical {slug!r}")
    return int(found[0]), str(found[1])
