"""Double-entry money and traffic accounts: balanced, idempotent transfers, two-phase
reservations, linked batches and reconciliation.
"""

from guanghe.ledger.accounts import (
    Account,
    AccountKey,
    Limit,
    find_account,
    find_accounts,
    get_account,
    list_accounts,
    lock_accounts,
    open_account,
    open_account_groups,
    open_accounts,
)
from guanghe.ledger.adjustments import post_adjustment
from guanghe.ledger.history import (
    TransferView,
    account_transfers,
    check_can_read,
    owner_filter,
)
from guanghe.ledger.income import (
    TRACEABLE_INCOME_CODES,
    IncomeLine,
    creator_income,
    income_lines,
    reversed_transfers,
    settled_days,
    source_amounts,
)
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
from guanghe.ledger.totals import (
    PurposeTotals,
    code_totals,
    code_totals_by_account,
    paid_sources,
    purpose_totals,
    taken_keys,
    top_owner,
)
from guanghe.ledger.transfers import (
    TransferRequest,
    TransferResult,
    TransferStatus,
    post_chains,
    post_transfers,
)

__all__ = [
    "TRACEABLE_INCOME_CODES",
    "Account",
    "AccountKey",
    "Discrepancy",
    "IncomeLine",
    "Limit",
    "Payout",
    "PayoutBatch",
    "PurposeTotals",
    "RefusedPayout",
    "Statement",
    "TransferRequest",
    "TransferResult",
    "TransferStatus",
    "TransferView",
    "account_transfers",
    "check_can_read",
    "code_totals",
    "code_totals_by_account",
    "creator_income",
    "find_account",
    "find_accounts",
    "get_account",
    "income_lines",
    "list_accounts",
    "lock_accounts",
    "monthly_statement",
    "open_account",
    "open_account_groups",
    "open_accounts",
    "owner_filter",
    "paid_sources",
    "parse_month",
    "pay_out",
    "payouts_csv",
    "post_adjustment",
    "post_batch",
    "post_chain_batch",
    "post_chains",
    "post_transfers",
    "purpose_totals",
    "reconcile",
    "reversed_transfers",
    "settled_days",
    "source_amounts",
    "statement_csv",
    "taken_keys",
    "top_owner",
]
