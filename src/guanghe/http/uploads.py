"""Reading multipart uploads into a :class:`~guanghe.originality.WorkDraft` (publishing and
diagnosis take the same inputs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, UploadFile

from guanghe import originality
from guanghe.errors import TooLarge
from guanghe.originality.images import MAX_IMAGE_BYTES, MAX_VIDEO_BYTES


def decode_slots(request: Request) -> originality.DecodeSlots:
    """The app's decode slots (see :func:`guanghe.app.create_app`)."""
    slots = request.app.state.decode_slots
    assert isinstance(slots, originality.DecodeSlots)
    return slots


DecodeSlotsDep = Annotated[originality.DecodeSlots, Depends(decode_slots)]


def _read(upload: UploadFile, limit: int, field: str) -> bytes:
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"{field}: the file is larger than {limit:,} bytes")
    return data


def read_draft(
    slots: originality.DecodeSlots,
    creator_id: int,
    title: str,
    caption: str,
    hashtags: str,
    cover: UploadFile,
    frames: list[UploadFile],
    duration_s: int | None,
    vertical: str | None,
    video: UploadFile | None = None,
) -> originality.WorkDraft:
    """Decode and validate an upload in one of ``slots``; :class:`InvalidInput` (or
    :class:`TooLarge`) names the bad field."""
    files = [
        (f.filename or f"frame {n}", _read(f, MAX_VIDEO_BYTES, f"frames[{n}]"))
        for n, f in enumerate(frames)
    ]
    upload = originality.decode_upload(_read(cover, MAX_IMAGE_BYTES, "cover"), files, slots)
    media = None
    if video is not None:
        media = originality.fingerprint_upload(_read(video, MAX_VIDEO_BYTES, "video"), slots)
    video_s = round(media.duration_s) if media is not None else upload.video_s
    return originality.WorkDraft(
        creator_id=creator_id,
        title=title,
        caption=caption,
        hashtags=originality.parse_hashtags(hashtags),
        cover=upload.cover,
        frames=tuple(upload.frames),
        duration_s=duration_s or video_s,
        vertical=vertical or None,
        media=media,
    )
