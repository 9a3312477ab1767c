"""MCN institutions: contracts and revenue splits; later agents, pools and levels."""

from guanghe.institutions.contracts import Contract, ContractBook, contract_book

__all__ = ["Contract", "ContractBook", "contract_book"]
