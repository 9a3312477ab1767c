"""Notices of new hotspots to the creators of their vertical.

A detection run that adds hotspots to a vertical (:attr:`DetectionSummary.new`) tells that
vertical's creators in the run's transaction, through the notifications outbox: one notice per
creator per run, naming the run's new topics of the vertical (the best :data:`TOPICS_NAMED`,
by score), never one per topic. Rules:

- Opting in: a creator gets the notice when their settings send ``hotspot`` notices by some
  channel (every kind goes to the inbox until the creator says otherwise; choosing no channel
  for ``hotspot`` opts out).
- Daily cap: at most :data:`NOTICES_PER_DAY` hotspot notices per creator per UTC day of the
  run; once reached, later hotspots of that day are left to the inspiration page.
- Idempotent: the notice's dedupe key is its vertical and its best new hotspot's id; a hotspot
  is new in one run only, and writing the same notice again adds nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanghe.notifications import NoticeDraft, notify_many
from guanghe.notifications.preferences import preferences_of
from guanghe.store import Creator, Hotspot, Notice, Vertical

if TYPE_CHECKING:
    from guanghe.hotspots.detection import NewHotspot

#: Most hotspot notices one creator gets in a UTC day.
NOTICES_PER_DAY: Final = 2
#: Topics named in one notice (the rest are counted).
TOPICS_NAMED: Final = 5


def notify_new_hotspots(session: Session, new: Sequence[NewHotspot], *, now: dt.datetime) -> int:
    """Write the notices of ``new`` hotspots (see the module docstring); how many."""
    by_vertical: dict[int, list[NewHotspot]] = defaultdict(list)
    for hotspot in new:
        by_vertical[hotspot.vertical_id].append(hotspot)
    if not by_vertical:
        return 0
    scores = {
        int(i): float(score)
        for i, score in session.execute(
            select(Hotspot.id, Hotspot.score).where(Hotspot.id.in_([h.id for h in new]))
        )
    }
    names = {
        int(i): str(name)
        for i, name in session.execute(
            select(Vertical.id, Vertical.name).where(Vertical.id.in_(list(by_vertical)))
        )
    }
    day_start = dt.datetime.combine(now.astimezone(dt.UTC).date(), dt.time(), tzinfo=dt.UTC)
    drafts: list[NoticeDraft] = []
    for vertical_id, hotspots in sorted(by_vertical.items()):
        ranked = sorted(hotspots, key=lambda h: (-scores.get(h.id, 0.0), h.id))
        creators = list(
            session.scalars(
                select(Creator.id).where(Creator.vertical_id == vertical_id).order_by(Creator.id)
            )
        )
        sent_today = _sent_since(session, vertical_id, day_start)
        preferences = preferences_of(session, creators)
        subject, body = _text(names.get(vertical_id, str(vertical_id)), ranked)
        data = {
            "vertical_id": vertical_id,
            "hotspot_ids": [h.id for h in ranked],
            "topics": [h.topic for h in ranked],
            "states": [h.state for h in ranked],
        }
        drafts.extend(
            NoticeDraft(
                creator_id,
                "hotspot",
                subject,
                body,
                f"hotspots:{vertical_id}:{ranked[0].id}",
                data,
            )
            for creator_id in creators
            if preferences[creator_id].channels_for("hotspot")
            and sent_today.get(creator_id, 0) < NOTICES_PER_DAY
        )
    notify_many(session, drafts, now=now)
    return len(drafts)


def _sent_since(session: Session, vertical_id: int, since: dt.datetime) -> dict[int, int]:
    """Hotspot notices each creator of the vertical got from ``since`` on."""
    rows = session.execute(
        select(Notice.creator_id, func.count())
        .join(Creator, Creator.id == Notice.creator_id)
        .where(
            Creator.vertical_id == vertical_id,
            Notice.kind == "hotspot",
            Notice.created_at >= since,
        )
        .group_by(Notice.creator_id)
    )
    return {int(c): int(n) for c, n in rows}


def _text(vertical: str, ranked: Sequence[NewHotspot]) -> tuple[str, str]:
    """Subject and body naming the best :data:`TOPICS_NAMED` topics."""
    named = [f"#{h.topic}" for h in ranked[:TOPICS_NAMED]]
    more = len(ranked) - len(named)
    listed = ", ".join(named) + (f" and {more} more" if more else "")
    plural = "s" if len(ranked) > 1 else ""
    subject = f"New hotspot{plural} in {vertical}: {listed}"[:200]
    lines = [
        f"- #{h.topic} ({h.state}, since {h.onset_at:%Y-%m-%d %H:%M} UTC)"
        for h in ranked[:TOPICS_NAMED]
    ]
    body = (
        f"Topics taking off in {vertical}:\n"
        + "\n".join(lines)
        + (f"\n...and {more} more." if more else "")
        + "\nSee your inspiration page for example works and why each matters to you."
    )
    return subject, body
