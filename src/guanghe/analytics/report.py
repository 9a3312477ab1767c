"""The ecosystem report: a period against the same period a year earlier.

Works and authorship come from the relational store; traffic support and fans from the event
log. Earnings come from an :class:`EarningsSource`, by default the ledger's settlements; for a
period with no settled day those metrics are *unavailable* (with the reason), never zero.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from guanghe import ledger, originality
from guanghe.errors import InvalidInput
from guanghe.events import EventLog
from guanghe.store import Work, WorkOriginality

MAX_PERIOD_DAYS: Final = 366
#: A monthly continuous author published in each of the last this many calendar months.
CONTINUOUS_MONTHS: Final = 3


@dataclass(frozen=True, slots=True)
class Period:
    """The days ``start`` to ``end``, both included."""

    start: dt.date
    end: dt.date

    def year_earlier(self) -> Period:
        return Period(_minus_year(self.start), _minus_year(self.end))


@dataclass(frozen=True, slots=True)
class Figure:
    """A value for a period, or why there is none."""

    value: int | None
    unavailable: str | None = None


@dataclass(frozen=True, slots=True)
class Metric:
    """One line of the report; ``change`` is the relative change, None when not computable."""

    key: str
    label: str
    current: Figure
    previous: Figure

    @property
    def change(self) -> float | None:
        now, then = self.current.value, self.previous.value
        if now is None or then is None or then == 0:
            return None
        return (now - then) / then


@dataclass(frozen=True, slots=True)
class EcosystemReport:
    period: Period
    previous: Period
    metrics: tuple[Metric, ...]


class EarningsSource(Protocol):
    """Creator earnings for a period (:class:`LedgerEarnings` by default)."""

    def creators_earning(self, period: Period) -> Figure: ...

    def total_earnings_fen(self, period: Period) -> Figure: ...

    def creators_with_two_sources(self, period: Period) -> Figure: ...


class LedgerEarnings:
    """Creator earnings as settled in the ledger; unavailable for a period with no settled day."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _income(self, period: Period) -> dict[int, dict[str, int]] | str:
        days = ledger.settled_days(self._session, period.start, period.end)
        if not days:
            return "no day of this period has been settled in the ledger"
        return ledger.creator_income(self._session, days)

    def creators_earning(self, period: Period) -> Figure:
        income = self._income(period)
        if isinstance(income, str):
            return Figure(None, income)
        return Figure(sum(1 for sources in income.values() if sum(sources.values()) > 0))

    def total_earnings_fen(self, period: Period) -> Figure:
        income = self._income(period)
        if isinstance(income, str):
            return Figure(None, income)
        return Figure(sum(sum(sources.values()) for sources in income.values()))

    def creators_with_two_sources(self, period: Period) -> Figure:
        income = self._income(period)
        if isinstance(income, str):
            return Figure(None, income)
        return Figure(
            sum(1 for sources in income.values() if sum(v > 0 for v in sources.values()) >= 2)
        )


def parse_period(start: str | dt.date, end: str | dt.date) -> Period:
    """A valid period from ISO dates; :class:`InvalidInput` for bad or reversed dates."""
    first, last = _date(start, "from"), _date(end, "to")
    if last < first:
        raise InvalidInput(f"the period ends ({last}) before it starts ({first})")
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInput(f"the period is longer than {MAX_PERIOD_DAYS} days")
    return Period(first, last)


def ecosystem_report(
    session: Session,
    events: EventLog,
    period: Period,
    *,
    earnings: EarningsSource | None = None,
) -> EcosystemReport:
    """The report for ``period`` against the same days a year earlier."""
    source = earnings or LedgerEarnings(session)
    previous = period.year_earlier()
    lines: list[tuple[str, str, Callable[[Period], Figure]]] = [
        ("works_published", "Works published", lambda p: _works(session, p)),
        ("active_authors", "Active authors", lambda p: _authors(session, p)),
        (
            "monthly_continuous_authors",
            f"Authors publishing in each of the last {CONTINUOUS_MONTHS} months",
            lambda p: _continuous_authors(session, p),
        ),
        (
            "supported_creators",
            "Creators receiving traffic support",
            lambda p: _support(events, p, "creators"),
        ),
        (
            "support_impressions",
            "Traffic-support impressions",
            lambda p: _support(events, p, "impressions"),
        ),
        ("fans_gained", "Fans gained (net)", lambda p: _fans(events, p)),
        (
            "protected_original_authors",
            "Original authors protected from re-uploads",
            lambda p: _protected_authors(session, p),
        ),
        ("copy_matches", "Copies matched to an original", lambda p: _matches(session, p).matches),
        ("copies_tracked", "Matched copies tracked", lambda p: _matches(session, p).tracked),
        ("copies_blocked", "Matched copies blocked", lambda p: _matches(session, p).blocked),
        (
            "copies_monetized",
            "Matched copies monetized for the original's author",
            lambda p: _matches(session, p).monetized,
        ),
        (
            "copy_earnings_redirected_fen",
            "Copies' earnings paid to original authors, net of returns (fen)",
            lambda p: _matches(session, p).redirected,
        ),
        ("creators_earning", "Creators earning", source.creators_earning),
        ("total_earnings_fen", "Total earnings (fen)", source.total_earnings_fen),
        (
            "creators_two_income_sources",
            "Creators with 2+ income sources",
            source.creators_with_two_sources,
        ),
    ]
    metrics = tuple(Metric(key, label, get(period), get(previous)) for key, label, get in lines)
    return EcosystemReport(period, previous, metrics)


