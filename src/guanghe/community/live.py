"""The creator live room: sessions operators schedule, creators' RSVPs (within capacity) and
reminders, questions asked before and during a session, one upvote per creator, and the host
marking questions answered; afterwards the answered questions and the recording stay.

Rules (the store enforces the counting ones again: see ``store/live_tables.py``):

- Operators schedule and manage sessions; creators RSVP, ask and vote as themselves; the
  session's host (or an operator) marks a question answered; operators, creators,
  institutions and agents read. Other roles get :class:`~guanghe.errors.Forbidden`.
- An RSVP takes a place while ``rsvp_count < capacity``: the session row is locked
  (``FOR UPDATE`` on PostgreSQL; SQLite's writer transaction is exclusive) before counting, so
  concurrent RSVPs never overfill it. RSVPing again changes nothing.
- A creator who RSVPs gets one ``live_reminder`` notice (dedupe key ``live:<id>:reminder``):
  at once when the session starts within :data:`REMINDER_LEAD`, otherwise from
  :func:`send_due_reminders` (the daily cycle's ``live_reminders`` step) once it does.
- Questions and votes are taken until the session ends; a cancelled session takes none.
  A vote is a row keyed by (question, creator): voting twice counts once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from sqlalchemy import Select, delete, insert, select, update
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.community.members import check_reader
from guanghe.creators import vertical_ids
from guanghe.errors import Conflict, Forbidden, InvalidInput, NotFound
from guanghe.notifications import NoticeDraft, notify_many
from guanghe.store import (
    Creator,
    LiveQuestion,
    LiveQuestionVote,
    LiveRsvp,
    LiveSession,
    Vertical,
)
from guanghe.text import check_text

#: A reminder goes out once the session starts within this long.
REMINDER_LEAD: Final = dt.timedelta(hours=24)
MAX_TOPIC_CHARS: Final = 200
MAX_DESCRIPTION_CHARS: Final = 4_000
MAX_QUESTION_CHARS: Final = 500
MAX_ANSWER_CHARS: Final = 2_000
MAX_CAPACITY: Final = 100_000
MAX_SESSION_LENGTH: Final = dt.timedelta(hours=12)
#: Roles that may read sessions and their questions.

When = Literal["upcoming", "past"]


@dataclass(frozen=True, slots=True)
class LiveSessionSpec:
    """What an operator schedules."""

    topic: str
    host_creator_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    verticals: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class LiveSessionChange:
    """An operator's change to a session: each field left ``None`` stays as it is."""

    recording_url: str | None = None
    cancelled: bool | None = None


@dataclass(frozen=True, slots=True)
class LiveSessionView:
    id: int
    topic: str
    description: str
    host_creator_id: int
    host: str
    verticals: tuple[str, ...]
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int
    rsvp_count: int
    recording_url: str | None
    cancelled: bool
    state: str  # "upcoming", "live", "over" or "cancelled"


@dataclass(frozen=True, slots=True)
class QuestionView:
    id: int
    session_id: int
    creator_id: int
    asker: str
    body: str
    votes: int
    asked_at: dt.datetime
    answered_at: dt.datetime | None
    answer: str


@dataclass(frozen=True, slots=True)
class RsvpView:
    session_id: int
    creator_id: int
    attending: bool
    rsvp_count: int
    capacity: int


def state_of(row: LiveSession, now: dt.datetime) -> str:
    """``cancelled``, ``upcoming`` (before its start), ``live`` or ``over`` (after its end)."""
    if row.cancelled_at is not None:
        return "cancelled"
    if now < row.starts_at:
        return "upcoming"
    return "live" if now < row.ends_at else "over"


