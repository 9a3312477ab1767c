"""Monthly statements go by business day: a day's earnings posted after midnight of the
month's end belong to that month, with their posting time beside them."""

from __future__ import annotations

import csv
import datetime as dt
import io

from guanghe.ledger import (
    TransferRequest,
    get_account,
    monthly_statement,
    post_batch,
    statement_csv,
)
from guanghe.runtime import Runtime
from tests.ledger.conftest import Books

NOV_30 = dt.date(2026, 11, 30)
#: Settling November 30th ran half an hour into December.
AFTER_MIDNIGHT = dt.datetime(2026, 12, 1, 0, 30, tzinfo=dt.UTC)


def _pay(books: Books, key: str, amount: int) -> TransferRequest:
    return TransferRequest(
        key,
        "reward",
        debit_account_id=books.budget.id,
        credit_account_id=books.creators[0].id,
        amount=amount,
    )


def test_a_day_settled_after_the_month_ended_is_in_its_own_month(
    runtime: Runtime, books: Books
) -> None:
    late = post_batch(
        runtime.engine, [_pay(books, "nov-30", 700)], business_day=NOV_30, now=AFTER_MIDNIGHT
    )
    december = post_batch(runtime.engine, [_pay(books, "dec-1", 50)], now=AFTER_MIDNIGHT)
    assert [r.ok for r in (*late, *december)] == [True, True]
    with runtime.sessions() as session:
        account = get_account(session, books.creators[0].id)
        nov = monthly_statement(session, account, dt.date(2026, 11, 1))
        dec = monthly_statement(session, account, dt.date(2026, 12, 1))
    assert [(line.key, line.business_day) for line in nov.lines] == [("nov-30", NOV_30)]
    assert nov.lines[0].created_at == AFTER_MIDNIGHT
    assert (nov.opening_balance, nov.closing_balance) == (0, 700)
    # Without a business day, a transfer is for the UTC day it was posted.
    assert [(line.key, line.business_day) for line in dec.lines] == [
        ("dec-1", dt.date(2026, 12, 1))
    ]
    assert (dec.opening_balance, dec.closing_balance) == (700, 750)

    rows = list(csv.DictReader(io.StringIO(statement_csv(nov))))
    assert [(r["code"], r["business_day"], r["posted_at"], r["balance_fen"]) for r in rows] == [
        ("opening_balance", "2026-11-01", "", "0"),
        ("reward", "2026-11-30", AFTER_MIDNIGHT.isoformat(), "700"),
        ("closing_balance", "2026-12-01", "", "700"),
    ]
