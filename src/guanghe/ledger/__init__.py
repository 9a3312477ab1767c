"""Double-entry money and traffic accounts: balanced, idempotent transfers, two-phase
reservations, linked batches and reconciliation.
"""

from guanghe.ledger.accounts import (
    Account,
    AccountKey,
    Limit,
    get_account,
    list_accounts,
    open_account,
    open_accounts,
)
from guanghe.ledger.adjustments import post_adjustment
from guanghe.ledger.history import (
    TransferView,
    account_transfers,
    check_can_read,
    owner_filter,
)
from guanghe.ledger.income import creator_income, settled_days
from guanghe.ledger.posting import post_batch, post_chain_batch
from guanghe.ledger.reconcile import Discrepancy, reconcile
from guanghe.ledger.statements import (
    Payout,
    PayoutBatch,
    RefusedPayout,
    Statement,
    monthly_statement,
    parse_month,
    pay_out,
    payouts_csv,
    statement_csv,
)
from guanghe.ledger.transfers import (
    TransferRequest,
    TransferResult,
    post_chains,
    post_transfers,
)

__all__ = [
    "Account",
    "AccountKey",
    "Discrepancy",
    "Limit",
    "Payout",
    "PayoutBatch",
    "RefusedPayout",
    "Statement",
    "TransferRequest",
    "TransferResult",
    "TransferView",
    "account_transfers",
    "check_can_read",
    "creator_income",
    "get_account",
    "list_accounts",
    "monthly_statement",
    "open_account",
    "open_accounts",
    "owner_filter",
    "parse_month",
    "pay_out",
    "payouts_csv",
    "post_adjustment",
    "post_batch",
    "post_chain_batch",
    "post_chains",
    "post_transfers",
    "reconcile",
    "settled_days",
    "statement_csv",
]