def schedule_session(
    session: Session, principal: Principal, spec: LiveSessionSpec, *, now: dt.datetime
) -> LiveSessionView:
    """Schedule a session (operators). :class:`InvalidInput` for a bad time span, capacity,
    text, unknown vertical or unknown host."""
    _check_operator(principal, "schedule live sessions")
    check_text(spec.topic, field="topic", max_chars=MAX_TOPIC_CHARS)
    check_text(spec.description, field="description", max_chars=MAX_DESCRIPTION_CHARS)
    if not spec.topic.strip():
        raise InvalidInput("topic: must not be blank")
    if spec.starts_at.tzinfo is None or spec.ends_at.tzinfo is None:
        raise InvalidInput("starts_at, ends_at: give a time zone")
    if not spec.starts_at < spec.ends_at <= spec.starts_at + MAX_SESSION_LENGTH:
        raise InvalidInput(f"ends_at: after starts_at, and at most {MAX_SESSION_LENGTH} later")
    if not 1 <= spec.capacity <= MAX_CAPACITY:
        raise InvalidInput(f"capacity: 1 to {MAX_CAPACITY:,}")
    if session.get(Creator, spec.host_creator_id) is None:
        raise InvalidInput(f"host_creator_id: creator {spec.host_creator_id} does not exist")
    verticals = vertical_ids(session, spec.verticals, field="verticals")
    row = LiveSession(
        topic=spec.topic.strip(),
        description=spec.description,
        host_creator_id=spec.host_creator_id,
        vertical_ids=list(dict.fromkeys(verticals)),
        starts_at=spec.starts_at,
        ends_at=spec.ends_at,
        capacity=spec.capacity,
        rsvp_count=0,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return _views(session, [row], now)[0]


def change_session(
    session: Session,
    principal: Principal,
    session_id: int,
    change: LiveSessionChange,
    *,
    now: dt.datetime,
) -> LiveSessionView:
    """Set a session's recording link or cancel it (operators). A recording only once it has
    started; a session cannot be cancelled once over, nor brought back."""
    _check_operator(principal, "manage live sessions")
    row = _session_row(session, session_id, lock=True)
    state = state_of(row, now)
    if change.recording_url is not None:
        if state in ("upcoming", "cancelled"):
            raise Conflict(f"live session {session_id} is {state}; it has no recording yet")
        row.recording_url = change.recording_url
    if change.cancelled is not None and change.cancelled != (state == "cancelled"):
        if not change.cancelled:
            raise Conflict(f"live session {session_id} was cancelled; schedule a new one")
        if state == "over":
            raise Conflict(f"live session {session_id} is over; it cannot be cancelled")
        row.cancelled_at = now
    session.flush()
    return _views(session, [row], now)[0]


def list_sessions(
    session: Session,
    principal: Principal,
    *,
    when: When | None,
    now: dt.datetime,
    limit: int = 50,
) -> list[LiveSessionView]:
    """Sessions, soonest first for ``upcoming`` (not yet over), latest first for ``past``,
    newest start first for all."""
    check_reader(principal)
    query = select(LiveSession)
    if when == "upcoming":
        query = query.where(LiveSession.ends_at > now).order_by(LiveSession.starts_at)
    elif when == "past":
        query = query.where(LiveSession.ends_at <= now).order_by(LiveSession.starts_at.desc())
    else:
        query = query.order_by(LiveSession.starts_at.desc())
    rows = list(session.scalars(query.order_by(LiveSession.id).limit(limit)))
    return _views(session, rows, now)


def get_session(
    session: Session, principal: Principal, session_id: int, *, now: dt.datetime
) -> LiveSessionView:
    """One session; :class:`NotFound` if there is none with that id."""
    check_reader(principal)
    return _views(session, [_session_row(session, session_id)], now)[0]


def list_questions(
    session: Session,
    principal: Principal,
    session_id: int,
    *,
    answered_only: bool = False,
) -> list[QuestionView]:
    """A session's questions, most votes first (then the earliest asked)."""
    check_reader(principal)
    _session_row(session, session_id)
    query = _question_query().where(LiveQuestion.session_id == session_id)
    if answered_only:
        query = query.where(LiveQuestion.answered_at.is_not(None))
    query = query.order_by(LiveQuestion.votes.desc(), LiveQuestion.id)
    return [QuestionView(*row) for row in session.execute(query)]


def votes_of(session: Session, principal: Principal, session_id: int) -> frozenset[int]:
    """The questions of the session the calling creator voted for (empty for other roles)."""
    if principal.role != "creator" or principal.subject_id is None:
        return frozenset()
    rows = session.scalars(
        select(LiveQuestionVote.question_id)
        .join(LiveQuestion, LiveQuestion.id == LiveQuestionVote.question_id)
        .where(
            LiveQuestion.session_id == session_id,
            LiveQuestionVote.creator_id == principal.subject_id,
        )
    )
    return frozenset(int(r) for r in rows)


def is_attending(session: Session, principal: Principal, session_id: int) -> bool:
    """Whether the calling creator holds a place in the session."""
    if principal.role != "creator" or principal.subject_id is None:
        return False
    return session.get(LiveRsvp, (session_id, principal.subject_id)) is not None


def rsvp(session: Session, principal: Principal, session_id: int, *, now: dt.datetime) -> RsvpView:
    """Take the calling creator's place in a session (again: no change), and write their
    reminder when the session starts within :data:`REMINDER_LEAD`. :class:`Conflict` when it
    is full, cancelled or over."""
    creator_id = _creator_self(principal, "RSVP")
    row = _session_row(session, session_id, lock=True)
    if session.get(LiveRsvp, (session_id, creator_id)) is None:
        state = state_of(row, now)
        if state in ("cancelled", "over"):
            raise Conflict(f"live session {session_id} is {state}")
        if row.rsvp_count >= row.capacity:
            raise Conflict(f"live session {session_id} is full ({row.capacity} places)")
        session.add(LiveRsvp(session_id=session_id, creator_id=creator_id, created_at=now))
        row.rsvp_count += 1
        session.flush()
        if row.starts_at - now <= REMINDER_LEAD:
            notify_many(session, [_reminder(row, creator_id)], now=now)
    return RsvpView(session_id, creator_id, True, row.rsvp_count, row.capacity)


def cancel_rsvp(
    session: Session, principal: Principal, session_id: int, *, now: dt.datetime
) -> RsvpView:
    """Give the calling creator's place back (no place: no change); not once it is over."""
    creator_id = _creator_self(principal, "cancel an RSVP")
    row = _session_row(session, session_id, lock=True)
    if state_of(row, now) == "over":
        raise Conflict(f"live session {session_id} is over")
    gone = session.execute(
        delete(LiveRsvp).where(LiveRsvp.session_id == session_id, LiveRsvp.creator_id == creator_id)
    )
    if gone.rowcount:  # type: ignore[attr-defined]
        row.rsvp_count -= 1
        session.flush()
    return RsvpView(session_id, creator_id, False, row.rsvp_count, row.capacity)


def ask_question(
    session: Session, principal: Principal, session_id: int, body: str, *, now: dt.datetime
) -> QuestionView:
    """The calling creator asks a question, before or during the session."""
    creator_id = _creator_self(principal, "ask questions")
    check_text(body, field="body", max_chars=MAX_QUESTION_CHARS)
    if not body.strip():
        raise InvalidInput("body: must not be blank")
    _check_open(_session_row(session, session_id), now)
    row = LiveQuestion(
        session_id=session_id,
        creator_id=creator_id,
        body=body.strip(),
        votes=0,
        asked_at=now,
        answer="",
    )
    session.add(row)
    session.flush()
    return _question(session, row.id)


def vote(
    session: Session,
    principal: Principal,
    session_id: int,
    question_id: int,
    *,
    now: dt.datetime,
) -> QuestionView:
    """The calling creator upvotes a question of the session (again: counted once)."""
    creator_id = _creator_self(principal, "vote")
    question = _question_row(session, session_id, question_id)
    _check_open(_session_row(session, session_id), now)
    if session.get(LiveQuestionVote, (question_id, creator_id)) is None:
        session.execute(
            insert(LiveQuestionVote).values(
                question_id=question_id, creator_id=creator_id, voted_at=now
            )
        )
        session.execute(
            update(LiveQuestion)
            .where(LiveQuestion.id == question.id)
            .values(votes=LiveQuestion.votes + 1)
        )
    return _question(session, question_id)


def mark_answered(
    session: Session,
    principal: Principal,
    session_id: int,
    question_id: int,
    answer: str,
    *,
    now: dt.datetime,
) -> QuestionView:
    """The host (or an operator) marks a question answered, with an optional short answer
    (again: the answer is replaced, the time kept)."""
    if principal.role not in ("operator", "creator"):
        raise Forbidden("only the session's host or an operator marks questions answered")
    row = _session_row(session, session_id)
    host = principal.role == "creator" and principal.subject_id == row.host_creator_id
    if principal.role != "operator" and not host:
        raise Forbidden("only the session's host or an operator marks questions answered")
    check_text(answer, field="answer", max_chars=MAX_ANSWER_CHARS)
    question = _question_row(session, session_id, question_id)
    if state_of(row, now) == "cancelled":
        raise Conflict(f"live session {session_id} was cancelled")
    question.answer = answer.strip()
    if question.answered_at is None:
        question.answered_at = now
    session.flush()
    return _question(session, question_id)


def send_due_reminders(session: Session, *, now: dt.datetime) -> int:
    """Write the reminder of every RSVP to a session starting within :data:`REMINDER_LEAD`
    of ``now`` (not yet started, not cancelled); each is written once (its dedupe key), so
    running this again adds nothing. Returns the RSVPs covered."""
    rows = session.execute(
        select(LiveSession, LiveRsvp.creator_id)
        .join(LiveRsvp, LiveRsvp.session_id == LiveSession.id)
        .where(
            LiveSession.cancelled_at.is_(None),
            LiveSession.starts_at > now,
            LiveSession.starts_at <= now + REMINDER_LEAD,
        )
        .order_by(LiveSession.id, LiveRsvp.creator_id)
    ).all()
    notify_many(session, [_reminder(live, creator_id) for live, creator_id in rows], now=now)
    return len(rows)


def _reminder(row: LiveSession, creator_id: int) -> NoticeDraft:
    starts = row.starts_at.strftime("%Y-%m-%d %H:%M UTC")
    return NoticeDraft(
        creator_id=creator_id,
        kind="live_reminder",
        subject=f"Live room: {row.topic}"[:200],
        body=f"The live session “{row.topic}” starts at {starts}. Bring your questions.",
        dedupe_key=f"live:{row.id}:reminder",
        data={"session_id": row.id, "starts_at": row.starts_at.isoformat()},
    )


def _check_operator(principal: Principal, what: str) -> None:
    if principal.role != "operator":
        raise Forbidden(f"only operators {what}")


def _creator_self(principal: Principal, what: str) -> int:
    if principal.role != "creator" or principal.subject_id is None:
        raise Forbidden(f"creators {what} as themselves; the {principal.role} role cannot")
    return principal.subject_id


def _check_open(row: LiveSession, now: dt.datetime) -> None:
    state = state_of(row, now)
    if state in ("over", "cancelled"):
        raise Conflict(f"live session {row.id} is {state}; it takes no more questions or votes")


def _session_row(session: Session, session_id: int, *, lock: bool = False) -> LiveSession:
    query = select(LiveSession).where(LiveSession.id == session_id)
    row = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        raise NotFound(f"live session {session_id} does not exist")
    return row


def _question_row(session: Session, session_id: int, question_id: int) -> LiveQuestion:
    row = session.get(LiveQuestion, question_id)
    if row is None or row.session_id != session_id:
        raise NotFound(f"live session {session_id} has no question {question_id}")
    return row


def _question_query() -> Select[int, int, int, str, str, int, dt.datetime, dt.datetime | None, str]:
    return select(
        LiveQuestion.id,
        LiveQuestion.session_id,
        LiveQuestion.creator_id,
        Creator.display_name,
        LiveQuestion.body,
        LiveQuestion.votes,
        LiveQuestion.asked_at,
        LiveQuestion.answered_at,
        LiveQuestion.answer,
    ).join(Creator, Creator.id == LiveQuestion.creator_id)


def _question(session: Session, question_id: int) -> QuestionView:
    row = session.execute(_question_query().where(LiveQuestion.id == question_id)).one()
    return QuestionView(*row)


def _views(
    session: Session, rows: Sequence[LiveSession], now: dt.datetime
) -> list[LiveSessionView]:
    hosts = {
        int(i): str(name)
        for i, name in session.execute(
            select(Creator.id, Creator.display_name).where(
                Creator.id.in_({r.host_creator_id for r in rows})
            )
        )
    }
    slugs = {int(i): str(slug) for i, slug in session.execute(select(Vertical.id, Vertical.slug))}
    return [
        LiveSessionView(
            id=r.id,
            topic=r.topic,
            description=r.description,
            host_creator_id=r.host_creator_id,
            host=hosts.get(r.host_creator_id, ""),
            verticals=tuple(slugs[v] for v in r.vertical_ids if v in slugs),
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            capacity=r.capacity,
            rsvp_count=r.rsvp_count,
            recording_url=r.recording_url,
            cancelled=r.cancelled_at is not None,
            state=state_of(r, now),
        )
        for r in rows
    ]
