"""Teaching resources on SQLite and PostgreSQL: a creator's gaps from the growth rules, the
lesson for the weakest rule recommended first, completion, the lessons towards the next tier,
and the demo's courses and sessions."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from guanghe import community, creators
from guanghe.access import Principal
from guanghe.community.courses import RULE_LABELS
from guanghe.errors import Conflict, Forbidden, InvalidInput, NotFound
from guanghe.runtime import Runtime
from guanghe.sim.live_room import seed_live_room
from guanghe.store import transaction
from tests.seed import SeedPlatform
from tests.web.growth_sample import write_growth_snapshot

NOW = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)
OPERATOR = Principal(user_id=1, role="operator", subject_id=None)
RANKS = {
    "engagement_rate": 0.7,
    "follow_rate": 0.5,
    "play_rate": 0.6,
    "consistency": 0.4,
    "retention": 0.8,
}


def growth_of(runtime: Runtime, creator_id: int) -> creators.GrowthView:
    with transaction(runtime.sessions) as session:
        return creators.creator_growth(
            session,
            OPERATOR,
            creator_id,
            snapshots=runtime.settings.snapshots_dir,
            rules=creators.load_rules(),
        )


@pytest.fixture
def demo(runtime: Runtime, seed_platform: SeedPlatform) -> Runtime:
    """The demo's courses and sessions; creator 1 a novice short of works (1 of the 4 the
    rising tier needs), creator 4 a novice with enough works whose titles and covers get few
    plays (play rate ranked 0.1)."""
    assert runtime.write(lambda s: seed_live_room(s, now=NOW)) == (3, 2)
    write_growth_snapshot(
        runtime.settings.data_dir,
        NOW.date(),
        {
            1: ("starter", "novice", 45.0, 9_000, 1, 1, 0),
            4: ("starter", "novice", 45.0, 9_500, 4, 4, 0),
        },
        ranks={1: RANKS, 4: RANKS | {"play_rate": 0.1}},
    )
    return runtime


def test_every_growth_rule_has_a_label() -> None:
    """A rule the growth assessment gains (a quality signal, a tier requirement) is named."""
    assert set(community.GROWTH_RULES) <= set(RULE_LABELS)


def test_the_weakest_rule_comes_first(demo: Runtime) -> None:
    short_of_works, few_plays = growth_of(demo, 1), growth_of(demo, 4)
    gaps = community.growth_gaps(short_of_works)
    # Signals at or above the vertical's median (follow_rate 0.5 and up) are no gaps.
    assert [(g.rule, g.score) for g in gaps] == [
        ("min_works_28d", 0.25),
        ("consistency", 0.4),
        ("min_followers", 0.9),
    ]
    with transaction(demo.sessions) as session:
        first = community.recommend_lessons(session, short_of_works).lessons[0]
        assert first.lesson.title == "A rhythm you can keep: four works a month"
        assert first.gap is not None
        assert first.gap.rule == "min_works_28d"
        other = community.recommend_lessons(session, few_plays)
        assert other.gaps[0].rule == "play_rate"
        titles = [r.lesson.title for r in other.lessons]
        assert titles[:2] == [
            "Covers and titles that get played",
            "Length: long enough to land, short enough to finish",
        ]
        assert all(r.lesson.course == "Your first 30 days" for r in other.lessons)


def test_a_creator_strong_on_every_signal_has_no_weakest_signal(demo: Runtime) -> None:
    """A creator ranked 99/100 on a quality signal is not told it is their weakest rule; what
    the next tier still needs remains a gap."""
    few_plays = growth_of(demo, 4)
    strong = dataclasses.replace(
        few_plays, signal_ranks=dict.fromkeys(few_plays.signal_ranks, 0.99)
    )
    assert few_plays.signal_ranks
    assert community.growth_gaps(few_plays)
    unmet = {
        r.name
        for r in (strong.next_tier.requirements if strong.next_tier else ())
        if not r.met and r.name != "min_quality"
    }
    assert {g.rule for g in community.growth_gaps(strong)} == unmet


def test_a_completed_lesson_leaves_the_recommendations(demo: Runtime) -> None:
    creator4 = Principal(user_id=4, role="creator", subject_id=4)
    with transaction(demo.sessions) as session:
        top = community.recommend_lessons(session, growth_of(demo, 4)).lessons[0].lesson
    for _ in range(2):
        done = demo.write(
            lambda s: community.complete_lesson(s, creator4, top.course_id, top.id, now=NOW)
        )
        assert done.completed
    with transaction(demo.sessions) as session:
        after = community.recommend_lessons(session, growth_of(demo, 4))
        assert top.id not in [r.lesson.id for r in after.lessons]
        assert after.lessons[0].lesson.addresses == "play_rate"
        course = community.get_course(session, creator4, top.course_id)
        assert [lesson.completed for lesson in course.lessons].count(True) == 1
    with pytest.raises(Forbidden):
        demo.write(lambda s: community.complete_lesson(s, OPERATOR, top.course_id, top.id, now=NOW))
    with pytest.raises(NotFound):
        demo.write(
            lambda s: community.complete_lesson(s, creator4, top.course_id + 99, top.id, now=NOW)
        )


def test_lessons_towards_the_next_tier(demo: Runtime) -> None:
    with transaction(demo.sessions) as session:
        toward = community.lessons_toward_next_tier(session, growth_of(demo, 1))
    # Rising needs 10,000 followers (0.9 reached) and 4 works (0.25): works first, then the
    # growing stage's lesson on followers; quality (40) is met, so no signal lessons.
    assert [(r.lesson.title, r.gap.rule if r.gap else None) for r in toward] == [
        ("A rhythm you can keep: four works a month", "min_works_28d"),
        ("Series that bring viewers back", "min_followers"),
    ]


def test_the_demo_holds_a_past_and_an_upcoming_session(demo: Runtime) -> None:
    with transaction(demo.sessions) as session:
        past = community.list_sessions(session, OPERATOR, when="past", now=NOW)
        upcoming = community.list_sessions(session, OPERATOR, when="upcoming", now=NOW)
        assert [(s.state, s.recording_url is not None) for s in past] == [("over", True)]
        assert [(s.state, s.rsvp_count) for s in upcoming] == [("upcoming", 5)]
        answered = community.list_questions(session, OPERATOR, past[0].id, answered_only=True)
        assert [q.votes for q in answered] == [4, 3]
    assert demo.write(lambda s: seed_live_room(s, now=NOW)) == (0, 0)


def test_bad_courses_are_refused(demo: Runtime) -> None:
    lesson = community.LessonSpec("x", 5, addresses="charm")
    with pytest.raises(InvalidInput, match="addresses"):
        demo.write(
            lambda s: community.create_course(
                s, OPERATOR, community.CourseSpec("x", "X", "novice", (lesson,)), now=NOW
            )
        )
    spec = community.CourseSpec("first-30-days", "Again", "novice", (community.LessonSpec("y", 1),))
    with pytest.raises(Conflict):
        demo.write(lambda s: community.create_course(s, OPERATOR, spec, now=NOW))
    bad = community.CourseSpec("z", "Z", "expert", (community.LessonSpec("y", 1),))
    with pytest.raises(InvalidInput, match="stage"):
        demo.write(lambda s: community.create_course(s, OPERATOR, bad, now=NOW))
