"""Double-entry money and traffic accounts: balanced, idempotent transfers, two-phase
reservations, linked batches and reconciliation.
"""

from guanghe.ledger.accounts import Account, Limit, get_account, list_accounts, open_account
from guanghe.ledger.posting import post_batch
from guanghe.ledger.reconcile import Discrepancy, reconcile
from guanghe.ledger.transfers import TransferRequest, TransferResult, post_transfers

__all__ = [
    "Account",
    "Discrepancy",
    "Limit",
    "TransferRequest",
    "TransferResult",
    "get_account",
    "list_accounts",
    "open_account",
    "post_batch",
    "post_transfers",
    "reconcile",
]
