"""Notices of new hotspots: the vertical's creators who opted in, once per run, under a daily
cap, never twice for one hotspot (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from functools import partial

import sqlalchemy as sa

from guanghe import hotspots
from guanghe.access import Principal
from guanghe.hotspots import NOTICES_PER_DAY, notify_new_hotspots
from guanghe.notifications import PreferencesChange, put_preferences
from guanghe.runtime import Runtime
from guanghe.store import Notice, transaction
from tests.hotspots.conftest import BURST_TOPIC, NOW, count_and_detect

OPERATOR = Principal(user_id=1, role="operator", subject_id=None)


def _hotspot_notices(runtime: Runtime) -> list[tuple[int, str, str, dict[str, object]]]:
    with transaction(runtime.sessions) as session:
        rows = session.execute(
            sa.select(Notice.creator_id, Notice.subject, Notice.dedupe_key, Notice.data)
            .where(Notice.kind == "hotspot")
            .order_by(Notice.creator_id, Notice.id)
        )
        return [(int(c), str(s), str(k), dict(d)) for c, s, k, d in rows]


def _opt_out(runtime: Runtime, creator_id: int) -> None:
    change = PreferencesChange(
        channels={"hotspot": []},
        timezone="UTC",
        quiet_start_minute=0,
        quiet_end_minute=0,
        digest=False,
        digest_minute=540,
        webhook_url=None,
        webhook_secret=None,
        email=None,
    )
    runtime.write(lambda s: put_preferences(s, OPERATOR, creator_id, change, now=NOW))


def test_a_new_hotspot_is_told_once_to_each_creator_of_its_vertical(
    runtime: Runtime, burst: list[int]
) -> None:
    summary = count_and_detect(runtime)
    assert summary.notices == 2
    notices = _hotspot_notices(runtime)
    assert [n[0] for n in notices] == [1, 2]  # vertical 1's creators; 3 to 6 are elsewhere
    _, subject, key, data = notices[0]
    assert BURST_TOPIC in subject
    assert data["topics"] == [BURST_TOPIC]
    assert data["hotspot_ids"] == [summary.new[0].id]
    assert key == f"hotspots:1:{summary.new[0].id}"
    again = count_and_detect(runtime)  # the same cycle day again: nothing new, nothing sent
    assert again.notices == 0
    assert _hotspot_notices(runtime) == notices
    # writing the same run's notices again adds none
    runtime.write(lambda s: notify_new_hotspots(s, summary.new, now=NOW))
    assert _hotspot_notices(runtime) == notices


def test_a_creator_who_chose_no_channel_for_hotspots_gets_none(
    runtime: Runtime, burst: list[int]
) -> None:
    _opt_out(runtime, 2)
    summary = count_and_detect(runtime)
    assert summary.notices == 1
    assert [n[0] for n in _hotspot_notices(runtime)] == [1]


def test_a_creator_gets_at_most_the_daily_cap_of_hotspot_notices(
    runtime: Runtime, burst: list[int]
) -> None:
    runs = [(hotspots.NewHotspot(900 + n, 1, f"topic{n}", "rising", NOW),) for n in range(4)]
    written = [runtime.write(partial(notify_new_hotspots, new=new, now=NOW)) for new in runs]
    assert written == [2] * NOTICES_PER_DAY + [0] * (4 - NOTICES_PER_DAY)
    per_creator = [n[0] for n in _hotspot_notices(runtime)]
    assert per_creator == [1] * NOTICES_PER_DAY + [2] * NOTICES_PER_DAY
    tomorrow = NOW + dt.timedelta(days=1)
    assert runtime.write(lambda s: notify_new_hotspots(s, runs[3], now=tomorrow)) == 2


def test_many_new_topics_make_one_notice_naming_the_best(
    runtime: Runtime, burst: list[int]
) -> None:
    new = tuple(hotspots.NewHotspot(950 + n, 1, f"topic{n}", "rising", NOW) for n in range(8))
    assert runtime.write(lambda s: notify_new_hotspots(s, new, now=NOW)) == 2
    (first, *_) = _hotspot_notices(runtime)
    assert first[1].endswith("and 3 more")
    assert len(first[3]["topics"]) == 8  # type: ignore[arg-type]
