"""Hand-made events for the seed platform (creators 1..6), with known window sums."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from guanghe.events import EVENT_SCHEMA
from guanghe.runtime import Runtime

AS_OF = dt.date(2026, 11, 28)


def sample_events() -> pa.Table:
    """Per creator c and day offset d (0..39 back from AS_OF, every 3rd day): exposures
    (organic 100*c, boosted 10*c on even d), plays 50*c, likes c, follows c, one unfollow,
    and for creator 2 an order of 5,000 fen and 7 ad impressions."""
    rows: list[dict[str, object]] = []
    for c in range(1, 7):
        for d in range(0, 40, 3):
            ts = dt.datetime.combine(AS_OF - dt.timedelta(days=d), dt.time(10), tzinfo=dt.UTC)
            base = {"creator_id": c, "ts": ts, "work_id": None}

            def add(
                kind: str,
                count: int,
                base: dict[str, object] = base,
                c: int = c,
                d: int = d,
                **extra: object,
            ) -> None:
                rows.append(
                    {
                        **base,
                        "event_id": f"e-{c}-{d}-{kind}-{len(rows)}",
                        "type": kind,
                        "count": count,
                        **extra,
                    }
                )

            add("exposure", 100 * c, boosted=False)
            if d % 2 == 0:
                add("exposure", 10 * c, boosted=True)
            add("play", 50 * c)
            add("like", c)
            add("follow", c)
            add("unfollow", 1)
            if c == 2:
                add("order", 1, amount_fen=5_000)
                add("ad_impression", 7, campaign_id=1)
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


def log_sample_events(runtime: Runtime) -> None:
    runtime.event_log.append(sample_events())
