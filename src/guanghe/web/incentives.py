"""The dashboard's incentive views: a creator's progress bars towards each personal target;
operators' programme budgets used and completion by vertical and stage."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from guanghe import incentives
from guanghe.access import Principal
from guanghe.http.deps import get_runtime


def creator_context(session: Session, principal: Principal) -> dict[str, Any]:
    """``incentives``: the signed-in creator's newest incentive windows."""
    assert principal.subject_id is not None
    page = incentives.creator_incentives(session, principal, principal.subject_id, limit=10)
    return {"incentives": page.items}


def operator_context(request: Request, session: Session, principal: Principal) -> dict[str, Any]:
    """``incentive_programmes`` with budgets funded and paid; ``incentive_completion`` by
    programme, vertical and stage (the newest window of each)."""
    data_dir = get_runtime(request).settings.data_dir
    file = incentives.load_programmes(incentives.programmes_path(data_dir))
    return {
        "incentive_programmes": incentives.list_programmes(session, principal, file),
        "incentive_completion": incentives.completion(session),
    }