def _works(session: Session, period: Period) -> Figure:
    start, end = _bounds(period)
    query = select(func.count(Work.id)).where(Work.published_at >= start, Work.published_at < end)
    return Figure(int(session.execute(query).scalar_one()))


def _authors(session: Session, period: Period) -> Figure:
    start, end = _bounds(period)
    query = select(func.count(distinct(Work.creator_id))).where(
        Work.published_at >= start, Work.published_at < end
    )
    return Figure(int(session.execute(query).scalar_one()))


def _protected_authors(session: Session, period: Period) -> Figure:
    """Creators with an original whose copy, published in the period, was judged a duplicate
    (and so linked to them and kept out of support and rewards)."""
    start, end = _bounds(period)
    query = (
        select(func.count(distinct(WorkOriginality.original_creator_id)))
        .join(Work, Work.id == WorkOriginality.work_id)
        .where(
            WorkOriginality.verdict == "duplicate",
            Work.published_at >= start,
            Work.published_at < end,
        )
    )
    return Figure(int(session.execute(query).scalar_one()))


@dataclass(frozen=True, slots=True)
class _MatchLines:
    matches: Figure
    tracked: Figure
    blocked: Figure
    monetized: Figure
    redirected: Figure


def _matches(session: Session, period: Period) -> _MatchLines:
    """Matches that took effect in the period by policy in force, and the money redirected
    to original authors for the period's business days less what disputes returned."""
    figures = originality.match_figures(session, period.start, period.end)
    return _MatchLines(
        Figure(figures.matches),
        Figure(figures.tracked),
        Figure(figures.blocked),
        Figure(figures.monetized),
        Figure(figures.redirected_fen - figures.returned_fen),
    )


def _continuous_authors(session: Session, period: Period) -> Figure:
    """Creators with a work in each of the :data:`CONTINUOUS_MONTHS` calendar months that end
    with the period's last month."""
    months = [_month_start(period.end, back) for back in range(CONTINUOUS_MONTHS)]
    authors: set[int] | None = None
    for first in months:
        start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
        end = dt.datetime.combine(_month_start(first, -1), dt.time(), tzinfo=dt.UTC)
        end = min(end, _bounds(period)[1])
        found = set(
            session.scalars(
                select(Work.creator_id)
                .where(Work.published_at >= start, Work.published_at < end)
                .distinct()
            )
        )
        authors = found if authors is None else authors & found
    return Figure(len(authors or ()))


def _support(events: EventLog, period: Period, what: str) -> Figure:
    missing = _events_missing(events, period)
    if missing:
        return Figure(None, missing)
    con = events.connect()
    row = con.execute(
        "SELECT count(DISTINCT creator_id), coalesce(sum(count), 0) FROM events "
        "WHERE type = 'exposure' AND boosted AND date BETWEEN ? AND ?",
        [period.start, period.end],
    ).fetchone()
    con.close()
    assert row is not None
    return Figure(int(row[0] if what == "creators" else row[1]))


def _fans(events: EventLog, period: Period) -> Figure:
    missing = _events_missing(events, period)
    if missing:
        return Figure(None, missing)
    con = events.connect()
    row = con.execute(
        "SELECT coalesce(sum(CASE type WHEN 'follow' THEN count ELSE -count END), 0) "
        "FROM events WHERE type IN ('follow', 'unfollow') AND date BETWEEN ? AND ?",
        [period.start, period.end],
    ).fetchone()
    con.close()
    assert row is not None
    return Figure(int(row[0]))


def _events_missing(events: EventLog, period: Period) -> str | None:
    """Why the event log cannot answer for ``period`` (None if it can)."""
    days = [dt.date.fromisoformat(d) for d in events.dates()]
    if not days or days[0] > period.end or days[-1] < period.start:
        return f"the event log has no events from {period.start} to {period.end}"
    return None


def _bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(period.start, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(period.end + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return start, end


def _month_start(day: dt.date, back: int) -> dt.date:
    """The first day of the month ``back`` months before ``day``'s (negative: after)."""
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def _minus_year(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _date(value: str | dt.date, name: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from exc
