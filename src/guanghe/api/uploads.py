"""Reading multipart uploads into a :class:`~guanghe.originality.WorkDraft` (publishing and
diagnosis take the same inputs)."""

from __future__ import annotations

from fastapi import UploadFile

from guanghe import originality
from guanghe.errors import InvalidInput
from guanghe.originality.images import MAX_IMAGE_BYTES, MAX_VIDEO_BYTES


def _read(upload: UploadFile, limit: int, field: str) -> bytes:
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"{field}: the file is larger than {limit:,} bytes")
    return data


def read_draft(
    creator_id: int,
    title: str,
    caption: str,
    hashtags: str,
    cover: UploadFile,
    frames: list[UploadFile],
    duration_s: int | None,
    vertical: str | None,
) -> originality.WorkDraft:
    """Decode and validate an upload; :class:`InvalidInput` names the bad field."""
    picture = originality.decode_picture(_read(cover, MAX_IMAGE_BYTES, "cover"), "cover")
    files = [
        (f.filename or f"frame {n}", _read(f, MAX_VIDEO_BYTES, f"frames[{n}]"))
        for n, f in enumerate(frames)
    ]
    decoded, video_s = originality.decode_frames(files)
    return originality.WorkDraft(
        creator_id=creator_id,
        title=title,
        caption=caption,
        hashtags=originality.parse_hashtags(hashtags),
        cover=picture,
        frames=tuple(decoded),
        duration_s=duration_s or video_s,
        vertical=vertical or None,
    )
