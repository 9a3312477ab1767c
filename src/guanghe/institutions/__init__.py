"""MCN institutions and the Torch programme: contracts with per-source splits, levels,
budgets, institution traffic pools, rewards, nominations and agents."""

from guanghe.institutions.agents import (
    AGENT_COMMISSION_CODE,
    agent_can_manage,
    agent_earnings,
    agent_institution,
    pay_agent_commission,
)
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
    "AGENT_COMMISSION_CODE",
    "Contract",
    "ContractBook",
    "ContractStep",
    "accept_contract",
    "agent_can_manage",
    "agent_earnings",
    "agent_institution",
    "check_acts_for_institution",
    "contract_book",
    "decline_contract",
    "end_contract",
    "get_contract",
    "pay_agent_commission",
    "propose_contract",
    "sign_contract",
]
