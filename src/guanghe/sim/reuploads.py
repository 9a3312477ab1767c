"""Demo re-uploads: other creators publish edited copies of existing covers (cropped,
re-encoded, with a caption overlay) and a creator re-posts their own work; a creator publishes
a video and others re-upload it with each edit of :data:`guanghe.sim.videos.EDITS` and with new
pictures over its sound; a library track is marked as shared music and used by another video —
all through the publishing service, so the originality check runs on each — and a case about
one of them waits for the operator. The first copy's original is monetized by its author and
the copy earns ad revenue, which the cycle redirects to the author; upholding the copier's
dispute returns it. They happen at the end of the platform's timeline, not the wall
clock, so the report for the simulated period counts them."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Final

import numpy as np
import pyarrow as pa
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe import originality
from guanghe.access import Principal, create_token
from guanghe.events import EVENT_SCHEMA
from guanghe.monetize import CampaignSpec, create_campaign, deposit, register_party
from guanghe.runtime import Runtime
from guanghe.sim import videos
from guanghe.store import Work

#: The newest works the demo's re-uploads copy from, and whose creators re-upload them.
RECENT_WORKS: Final = 2_000
#: The monetized copy's ad revenue: rows of 100 impressions charged this much each.
COPY_AD_ROWS: Final = 4
COPY_AD_ROW_FEN: Final = 500
COPY_AD_BUDGET_FEN: Final = 100_000


#: Length of the demo's videos.
VIDEO_SECONDS: Final = 6.0


@dataclass(frozen=True, slots=True)
class DemoUpload:
    kind: str
    work_id: int
    verdict: str
    original_work_id: int | None
    #: The segment matches of a video upload, one line each.
    segments: tuple[str, ...] = ()


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


def publish_demo_reuploads(runtime: Runtime, *, seed: int) -> list[DemoUpload]:
    """Publish the demo uploads at the end of the platform's timeline (a second apart, just
    after its newest work) and open an originality case about one of them: the copier
    disputes a copy judged a duplicate, or, where the check let a copy through, the original's
    creator claims it."""
    rng = np.random.default_rng(seed)
    settings = runtime.settings
    index = runtime.fingerprint_index
    with runtime.sessions() as session:
        recent = list(
            session.scalars(select(Work.id).order_by(Work.published_at.desc()).limit(RECENT_WORKS))
        )
        if not recent:
            return []
        newest = session.get_one(Work, recent[0]).published_at
        creators = sorted(
            {int(c) for c in session.scalars(select(Work.creator_id).where(Work.id.in_(recent)))}
        )
    clock = iter(newest + dt.timedelta(seconds=s) for s in range(1, 1000))
    principal, _ = runtime.write(
        lambda session: create_token(
            session, role="operator", subject_id=None, name="demo publisher", now=newest
        )
    )
    uploads: list[DemoUpload] = []
    for n, work_id in enumerate(rng.choice(recent, size=min(3, len(recent)), replace=False)):
        with runtime.sessions() as session:
            work = session.get_one(Work, int(work_id))
            original_creator, title = work.creator_id, work.title
            with Image.open(settings.covers_dir / str(work.cover_path)) as image:
                cover = image.convert("RGB")
        others = [c for c in creators if c != original_creator] or [original_creator]
        kind, data = list(_edits(cover).items())[n]
        copier = int(rng.choice(others))
        upload = partial(_publish, principal=principal, index=index, runtime=runtime)
        uploads.append(
            upload(kind, data, creator_id=copier, title=f"{title} (reposted)", now=next(clock))
        )
        if n == 0:  # the original creator re-posts their own work: not a duplicate
            uploads.append(
                upload(
                    "own re-post",
                    _png(cover),
                    creator_id=original_creator,
                    title=title,
                    now=next(clock),
                )
            )
    if uploads:
        monetize_copy(runtime, uploads[0], now=next(clock))
        _open_case(runtime, uploads[0], int(recent[0]), now=next(clock))
    uploads.extend(_publish_videos(runtime, principal, creators, rng, clock))
    return uploads


def monetize_copy(runtime: Runtime, upload: DemoUpload, *, now: dt.datetime) -> None:
    """When ``upload`` was judged a copy: its original's author monetizes copies of that work,
    and the copy earns profile-ad revenue just after (a fresh advertiser's funded campaign
    charged for impressions naming the copy), which the cycle settles to the copier and then
    redirects to the author. The copier's dispute, upheld by an operator, returns it."""
    if upload.verdict != "duplicate" or upload.original_work_id is None:
        return
    with runtime.sessions() as session:
        author = session.get_one(Work, upload.original_work_id).creator_id
        copier = session.get_one(Work, upload.work_id).creator_id

    def choose_and_fund(session: Session) -> int:
        principal, _ = create_token(
            session, role="creator", subject_id=author, name="demo author", now=now
        )
        originality.choose_policy(
            session, principal, policy="monetize", work_id=upload.original_work_id, now=now
        )
        operator, _ = create_token(
            session, role="operator", subject_id=None, name="demo advertiser", now=now
        )
        advertiser = register_party(session, "advertiser", "Demo copy advertiser", now=now).id
        deposit(session, advertiser, key="demo-copy", amount_fen=COPY_AD_BUDGET_FEN, now=now)
        spec = CampaignSpec(
            name="Demo copy campaign",
            billing="cpm",
            bid_fen=1_000,
            budget_fen=COPY_AD_BUDGET_FEN,
            starts_at=now - dt.timedelta(days=1),
            ends_at=now + dt.timedelta(days=30),
            creative_title="Demo ad",
            creative_url="https://example.com/demo-ad",
        )
        return create_campaign(session, operator, advertiser, spec, now=now).id

    campaign = runtime.write(choose_and_fund)
    rows = [
        dict.fromkeys(EVENT_SCHEMA.names)
        | {
            "event_id": f"demo-copy-ad-{upload.work_id}-{n}",
            "type": "ad_impression",
            "ts": now + dt.timedelta(microseconds=n),
            "creator_id": copier,
            "work_id": upload.work_id,
            "count": 100,
            "amount_fen": COPY_AD_ROW_FEN,
            "campaign_id": campaign,
        }
        for n in range(COPY_AD_ROWS)
    ]
    runtime.event_log.append(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA))


