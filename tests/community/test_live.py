"""The live room's rules on SQLite and PostgreSQL: capacity, reminders, one vote per creator,
answers by the host, the roles, and the windows in which questions and votes are taken."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from sqlalchemy import func, select

from guanghe import community
from guanghe.access import Principal
from guanghe.errors import Conflict, Forbidden, InvalidInput, NotFound
from guanghe.runtime import Runtime
from guanghe.store import Notice, transaction
from tests.seed import SeedPlatform

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
OPERATOR = Principal(user_id=1, role="operator", subject_id=None)


def creator(n: int) -> Principal:
    return Principal(user_id=100 + n, role="creator", subject_id=n)


def schedule(runtime: Runtime, *, starts_in: dt.timedelta, capacity: int = 2, host: int = 2) -> int:
    spec = community.LiveSessionSpec(
        topic="Growing past 10k fans",
        host_creator_id=host,
        starts_at=NOW + starts_in,
        ends_at=NOW + starts_in + dt.timedelta(hours=1),
        capacity=capacity,
        verticals=("food",),
    )
    return runtime.write(lambda s: community.schedule_session(s, OPERATOR, spec, now=NOW)).id


def reminders(runtime: Runtime) -> list[tuple[int, str]]:
    with transaction(runtime.sessions) as session:
        rows = session.execute(
            select(Notice.creator_id, Notice.dedupe_key).where(Notice.kind == "live_reminder")
        )
        return sorted((int(c), str(k)) for c, k in rows)


def test_rsvps_stop_at_capacity_and_count_once(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    sid = schedule(runtime, starts_in=dt.timedelta(days=3), capacity=2)
    for n in (1, 4, 1):
        runtime.write(partial(community.rsvp, principal=creator(n), session_id=sid, now=NOW))
    with pytest.raises(Conflict, match="full"):
        runtime.write(lambda s: community.rsvp(s, creator(5), sid, now=NOW))
    left = runtime.write(lambda s: community.cancel_rsvp(s, creator(4), sid, now=NOW))
    assert (left.attending, left.rsvp_count) == (False, 1)
    taken = runtime.write(lambda s: community.rsvp(s, creator(5), sid, now=NOW))
    assert (taken.rsvp_count, taken.capacity) == (2, 2)


def test_reminders_at_rsvp_inside_the_lead_else_from_the_cycle(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    soon = schedule(runtime, starts_in=dt.timedelta(hours=3))
    later = schedule(runtime, starts_in=dt.timedelta(days=3))
    runtime.write(lambda s: community.rsvp(s, creator(1), soon, now=NOW))
    runtime.write(lambda s: community.rsvp(s, creator(1), later, now=NOW))
    assert reminders(runtime) == [(1, f"live:{soon}:reminder")]
    # Two days on, the later session starts within a day: the cycle's step reminds, once.
    then = NOW + dt.timedelta(days=2, hours=1)
    for _ in range(2):
        runtime.write(lambda s: community.send_due_reminders(s, now=then))
    assert reminders(runtime) == [(1, f"live:{soon}:reminder"), (1, f"live:{later}:reminder")]


def test_one_vote_per_creator_and_the_host_answers(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    sid = schedule(runtime, starts_in=dt.timedelta(hours=1), host=2)
    first = runtime.write(lambda s: community.ask_question(s, creator(1), sid, "Covers?", now=NOW))
    second = runtime.write(lambda s: community.ask_question(s, creator(4), sid, "Length?", now=NOW))
    for n in (1, 4, 4, 5):
        runtime.write(
            partial(
                community.vote, principal=creator(n), session_id=sid, question_id=second.id, now=NOW
            )
        )
    with transaction(runtime.sessions) as session:
        listed = community.list_questions(session, creator(1), sid)
        assert [(q.id, q.votes) for q in listed] == [(second.id, 3), (first.id, 0)]
        assert community.votes_of(session, creator(4), sid) == {second.id}
    with pytest.raises(Forbidden, match="host"):
        runtime.write(lambda s: community.mark_answered(s, creator(1), sid, first.id, "", now=NOW))
    answered = runtime.write(
        lambda s: community.mark_answered(s, creator(2), sid, second.id, "Under 60 s", now=NOW)
    )
    assert (answered.answered_at, answered.answer) == (NOW, "Under 60 s")
    with transaction(runtime.sessions) as session:
        kept = community.list_questions(session, OPERATOR, sid, answered_only=True)
        assert [q.id for q in kept] == [second.id]
    with pytest.raises(NotFound):
        runtime.write(lambda s: community.vote(s, creator(1), sid + 1, second.id, now=NOW))


def test_questions_and_votes_close_when_the_session_ends(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    sid = schedule(runtime, starts_in=dt.timedelta(hours=1))
    asked = runtime.write(lambda s: community.ask_question(s, creator(1), sid, "Q", now=NOW))
    after = NOW + dt.timedelta(hours=3)
    with pytest.raises(Conflict, match="over"):
        runtime.write(lambda s: community.ask_question(s, creator(1), sid, "late", now=after))
    with pytest.raises(Conflict, match="over"):
        runtime.write(lambda s: community.vote(s, creator(4), sid, asked.id, now=after))
    change = community.LiveSessionChange(recording_url="https://v.example/r")
    with pytest.raises(Conflict, match="no recording"):
        runtime.write(lambda s: community.change_session(s, OPERATOR, sid, change, now=NOW))
    recorded = runtime.write(
        lambda s: community.change_session(
            s, OPERATOR, sid, community.LiveSessionChange("https://v.example/r"), now=after
        )
    )
    assert (recorded.state, recorded.recording_url) == ("over", "https://v.example/r")


def test_roles_and_bad_input_change_nothing(runtime: Runtime, seed_platform: SeedPlatform) -> None:
    sid = schedule(runtime, starts_in=dt.timedelta(hours=5))
    advertiser = Principal(user_id=9, role="advertiser", subject_id=1)
    with transaction(runtime.sessions) as session, pytest.raises(Forbidden):
        community.list_sessions(session, advertiser, when=None, now=NOW)
    with pytest.raises(Forbidden):
        runtime.write(lambda s: community.rsvp(s, OPERATOR, sid, now=NOW))
    spec = community.LiveSessionSpec("T", 1, NOW, NOW - dt.timedelta(hours=1), 5)
    with pytest.raises(InvalidInput, match="ends_at"):
        runtime.write(lambda s: community.schedule_session(s, OPERATOR, spec, now=NOW))
    with pytest.raises(Forbidden):
        runtime.write(lambda s: community.schedule_session(s, creator(1), spec, now=NOW))
    with pytest.raises(InvalidInput, match="body"):
        runtime.write(lambda s: community.ask_question(s, creator(1), sid, "a\x00", now=NOW))
    with transaction(runtime.sessions) as session:
        from guanghe.store import LiveQuestion, LiveSession

        assert session.scalar(select(func.count()).select_from(LiveSession)) == 1
        assert session.scalar(select(func.count()).select_from(LiveQuestion)) == 0


def test_the_cycle_step_writes_the_due_reminders(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    from guanghe.pipelines import live_reminders_step
    from guanghe.pipelines.context import CycleContext

    sid = schedule(runtime, starts_in=dt.timedelta(days=3))
    runtime.write(lambda s: community.rsvp(s, creator(4), sid, now=NOW))
    day = (NOW + dt.timedelta(days=2)).date()
    for _ in range(2):
        report = live_reminders_step.run(CycleContext.for_date(runtime, day))
        assert report.counts == {"rsvps_reminded": 1}
    assert reminders(runtime) == [(4, f"live:{sid}:reminder")]
