"""Revenue side of the synthetic platform: refunds of earlier orders, and the contracts that
give institutions a split of their creators' earnings."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from guanghe.events import EVENT_SCHEMA
from guanghe.sim.population import Institutions, Population
from guanghe.store import INCOME_SOURCES

#: Share of orders refunded, and the spread of how many days later (past the 7-day window
#: for some, so both voids and reversals happen).
REFUND_RATE: Final = 0.12
REFUND_DELAY_DAYS: Final = (1, 11)
SPLITS_BP: Final = np.array([1_000, 1_500, 2_000, 2_500, 3_000], dtype=np.int64)
#: Contracts taking this split or more are exclusive.
EXCLUSIVE_FROM_BP: Final = 2_500
_DAY_US: Final = 86_400_000_000
#: Orders drawn for refund and not refunded yet (:class:`RefundSchedule`), with the ordinal of
#: the day each is refunded on: written by the generator (its history's orders refunded after
#: its last day) and kept by ``sim advance`` in the ground-truth directory between runs.
REFUNDS_FILE: Final = "refunds_due.parquet"
_REFUND_COLUMNS: Final = pa.schema(
    [EVENT_SCHEMA.field(n) for n in ("event_id", "creator_id", "amount_fen", "product_id")]
)


@dataclass(slots=True)
class RefundSchedule:
    """Orders drawn for refund, waiting for the day their refund happens."""

    due: dict[int, list[pa.Table]] = field(default_factory=dict)

    def schedule(self, rng: np.random.Generator, day: int, table: pa.Table) -> None:
        """Draw which of the day's orders will be refunded, and when."""
        orders = table.filter(pc.equal(table["type"], "order"))
        refunded = orders.filter(pa.array(rng.random(orders.num_rows) < REFUND_RATE))
        delays = rng.integers(*REFUND_DELAY_DAYS, size=refunded.num_rows)
        for delay in np.unique(delays):
            picked = refunded.filter(pa.array(delays == delay))
            self.due.setdefault(day + int(delay), []).append(
                picked.select(["event_id", "creator_id", "amount_fen", "product_id"])
            )

    def refunds_on(
        self, rng: np.random.Generator, day: int, day_start_us: int, id_prefix: str
    ) -> pa.Table:
        """The refund events of ``day`` as an :data:`EVENT_SCHEMA` table."""
        parts = self.due.pop(day, [])
        if not parts:
            return EVENT_SCHEMA.empty_table()
        orders = pa.concat_tables(parts)
        m = orders.num_rows
        numbers = pc.cast(pa.array(np.arange(m, dtype=np.int64)), pa.string())
        ts = day_start_us + (rng.random(m) * _DAY_US).astype(np.int64)
        columns: dict[str, Any] = {
            "event_id": pc.binary_join_element_wise(id_prefix + "r", numbers, ""),
            "type": pa.array(["refund"] * m, pa.string()),
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "creator_id": orders["creator_id"],
            "count": pa.array(np.ones(m, dtype=np.int64)),
            "amount_fen": orders["amount_fen"],
            "product_id": orders["product_id"],
            "ref_event_id": orders["event_id"],
        }
        for name in EVENT_SCHEMA.names:
            columns.setdefault(name, pa.nulls(m, EVENT_SCHEMA.field(name).type))
        return pa.table({n: columns[n] for n in EVENT_SCHEMA.names}, schema=EVENT_SCHEMA)


def load_refunds(directory: Path) -> RefundSchedule:
    """The orders drawn for refund and not refunded yet (:data:`REFUNDS_FILE`),
    by the ordinal of the day their refund happens."""
    schedule = RefundSchedule()
    path = directory / REFUNDS_FILE
    if not path.exists():
        return schedule
    table = pq.read_table(path)
    for due in np.unique(table["due"].to_numpy()).tolist():
        picked = table.filter(pc.equal(table["due"], due)).drop_columns(["due"])
        schedule.due[int(due)] = [picked]
    return schedule


def save_refunds(directory: Path, schedule: RefundSchedule) -> None:
    """Keep ``schedule`` as :data:`REFUNDS_FILE` (see :func:`load_refunds`)."""
    parts = [
        part.cast(_REFUND_COLUMNS).append_column(
            "due", pa.array(np.full(part.num_rows, due, np.int64))
        )
        for due, parts in sorted(schedule.due.items())
        for part in parts
    ]
    schema = _REFUND_COLUMNS.append(pa.field("due", pa.int64()))
    table = pa.concat_tables(parts) if parts else schema.empty_table()
    pq.write_table(table, directory / REFUNDS_FILE)


def contract_rows(
    rng: np.random.Generator,
    population: Population,
    institutions: Institutions,
    first_date: dt.date,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One open-ended active contract per signed creator, from when both it and the creator
    existed (exclusive from a 25 % split up), and its rows of per-source splits (one split
    drawn per contract, taken of every income source)."""
    signed = np.flatnonzero(population.institution_id > 0)
    splits = SPLITS_BP[rng.integers(0, SPLITS_BP.size, signed.size)]
    institution = population.institution_id[signed]
    start = np.maximum(population.joined_day[signed], institutions.founded_day[institution - 1])
    contracts = [
        {
            "id": n + 1,
            "institution_id": int(inst),
            "creator_id": int(creator) + 1,
            "valid_from": first_date + dt.timedelta(days=int(day)),
            "exclusive": bool(split >= EXCLUSIVE_FROM_BP),
            "notice_days": 30,
            "status": "active",
        }
        for n, (creator, inst, split, day) in enumerate(
            zip(signed, institution, splits, start, strict=True)
        )
    ]
    split_rows = [
        {"contract_id": n + 1, "source": source, "split_bp": int(split)}
        for n, split in enumerate(splits)
        for source in INCOME_SOURCES
    ]
    return contracts, split_rows