def _publish_videos(
    runtime: Runtime,
    principal: Principal,
    creators: list[int],
    rng: np.random.Generator,
    clock: Iterator[dt.datetime],
) -> list[DemoUpload]:
    """An original video, a re-upload of it with each edit and one with new pictures over its
    sound; a library track marked as shared music and a new video over it."""
    author, *others = (
        int(c) for c in rng.choice(creators, size=min(4, len(creators)), replace=False)
    )
    others = others or [author]
    seed = int(rng.integers(0, 1_000_000))
    source = videos.scene_video(seed, seconds=VIDEO_SECONDS)
    publish = partial(_publish_video, runtime=runtime, principal=principal)
    original = publish("original video", source, creator_id=author, now=next(clock))
    uploads = [original]
    for n, edit in enumerate(videos.EDITS):
        copy = videos.edit_video(source, edit, seed=seed + n)
        uploads.append(
            publish(
                f"video re-upload ({edit})",
                copy,
                creator_id=others[n % len(others)],
                now=next(clock),
            )
        )
    dubbed = videos.new_pictures(source, videos.scene_video(seed + 1, seconds=VIDEO_SECONDS))
    uploads.append(
        publish("new pictures over its sound", dubbed, creator_id=others[0], now=next(clock))
    )
    track = videos.backing_track(seed + 2, VIDEO_SECONDS)
    library = publish(
        "library track",
        videos.scene_video(seed + 3, seconds=VIDEO_SECONDS, sound=track),
        creator_id=others[-1],
        now=next(clock),
    )
    marked_at = next(clock)
    runtime.write(
        lambda s: originality.mark_shared_music(
            s, principal, library.work_id, note="demo library track", now=marked_at
        )
    )
    uploads.append(library)
    over_track = videos.scene_video(seed + 4, seconds=VIDEO_SECONDS, sound=track)
    uploads.append(
        publish("video over shared music", over_track, creator_id=author, now=next(clock))
    )
    return uploads


def _publish_video(
    kind: str,
    data: bytes,
    *,
    runtime: Runtime,
    principal: Principal,
    creator_id: int,
    now: dt.datetime,
) -> DemoUpload:
    media = originality.fingerprint_media(originality.decode_video(data))
    cover = videos.decode(data).frames[0]
    draft = originality.WorkDraft(
        creator_id=creator_id,
        title=f"Demo clip: {kind}",
        caption="",
        hashtags=(),
        cover=originality.decode_picture(_png(Image.fromarray(cover)), "cover"),
        duration_s=round(media.duration_s),
        media=media,
    )
    published = runtime.write(
        lambda session: originality.publish_work(
            session,
            principal,
            draft,
            index=runtime.fingerprint_index,
            covers_dir=runtime.settings.covers_dir,
            now=now,
            media_index=runtime.media_index,
        )
    )
    check = published.originality
    segments = tuple(m.describe() for m in published.media_matches)
    return DemoUpload(kind, published.id, check.verdict, check.original_work_id, segments)


def _open_case(runtime: Runtime, upload: DemoUpload, fallback: int, *, now: dt.datetime) -> None:
    """The copier disputes ``upload``'s verdict, or (judged original) its original's creator
    claims it, leaving a case for the operator to resolve."""
    with runtime.sessions() as session:
        copier = session.get_one(Work, upload.work_id).creator_id
        original = upload.original_work_id or fallback
        claimant = session.get_one(Work, original).creator_id
    if upload.verdict == "original" and claimant == copier:
        return

    def file(session: Session) -> None:
        filer = copier if upload.verdict != "original" else claimant
        principal, _ = create_token(
            session, role="creator", subject_id=filer, name="demo creator", now=now
        )
        if upload.verdict != "original":
            statement = "I shot this myself; the likeness is a coincidence."
            originality.file_dispute(
                session, principal, work_id=upload.work_id, statement=statement, now=now
            )
            return
        originality.file_claim(
            session,
            principal,
            work_id=upload.work_id,
            original_work_id=original,
            statement="This is my video, re-posted without permission.",
            now=now,
        )

    runtime.write(file)


def _publish(
    kind: str,
    data: bytes,
    *,
    principal: Principal,
    index: originality.FingerprintIndex,
    runtime: Runtime,
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
    published = runtime.write(
        lambda session: originality.publish_work(
            session, principal, draft, index=index, covers_dir=runtime.settings.covers_dir, now=now
        )
    )
    check = published.originality
    return DemoUpload(kind, published.id, check.verdict, check.original_work_id)
