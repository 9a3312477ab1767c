"""MCN institutions and the Torch programme: contracts with per-source splits, levels,
budgets, institution traffic pools, rewards, nominations and agents."""

from guanghe.institutions.contracts import (
    Contract,
    ContractBook,
    ContractStep,
    accept_contract,
    check_acts_for_institution,
    contract_book,
    decline_contract,
    end_contract,
    get_contract,
    propose_contract,
    sign_contract,
)

__all__ = [
    "Contract",
    "ContractBook",
    "ContractStep",
    "accept_contract",
    "check_acts_for_institution",
    "contract_book",
    "decline_contract",
    "end_contract",
    "get_contract",
    "propose_contract",
    "sign_contract",
]
