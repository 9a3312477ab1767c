"""Admin adjustments: a posted transfer with code ``adjustment`` that names who and why."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from guanghe.errors import Conflict, GuangheError, InvalidInput, NotFound
from guanghe.ledger.posting import post_batch
from guanghe.ledger.transfers import TransferRequest, TransferResult, TransferStatus

_ERRORS: dict[TransferStatus, type[GuangheError]] = {
    TransferStatus.ACCOUNT_NOT_FOUND: NotFound,
    TransferStatus.EXISTS_WITH_DIFFERENT_CONTENT: Conflict,
    TransferStatus.EXCEEDS_CREDITS: Conflict,
    TransferStatus.EXCEEDS_DEBITS: Conflict,
    TransferStatus.OVERFLOWS_TOTALS: Conflict,
}


def post_adjustment(
    engine: Engine,
    *,
    key: str,
    debit_account_id: int,
    credit_account_id: int,
    amount: int,
    actor: str,
    reason: str,
    now: dt.datetime,
) -> TransferResult:
    """Post one adjustment; a replay of the same key and content returns the original.

    Raises :class:`NotFound`, :class:`Conflict` or :class:`InvalidInput` with the ledger's
    reason when it cannot be posted; nothing is written then.
    """
    if not reason.strip():
        raise InvalidInput("an adjustment needs a reason")
    request = TransferRequest(
        key,
        "adjustment",
        debit_account_id=debit_account_id,
        credit_account_id=credit_account_id,
        amount=amount,
        actor=actor,
        memo=reason.strip(),
    )
    (result,) = post_batch(engine, [request], now=now)
    if not result.ok:
        error = _ERRORS.get(result.status, InvalidInput)
        raise error(f"adjustment {key!r} not posted: {result.status.replace('_', ' ')}")
    return result
