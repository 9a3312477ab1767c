"""The demo's live room and teaching resources: courses for every stage whose lessons address
the growth rules, a past session with its answered questions and recording, and an upcoming one
with RSVPs, questions and votes. Written once (skipped when the demo courses exist)."""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe import community
from guanghe.access import Principal
from guanghe.store import Course, Creator

OPERATOR: Final = Principal(user_id=0, role="operator", subject_id=None)
L = community.LessonSpec
COURSES: Final = (
    community.CourseSpec(
        "first-30-days",
        "Your first 30 days",
        "novice",
        (
            L("A rhythm you can keep: four works a month", 8, addresses="min_works_28d"),
            L("Show up on more days", 6, addresses="min_active_days_28d"),
            L("Covers and titles that get played", 10, addresses="play_rate"),
            L("Length: long enough to land, short enough to finish", 7, addresses="play_rate"),
        ),
        summary="The habits the rising tier asks for.",
    ),
    community.CourseSpec(
        "growing-an-audience",
        "Growing an audience",
        "growing",
        (
            L("Ask for the follow", 6, addresses="follow_rate"),
            L("Replies that start conversations", 9, addresses="engagement_rate"),
            L("Series that bring viewers back", 12, addresses="min_followers"),
        ),
    ),
    community.CourseSpec(
        "sustaining-a-channel",
        "Sustaining a channel",
        "mature",
        (
            L("Months without a gap", 10, addresses="min_continuous_months"),
            L("Keeping quality as output grows", 12, addresses="consistency"),
        ),
    ),
)


def seed_live_room(session: Session, *, now: dt.datetime) -> tuple[int, int]:
    """Write the demo's courses and two sessions; (courses, sessions) written (0, 0 when the
    demo courses exist or there are fewer than six creators)."""
    if session.scalar(select(Course.id).where(Course.slug == COURSES[0].slug)) is not None:
        return 0, 0
    creators = list(session.scalars(select(Creator.id).order_by(Creator.id).limit(6)))
    if len(creators) < 6:
        return 0, 0
    for spec in COURSES:
        community.create_course(session, OPERATOR, spec, now=now)
    host, *audience = creators
    past_start = now - dt.timedelta(days=2)
    past = _schedule(session, "Getting through your first 10k fans", host, past_start, now)
    upcoming = _schedule(
        session, "Ask the operators: the task center", host, now + dt.timedelta(days=1), now
    )
    # The past session's questions were asked, voted and answered while it ran.
    during = past_start + dt.timedelta(minutes=20)
    for n, (asker, body) in enumerate(
        zip(audience, ("How many works a week?", "Do hashtags still matter?"), strict=False)
    ):
        q = community.ask_question(session, _creator(asker), past, body, now=during)
        for voter in audience[: 4 - n]:
            community.vote(session, _creator(voter), past, q.id, now=during)
        community.mark_answered(session, _creator(host), past, q.id, "Answered live.", now=during)
    change = community.LiveSessionChange(recording_url="https://creators.example/live/recordings/1")
    community.change_session(session, OPERATOR, past, change, now=now)
    for asker in audience:
        community.rsvp(session, _creator(asker), upcoming, now=now)
    q = community.ask_question(
        session, _creator(audience[0]), upcoming, "When do priority tasks open?", now=now
    )
    for voter in audience[1:3]:
        community.vote(session, _creator(voter), upcoming, q.id, now=now)
    return len(COURSES), 2


def _schedule(
    session: Session, topic: str, host: int, starts: dt.datetime, now: dt.datetime
) -> int:
    spec = community.LiveSessionSpec(
        topic=topic,
        host_creator_id=host,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
        capacity=500,
        description="Creator operations answer your questions live.",
    )
    return community.schedule_session(session, OPERATOR, spec, now=min(now, starts)).id


def _creator(creator_id: int) -> Principal:
    return Principal(user_id=0, role="creator", subject_id=creator_id)
