"""Demo re-uploads: other creators publish edited copies of existing covers (cropped,
re-encoded, with a caption overlay), a creator re-posts their own work, and a few new works
appear — all through the publishing service, so the originality check runs on each."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Final

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe import originality
from guanghe.access import Principal, create_token
from guanghe.runtime import Runtime
from guanghe.store import Work, transaction

#: Recent works fingerprinted before the demo publishes (older ones are left unregistered).
REGISTERED_WORKS: Final = 2_000


@dataclass(frozen=True, slots=True)
class DemoUpload:
    kind: str
    work_id: int
    verdict: str
    original_work_id: int | None


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _edits(cover: Image.Image) -> dict[str, bytes]:
    width, height = cover.size
    dx, dy = round(width * 0.05), round(height * 0.05)
    jpeg = io.BytesIO()
    cover.save(jpeg, "JPEG", quality=30)
    overlaid = cover.resize((width * 3, height * 3))
    font = ImageFont.load_default(size=max(14, width // 6))
    ImageDraw.Draw(overlaid).text(
        (width * 0.2, height * 0.3),
        "MUST SEE",
        font=font,
        fill=(255, 255, 255),
        stroke_width=2,
        stroke_fill=(0, 0, 0),
    )
    return {
        "cropped copy": _png(cover.crop((dx, dy, width - dx, height - dy)).resize(cover.size)),
        "re-encoded copy": jpeg.getvalue(),
        "copy with caption overlay": _png(overlaid),
    }


def publish_demo_reuploads(runtime: Runtime, *, seed: int, now: dt.datetime) -> list[DemoUpload]:
    """Register the newest works' fingerprints, then publish the demo uploads."""
    rng = np.random.default_rng(seed)
    settings = runtime.settings
    index = originality.fingerprint_index(settings.data_dir)
    with transaction(runtime.sessions) as session:
        recent = list(
            session.scalars(
                select(Work.id).order_by(Work.published_at.desc()).limit(REGISTERED_WORKS)
            )
        )
        originality.register_works(session, settings.covers_dir, recent, now=now)
        creators = sorted(
            {int(c) for c in session.scalars(select(Work.creator_id).where(Work.id.in_(recent)))}
        )
        principal, _ = create_token(
            session, role="operator", subject_id=None, name="demo publisher", now=now
        )
    uploads: list[DemoUpload] = []
    for n, work_id in enumerate(rng.choice(recent, size=min(3, len(recent)), replace=False)):
        with transaction(runtime.sessions) as session:
            work = session.get_one(Work, int(work_id))
            with Image.open(settings.covers_dir / str(work.cover_path)) as image:
                cover = image.convert("RGB")
            others = [c for c in creators if c != work.creator_id]
            kind, data = list(_edits(cover).items())[n]
            uploads.append(
                _publish(
                    session,
                    principal,
                    index,
                    runtime,
                    kind,
                    data,
                    creator_id=int(rng.choice(others)),
                    title=f"{work.title} (reposted)",
                    now=now,
                )
            )
            if n == 0:  # the original creator re-posts their own work: not a duplicate
                uploads.append(
                    _publish(
                        session,
                        principal,
                        index,
                        runtime,
                        "own re-post",
                        _png(cover),
                        creator_id=work.creator_id,
                        title=work.title,
                        now=now,
                    )
                )
    return uploads


def _publish(
    session: Session,
    principal: Principal,
    index: originality.FingerprintIndex,
    runtime: Runtime,
    kind: str,
    data: bytes,
    *,
    creator_id: int,
    title: str,
    now: dt.datetime,
) -> DemoUpload:
    draft = originality.WorkDraft(
        creator_id=creator_id,
        title=title,
        caption="",
        hashtags=(),
        cover=originality.decode_picture(data, "cover"),
    )
    published = originality.publish_work(
        session,
        principal,
        draft,
        index=index,
        covers_dir=runtime.settings.covers_dir,
        now=now,
    )
    check = published.originality
    return DemoUpload(kind, published.id, check.verdict, check.original_work_id)
