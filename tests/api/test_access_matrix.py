"""The authorisation matrix (issues 16 and 18): every endpoint x every role x (own object,
another tenant's object, no such object), with the expected status in every cell.

The platform has two tenants of each kind: creators 1 and 3 (of institutions 1 and 2),
advertisers A and B with a campaign and a task each (each task with a checked submission of
another creator's), merchants A and B with a product each; each institution has a Torch budget,
two contracts proposed to its creator and a nomination; creators 1 and 3 a notice each. The
tokens are the operator's, the ranker's and tenant A's (creator 1, institution 1, advertiser A,
merchant A, an agent of institution 1); "own" addresses tenant A's object, "other" tenant
B's, "missing" an id nothing has. A route that addresses no object has one column, "none".

The rule for 401, 403 and 404 (also in ``docs/api.md``):

- **401**: no credentials, or unknown ones (the dashboard sends a browser to ``/login``).
- **403**: the role may never do this, or the object exists and is another tenant's. Another
  tenant's object is refused, not hidden: ids are sequential, so hiding them would protect
  nothing, and a 403 tells an honest caller that its token, not its id, is wrong.
- **404**: nothing has that id (asked by a role that may act on such objects).

Every route of the app (``app.routes``: API and dashboard) must have a row in :data:`MATRIX`:
the test fails for a route without one, so an endpoint added later is added here with its
expected cells.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from guanghe import community
from guanghe.access import Principal
from guanghe.app import create_app
from guanghe.http.deps import SESSION_COOKIE
from guanghe.monetize import deposit, register_party
from guanghe.notifications import notify
from guanghe.runtime import Runtime
from guanghe.store import CopyMatch
from guanghe.tasks import TaskSpec, accept_task, check_submissions, create_task, submit_work
from tests.api.test_incentives import BODY as PROGRAMME
from tests.api.test_input_edges import CAMPAIGN, PRODUCT
from tests.originality.pictures import encode, picture
from tests.pipelines.sample import AS_OF
from tests.seed import SeedPlatform

ROLES = ("operator", "creator", "institution", "advertiser", "merchant", "ranker", "agent")
MISSING = 987_654
NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
Body = Callable[[dict[str, int], int], dict[str, Any]]


@dataclass(frozen=True)
class Row:
    """One route: its cells per scope, seven statuses in :data:`ROLES` order, and how to call it.

    ``path`` names objects as ``{creator}``, ``{work}``, ``{advertiser}``... filled from the
    scope's ids; ``json``/``form`` build the body from those ids and a fresh number;
    ``query`` values may name ``{feed_token}`` and the scope's ids; ``upload`` is a file
    field and its bytes."""

    method: str
    path: str
    cells: dict[str, str]
    anonymous: int = 401
    json: Body | None = None
    form: Body | None = None
    files: bool = False
    query: dict[str, str] = field(default_factory=dict)
    upload: tuple[str, bytes] | None = None


def row(method: str, path: str, **kwargs: Any) -> Row:
    """A row; ``anonymous`` (default 401) and the scopes' cells come as keywords."""
    anonymous = int(kwargs.pop("anonymous", 401))
    scopes: dict[str, str] = {
        k: kwargs.pop(k) for k in ("none", "own", "other", "missing") if k in kwargs
    }
    return Row(method, path, scopes, anonymous, **kwargs)


ALL_OK = "200 200 200 200 200 200 200"
OPERATOR_ONLY = "200 403 403 403 403 403 403"
RANKER_ONLY = "403 403 403 403 403 200 403"
NOBODY = "403 403 403 403 403 403 403"
CREATORS_OWN = "200 200 200 403 403 403 403"
CREATORS_OTHER = "200 403 403 403 403 403 403"
CREATORS_MISSING = "404 404 404 403 403 403 403"
#: Objects of creators (a creator, its works, its profile page): tenant A sees its own.
CREATOR_OBJECT = {"own": CREATORS_OWN, "other": CREATORS_OTHER, "missing": CREATORS_MISSING}


#: A creator's own settings and money (authorisations, earnings): operators and the creator.
CREATOR_PRIVATE = {
    "own": "200 200 403 403 403 403 403",
    "other": "200 403 403 403 403 403 403",
    "missing": "404 403 403 403 403 403 403",
}
#: Ledger accounts: advertiser A's prepaid account is tenant A's.
ACCOUNT_OBJECT = {
    "own": "200 403 403 200 403 403 403",
    "other": "200 403 403 403 403 403 403",
    "missing": "404 404 404 404 404 403 404",
}


def party(kind: str, ok: int = 200, missing_own: int = 403) -> dict[str, str]:
    """Cells of an advertiser's or merchant's object: operators and the party itself (which
    gets ``missing_own`` for an id that can only be another party's)."""
    mine = "advertiser" if kind == "advertiser" else "merchant"
    own = [ok, 403, 403, 403, 403, 403, 403]
    own[ROLES.index(mine)] = ok
    missing = [404, 403, 403, 403, 403, 403, 403]
    missing[ROLES.index(mine)] = missing_own
    return {
        "own": " ".join(map(str, own)),
        "other": f"{ok} 403 403 403 403 403 403",
        "missing": " ".join(map(str, missing)),
    }


def _campaign(ids: dict[str, int], n: int) -> dict[str, Any]:
    return CAMPAIGN | {"name": f"campaign {n}", "advertiser_id": ids["advertiser"]}


def _product(ids: dict[str, int], n: int) -> dict[str, Any]:
    return PRODUCT | {"title": f"product {n}", "merchant_id": ids["merchant"]}


def _adjustment(ids: dict[str, int], n: int) -> dict[str, Any]:
    return {
        "key": f"matrix-{n}",
        "debit_account_id": ids["account"],
        "credit_account_id": ids["other_account"],
        "amount": 1,
        "reason": "matrix check",
    }


#: Institutions: operators see each, an institution (and its agents, who only read) itself.
INSTITUTION_OBJECT = {
    "own": "200 403 200 403 403 403 200",
    "other": "200 403 403 403 403 403 403",
    "missing": "404 403 403 403 403 403 403",
}
#: Contracts: operators and the two parties; accepting or declining is the creator's (the
#: institution's agents read its contracts, and change none).
CONTRACT_ANSWER = {
    "own": "200 409 403 403 403 403 403",
    "other": "200 403 403 403 403 403 403",
    "missing": "404 404 404 403 403 403 404",
}
CONTRACT_OBJECT = {
    "own": "200 200 200 403 403 403 200",
    "other": CREATORS_OTHER,
    "missing": "404 404 404 403 403 403 404",
}


def _today() -> dt.date:
    """Today's UTC date, read when a request is built (a run may cross midnight)."""
    return dt.datetime.now(dt.UTC).date()


ICS = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//matrix//EN\r\nBEGIN:VEVENT\r\n"
    b"UID:matrix-import\r\nSUMMARY:Matrix fair\r\nDTSTART;VALUE=DATE:20270301\r\n"
    b"DTEND;VALUE=DATE:20270303\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def _budgets(ids: dict[str, int], n: int) -> dict[str, Any]:
    return {
        "starts_on": (_today() - dt.timedelta(days=1)).isoformat(),
        "ends_on": (_today() + dt.timedelta(days=30)).isoformat(),
        "budgets": [
            {"institution_id": i, "cash_fen": 100_000, "traffic_impressions": 10_000}
            for i in (ids["institution"], ids["other_institution"])
        ],
        "nomination_slots": 2,
    }


def _experiment(ids: dict[str, int], n: int) -> dict[str, Any]:
    return EXPERIMENT | {"key": f"matrix-{n}"}


#: An experiment over the sample events' last days (so that it has a report).
EXPERIMENT: dict[str, Any] = {
    "key": "matrix",
    "title": "Favour novices",
    "policy": {"pool_weights": {"new_creator": 1.5}, "product_ranking": "commission"},
    "treatment_share": 0.5,
    "starts_on": "2026-11-20",
    "ends_on": "2026-12-31",
}
#: Experiments: operators only; a creator never sees an experiment's internals.
EXPERIMENT_OBJECT = {"own": OPERATOR_ONLY, "missing": "404 403 403 403 403 403 403"}


def _event(ids: dict[str, int], n: int) -> dict[str, Any]:
    return {
        "title": f"event {n}",
        "kind": "platform_event",
        "starts_on": "2027-02-01",
        "ends_on": "2027-02-03",
    }


def _task(ids: dict[str, int], n: int) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {
        "kind": "promotion",
        "title": f"task {n}",
        "starts_at": now.isoformat(),
        "ends_at": (now + dt.timedelta(days=7)).isoformat(),
        "reward_fen": 100,
        "slots": 1,
        "sponsor": {"kind": "advertiser", "id": ids["advertiser"]},
    }


def _live_session(ids: dict[str, int], n: int) -> dict[str, Any]:
    starts = dt.datetime.now(dt.UTC) + dt.timedelta(days=1, minutes=n)
    return {
        "topic": f"Session {n}",
        "host_creator_id": ids["creator"],
        "starts_at": starts.isoformat(),
        "ends_at": (starts + dt.timedelta(hours=1)).isoformat(),
        "capacity": 10,
    }


def _course(ids: dict[str, int], n: int) -> dict[str, Any]:
    return {
        "slug": f"course-{n}",
        "title": "Covers",
        "stage": "novice",
        "lessons": [{"title": "Cover basics", "minutes": 5, "addresses": "play_rate"}],
    }


#: The creator community: its readers, and the objects (boards, threads, posts) all share.
COMMUNITY_READ = "200 200 200 403 403 403 200"
COMMUNITY_OBJECT = {"own": COMMUNITY_READ, "missing": "404 404 404 403 403 403 404"}
COMMUNITY_WRITE = {"own": "201 201 403 403 403 403 403", "missing": "404 404 403 403 403 403 403"}
COMMUNITY_MODERATE = {"own": OPERATOR_ONLY, "missing": "404 403 403 403 403 403 403"}
COMMUNITY_WEB_MODERATE = {
    "own": "303 403 403 403 403 403 403",
    "missing": "404 403 403 403 403 403 403",
}


def _board(ids: dict[str, int], n: int) -> dict[str, Any]:
    return {"slug": f"matrix-{n}", "title": f"Board {n}"}


def _reason(ids: dict[str, int], n: int) -> dict[str, Any]:
    return {"reason": f"matrix {n}"}


MATRIX: list[Row] = [
    row("GET", "/healthz", anonymous=200, none=ALL_OK),
    row("GET", "/readyz", anonymous=200, none=ALL_OK),
    row("GET", "/metrics", none=OPERATOR_ONLY),
    row("GET", "/v1/verticals", none=ALL_OK),
    row("GET", "/v1/creators", none=CREATORS_OWN),
    row("GET", "/v1/creators/{creator}", **CREATOR_OBJECT),
    row("GET", "/v1/creators/{creator}/growth", **CREATOR_OBJECT),
    row("GET", "/v1/creators/{creator}/traffic", **CREATOR_OBJECT),
    row("GET", "/v1/works", none=CREATORS_OWN),
    row("GET", "/v1/works/{work}", **CREATOR_OBJECT),
    row(
        "POST",
        "/v1/works",
        form=lambda ids, n: {"creator_id": ids["creator"], "title": f"work {n}"},
        files=True,
        own="201 201 403 403 403 403 403",
        other="201 403 403 403 403 403 403",
        missing="404 403 403 403 403 403 403",
    ),
    row(
        "GET",
        "/v1/report/ecosystem",
        query={"from": "2026-11-01", "to": "2026-11-28"},
        none=OPERATOR_ONLY,
    ),
    row("GET", "/v1/ledger/accounts", none="200 200 200 200 200 403 200"),
    *(
        row("GET", path, **ACCOUNT_OBJECT)
        for path in (
            "/v1/ledger/accounts/{account}",
            "/v1/ledger/accounts/{account}/transfers",
            "/v1/ledger/accounts/{account}/statements/2026-11",
        )
    ),
    row(
        "POST",
        "/v1/ledger/adjustments",
        json=_adjustment,
        own="201 403 403 403 403 403 403",
        missing="404 403 403 403 403 403 403",
    ),
    row("GET", "/v1/ledger/reconciliation", none=OPERATOR_ONLY),
    row("GET", "/v1/authorisations/{creator}", **CREATOR_PRIVATE),
    row("GET", "/v1/authorisations/{creator}/history", **CREATOR_PRIVATE),
    row(
        "PUT",
        "/v1/authorisations/{creator}/profile_ads",
        json=lambda ids, n: {"granted": True},
        own="200 200 403 403 403 403 403",
        other="200 403 403 403 403 403 403",
        missing="404 403 403 403 403 403 403",
    ),
    row("GET", "/v1/earnings/{creator}", **CREATOR_PRIVATE),
    row("GET", "/v1/monetization/totals", none=OPERATOR_ONLY),
    row(
        "GET",
        "/v1/profile-slots/{creator}",
        own="200 200 403 403 403 200 403",
        other="200 403 403 403 403 200 403",
        missing="404 403 403 403 403 404 403",
    ),
    row(
        "POST",
        "/v1/advertisers",
        json=lambda ids, n: {"name": f"advertiser {n}"},
        none="201 403 403 403 403 403 403",
    ),
    row(
        "POST",
        "/v1/merchants",
        json=lambda ids, n: {"name": f"merchant {n}"},
        none="201 403 403 403 403 403 403",
    ),
    row("GET", "/v1/advertisers/{advertiser}", **party("advertiser")),
    row("GET", "/v1/merchants/{merchant}", **party("merchant")),
    row(
        "POST",
        "/v1/advertisers/{advertiser}/deposits",
        json=lambda ids, n: {"key": f"deposit-{n}", "amount_fen": 100},
        own="201 403 403 403 403 403 403",
        other="201 403 403 403 403 403 403",
        missing="404 403 403 403 403 403 403",
    ),
    row("POST", "/v1/campaigns", json=_campaign, **party("advertiser", ok=201)),
    row("GET", "/v1/campaigns", none="200 403 403 200 403 403 403"),
    row("GET", "/v1/campaigns/{campaign}", **party("advertiser", missing_own=404)),
    row(
        "PATCH",
        "/v1/campaigns/{campaign}",
        json=lambda ids, n: {"status": "active"},
        **party("advertiser", missing_own=404),
    ),
    row("POST", "/v1/products", json=_product, **party("merchant", ok=201)),
    row("GET", "/v1/products", none="200 403 403 403 200 403 403"),
    row("GET", "/v1/products/{product}", **party("merchant", missing_own=404)),
    row(
        "PATCH",
        "/v1/products/{product}",
        json=lambda ids, n: {"stock": 40},
        **party("merchant", missing_own=404),
    ),
    row(
        "POST",
        "/v1/boost",
        json=lambda ids, n: {"candidates": [{"creator_id": 1, "work_id": 100}]},
        none=RANKER_ONLY,
    ),
    row(
        "POST",
        "/v1/boost/deliveries",
        json=lambda ids, n: {
            "deliveries": [
                {"delivery_id": f"d{n}", "work_id": 100, "creator_id": 1, "impressions": 1}
            ]
        },
        none=RANKER_ONLY,
    ),
    row(
        "PUT",
        "/v1/traffic/budgets",
        json=lambda ids, n: {
            "pool": "general",
            "starts_on": "2027-03-01",
            "ends_on": "2027-03-07",
            "impressions": 1000,
        },
        none=OPERATOR_ONLY,
    ),
    row("GET", "/v1/traffic/plan", none=OPERATOR_ONLY),
    row("GET", "/v1/boost/serving", none=OPERATOR_ONLY),
    row("GET", "/v1/cycle/runs", none=OPERATOR_ONLY),
    row("GET", f"/v1/cycle/runs/{AS_OF.isoformat()}", none=OPERATOR_ONLY),
    row("GET", "/v1/tokens", none=OPERATOR_ONLY),
    row(
        "DELETE",
        "/v1/tokens/{token}",
        own=OPERATOR_ONLY,
        other=OPERATOR_ONLY,
        missing="404 403 403 403 403 403 403",
    ),
    # The seed's works were never checked: those visible to the caller are 404.
    row(
        "GET",
        "/v1/originality/works/{work}",
        own="404 404 403 403 403 403 403",
        other="404 403 403 403 403 403 403",
        missing="404 404 403 403 403 403 403",
    ),
    row(
        "POST",
        "/v1/originality/claims",
        json=lambda ids, n: {
            "work_id": ids["work"] + 4,
            "original_work_id": ids["work"],
            "statement": "mine",
        },
        own="403 201 403 403 403 403 403",
        other="403 403 403 403 403 403 403",
        missing="403 404 403 403 403 403 403",
    ),
    row(
        "POST",
        "/v1/originality/disputes",
        json=lambda ids, n: {"work_id": ids["work"], "statement": "mine"},
        own="403 422 403 403 403 403 403",
        other="403 403 403 403 403 403 403",
        missing="403 404 403 403 403 403 403",
    ),
    row("GET", "/v1/originality/cases", none="200 200 403 403 403 403 403"),
    row("GET", "/v1/originality/matches", none="200 200 403 403 403 403 403"),
    row(
        "GET",
        "/v1/originality/matches/{match}",
        own="200 200 403 403 403 403 403",
        other="200 403 403 403 403 403 403",
        missing="404 404 403 403 403 403 403",
    ),
    # Segment matches: the work's creator (none yet) and operators; a creator whose works the
    # work does not copy gets 403.
    row(
        "GET",
        "/v1/originality/works/{work}/matches",
        own="200 200 403 403 403 403 403",
        other="200 403 403 403 403 403 403",
        missing="404 404 403 403 403 403 403",
    ),
    row(
        "POST",
        "/v1/originality/policies",
        json=lambda ids, n: {"policy": "monetize", "work_id": ids["work"]},
        own="403 201 403 403 403 403 403",
        other="403 403 403 403 403 403 403",
        missing="403 404 403 403 403 403 403",
    ),
    row(
        "GET",
        "/v1/originality/policies/{creator}",
        own="200 200 403 403 403 403 403",
        other="200 403 403 403 403 403 403",
        missing="404 404 403 403 403 403 403",
    ),
    row("GET", "/v1/originality/shared-music", none="200 200 403 403 403 403 403"),
    row(
        "POST",
        "/v1/originality/shared-music",
        json=lambda ids, n: {"work_id": ids["work"], "note": "library track"},
        own="201 403 403 403 403 403 403",
        missing="404 403 403 403 403 403 403",
    ),
    row(
        "POST",
        "/v1/originality/cases/{case}/resolution",
        json=lambda ids, n: {"resolution": "reject"},
        own="200 403 403 403 403 403 403",
        missing="404 403 403 403 403 403 403",
    ),
    row(
        "POST",
        "/v1/diagnosis",
        form=lambda ids, n: {"creator_id": ids["creator"], "title": "draft"},
        files=True,
        own="403 403 403 403 403 403 403",
        other="200 403 403 403 403 403 403",
        missing="404 403 403 403 403 403 403",
    ),
    row("POST", "/v1/tasks", json=_task, **party("advertiser", ok=201)),
    # Agents list the tasks they brought (none here: the agent sees another's task as 403).
    row("GET", "/v1/tasks", none="200 200 200 200 403 403 200"),
    # Open tasks are every creator's to see; a sponsor sees its own.
    row(
        "GET",
        "/v1/tasks/{task}",
        own="200 200 200 200 403 403 403",
        other="200 200 200 403 403 403 403",
        missing="404 404 404 404 403 403 404",
    ),
    row("GET", "/v1/creators/{creator}/tasks", **CREATOR_PRIVATE),
    # The operator takes the creator's slot (201); the creator's own try then holds one (409).
    row(
        "POST",
        "/v1/tasks/{task}/accept",
        json=lambda ids, n: {"creator_id": ids["creator"]},
        own="201 409 403 403 403 403 403",
        other="201 403 403 403 403 403 403",
        missing="404 403 403 403 403 403 403",
    ),
    # For the slot the row above took: the operator submits (201), the creator then cannot.
    row(
        "POST",
        "/v1/tasks/{task}/submissions",
        json=lambda ids, n: {"creator_id": ids["creator"], "work_id": ids["work"]},
        own="201 409 403 403 403 403 403",
        other="201 403 403 403 403 403 403",
        missing="404 403 403 403 403 403 403",
    ),
    row(
        "GET",
        "/v1/tasks/{task}/submissions",
        own="200 200 403 200 403 403 403",
        other="200 200 403 403 403 403 403",
        missing="404 404 403 404 403 403 404",
    ),
    row(
        "POST",
        "/v1/tasks/{task}/submissions/{submission}/review",
        json=lambda ids, n: {"decision": "approve"},
        own=OPERATOR_ONLY,
        other=OPERATOR_ONLY,
        missing="404 403 403 403 403 403 403",
    ),
    row("GET", "/v1/incentives/programs", none=ALL_OK),
    row(
        "PUT",
        "/v1/incentives/programs/matrix",
        json=lambda ids, n: PROGRAMME | {"title": f"programme {n}"},
        none=OPERATOR_ONLY,
    ),
    row("GET", "/v1/creators/{creator}/incentives", **CREATOR_OBJECT),
    row("GET", "/v1/creators/{creator}/inbox", **CREATOR_PRIVATE),
    row("POST", "/v1/creators/{creator}/inbox/{notice}/read", **CREATOR_PRIVATE),
    row("GET", "/v1/creators/{creator}/notification-settings", **CREATOR_PRIVATE),
    row(
        "PUT",
        "/v1/creators/{creator}/notification-settings",
        json=lambda ids, n: {"digest": True},
        **CREATOR_PRIVATE,
    ),
    row("GET", "/v1/notifications/dead-letters", none=OPERATOR_ONLY),
    row("POST", "/v1/experiments", json=_experiment, none="201 403 403 403 403 403 403"),
    row("GET", "/v1/experiments", none=OPERATOR_ONLY),
    row("GET", "/v1/experiments/{experiment}", **EXPERIMENT_OBJECT),
    row("GET", "/v1/experiments/{experiment}/report", **EXPERIMENT_OBJECT),
    # Notice ids with no dead delivery: the operator's 404, refused to everyone else.
    row(
        "POST",
        "/v1/notifications/dead-letters/{notice}/replay",
        own="404 403 403 403 403 403 403",
        missing="404 403 403 403 403 403 403",
    ),
    row("GET", "/v1/institutions", none="200 403 200 403 403 403 200"),
    row("GET", "/v1/institutions/{institution}", **INSTITUTION_OBJECT),
    row("GET", "/v1/institutions/{institution}/creators", **INSTITUTION_OBJECT),
    row("GET", "/v1/institutions/{institution}/support", **INSTITUTION_OBJECT),
    row("PUT", "/v1/torch/budgets", json=_budgets, none=OPERATOR_ONLY),
    row("GET", "/v1/torch/levels", none=OPERATOR_ONLY),
    row(
        "POST",
        "/v1/institutions/{institution}/contracts",
        json=lambda ids, n: {
            "creator_id": ids["creator"],
            "splits": {"commerce": 1_000},
            "valid_from": _today().isoformat(),
        },
        **INSTITUTION_OBJECT
        | {"own": "201 403 201 403 403 403 403", "other": "201 403 403 403 403 403 403"},
    ),
    row("GET", "/v1/contracts/{contract}", **CONTRACT_OBJECT),
    row("POST", "/v1/contracts/{offer}/decline", **CONTRACT_ANSWER),
    row("POST", "/v1/contracts/{contract}/accept", **CONTRACT_ANSWER),
    # The contracts the row above made active: the operator ends them, then neither party can.
    row(
        "POST",
        "/v1/contracts/{contract}/end",
        own="200 409 409 403 403 403 403",
        other="200 403 403 403 403 403 403",
        missing="404 404 404 403 403 403 404",
    ),
    row(
        "PUT",
        "/v1/institutions/{institution}/traffic-preferences",
        json=lambda ids, n: {"preferences": [{"creator_id": ids["creator"], "weight": 2.0}]},
        **INSTITUTION_OBJECT | {"own": "200 403 200 403 403 403 403"},
    ),
    row(
        "POST",
        "/v1/institutions/{institution}/rewards",
        json=lambda ids, n: {"creator_id": ids["creator"], "amount_fen": 1, "key": f"r{n}"},
        **INSTITUTION_OBJECT
        | {"own": "201 403 201 403 403 403 403", "other": "201 403 403 403 403 403 403"},
    ),
    row(
        "POST",
        "/v1/institutions/{institution}/nominations",
        json=lambda ids, n: {
            "creator_id": ids["creator"],
            "starts_on": (_today() + dt.timedelta(days=n)).isoformat(),
        },
        **INSTITUTION_OBJECT
        | {"own": "201 403 201 403 403 403 403", "other": "201 403 403 403 403 403 403"},
    ),
    row(
        "POST",
        "/v1/torch/nominations/{nomination}/decision",
        json=lambda ids, n: {"approve": False},
        own=OPERATOR_ONLY,
        other=OPERATOR_ONLY,
        missing="404 403 403 403 403 403 403",
    ),
    row("GET", "/v1/hotspots", none="200 200 200 403 403 403 403"),
    row("GET", "/v1/creators/{creator}/inspiration", **CREATOR_OBJECT),
    row("GET", "/v1/calendar/events", none="200 200 200 403 403 403 403"),
    row("POST", "/v1/calendar/events", json=_event, none="201 403 403 403 403 403 403"),
    row(
        "POST",
        "/v1/calendar/import",
        upload=("file", ICS),
        none="200 403 403 403 403 403 403",
    ),
    row("GET", "/v1/calendar.ics", none="200 200 200 403 403 403 403"),
    # The feed's token (creator 1's) is its credential: any bearer header is ignored, and
    # the feed of another creator or of no creator does not exist at that address.
    row(
        "GET",
        "/v1/creators/{creator}/calendar.ics",
        anonymous=200,
        query={"token": "{feed_token}"},
        own=ALL_OK,
    ),
    row(
        "GET",
        "/v1/creators/{creator}/calendar.ics",
        anonymous=404,
        query={"token": "{feed_token}"},
        other="404 404 404 404 404 404 404",
        missing="404 404 404 404 404 404 404",
    ),
    row(
        "POST",
        "/v1/creators/{creator}/calendar-feed-token",
        own="201 201 403 403 403 403 403",
        other="201 403 403 403 403 403 403",
        missing="404 404 403 403 403 403 403",
    ),
    row(
        "DELETE",
        "/v1/creators/{creator}/calendar-feed-token",
        own="200 200 403 403 403 403 403",
        other="200 403 403 403 403 403 403",
        missing="404 404 403 403 403 403 403",
    ),
    # The live room and teaching resources: operators manage, creators act as themselves,
    # institutions and agents read. ``live`` starts within the hour (hosted by creator 1),
    # ``past_live`` is over (its event stream sends its snapshot and ends).
    row("GET", "/v1/live/sessions", none="200 200 200 403 403 403 200"),
    row("POST", "/v1/live/sessions", json=_live_session, none="201 403 403 403 403 403 403"),
    row(
        "GET",
        "/v1/live/sessions/{live}",
        own="200 200 200 403 403 403 200",
        missing="404 404 404 403 403 403 404",
    ),
    row(
        "PATCH",
        "/v1/live/sessions/{live}",
        json=lambda ids, n: {"cancelled": False},
        own=OPERATOR_ONLY,
        missing="404 403 403 403 403 403 403",
    ),
    row(
        "PUT",
        "/v1/live/sessions/{live}/rsvp",
        own="403 200 403 403 403 403 403",
        missing="403 404 403 403 403 403 403",
    ),
    row(
        "DELETE",
        "/v1/live/sessions/{live}/rsvp",
        own="403 200 403 403 403 403 403",
        missing="403 404 403 403 403 403 403",
    ),
    row(
        "GET",
        "/v1/live/sessions/{live}/questions",
        own="200 200 200 403 403 403 200",
        missing="404 404 404 403 403 403 404",
    ),
    row(
        "POST",
        "/v1/live/sessions/{live}/questions",
        json=lambda ids, n: {"body": f"question {n}"},
        own="403 201 403 403 403 403 403",
        missing="403 404 403 403 403 403 403",
    ),
    row(
        "PUT",
        "/v1/live/sessions/{live}/questions/{question}/vote",
        own="403 200 403 403 403 403 403",
        missing="403 404 403 403 403 403 403",
    ),
    row(
        "POST",
        "/v1/live/sessions/{live}/questions/{question}/answer",
        json=lambda ids, n: {"answer": ""},
        own="200 200 403 403 403 403 403",
        missing="404 404 403 403 403 403 403",
    ),
    row(
        "GET",
        "/v1/live/sessions/{past_live}/events",
        own="200 200 200 403 403 403 200",
        missing="404 404 404 403 403 403 404",
    ),
    row("GET", "/v1/courses", none="200 200 200 403 403 403 200"),
    row("POST", "/v1/courses", json=_course, none="201 403 403 403 403 403 403"),
    row("GET", "/v1/courses/recommended", query={"creator_id": "{creator}"}, **CREATOR_OBJECT),
    row(
        "GET",
        "/v1/courses/{course}",
        own="200 200 200 403 403 403 200",
        missing="404 404 404 403 403 403 404",
    ),
    row(
        "PUT",
        "/v1/courses/{course}/lessons/{lesson}/completion",
        own="403 200 403 403 403 403 403",
        missing="403 404 403 403 403 403 403",
    ),
    # The community: operators, creators, institutions and agents read; creators post as
    # themselves, operators as the platform; creators react and report; operators moderate.
    row("GET", "/v1/community/boards", none=COMMUNITY_READ),
    row("POST", "/v1/community/boards", json=_board, none="201 403 403 403 403 403 403"),
    row("GET", "/v1/community/boards/{board}/threads", **COMMUNITY_OBJECT),
    row(
        "POST",
        "/v1/community/boards/{board}/threads",
        json=lambda ids, n: {"title": f"thread {n}", "body": "body"},
        **COMMUNITY_WRITE,
    ),
    row("GET", "/v1/community/threads/{thread}", **COMMUNITY_OBJECT),
    row(
        "POST",
        "/v1/community/threads/{thread}/posts",
        json=lambda ids, n: {"body": f"post {n}"},
        **COMMUNITY_WRITE,
    ),
    row(
        "POST",
        "/v1/community/posts/{post}/reactions",
        json=lambda ids, n: {"kind": "like"},
        own="403 200 403 403 403 403 403",
        missing="403 404 403 403 403 403 403",
    ),
    row(
        "POST",
        "/v1/community/posts/{post}/reports",
        json=_reason,
        own="403 201 403 403 403 403 403",
        missing="403 404 403 403 403 403 403",
    ),
    row("GET", "/v1/community/search", query={"q": "饺子"}, none=COMMUNITY_READ),
    row("GET", "/v1/community/reports", none=OPERATOR_ONLY),
    row("POST", "/v1/community/reports/{report}/dismiss", json=_reason, **COMMUNITY_MODERATE),
    row("POST", "/v1/community/posts/{post}/hide", json=_reason, **COMMUNITY_MODERATE),
    row("POST", "/v1/community/posts/{post}/restore", json=_reason, **COMMUNITY_MODERATE),
    row("POST", "/v1/community/threads/{thread}/lock", json=_reason, **COMMUNITY_MODERATE),
    row("POST", "/v1/community/threads/{thread}/unlock", json=_reason, **COMMUNITY_MODERATE),
    # Creator 3 (tenant B), so that creator 1 may still post in the dashboard's rows.
    row(
        "POST",
        "/v1/community/members/{creator}/suspensions",
        json=lambda ids, n: {"hours": 1, "reason": "matrix"},
        other="201 403 403 403 403 403 403",
        missing="404 403 403 403 403 403 403",
    ),
    row("GET", "/v1/community/members/{creator}", **CREATOR_OBJECT),
    row("GET", "/v1/community/moderation-log", none=OPERATOR_ONLY),
    # The dashboard: a browser without a session is sent to the sign-in form.
    row("GET", "/", anonymous=303, none="303 303 303 303 303 303 303"),
    row("GET", "/login", anonymous=200, none=ALL_OK),
    row(
        "POST",
        "/login",
        anonymous=401,
        form=lambda ids, n: {"token": "no such token"},
        none="401 401 401 401 401 401 401",
    ),
    row("POST", "/logout", anonymous=303, none="303 303 303 303 303 303 303"),
    row("GET", "/dashboard", anonymous=303, none=ALL_OK),
    row("GET", "/dashboard/creators", none=CREATORS_OWN),
    row("GET", "/dashboard/report", anonymous=303, none=OPERATOR_ONLY),
    row("GET", "/dashboard/cycle", anonymous=303, none=OPERATOR_ONLY),
    row("GET", "/dashboard/institutions", anonymous=303, none=OPERATOR_ONLY),
    row("GET", "/dashboard/tasks", anonymous=303, none="200 200 403 200 403 403 403"),
    # Creator 1 already holds a slot of task A (the API rows above took it): 409; task B: 303.
    row(
        "POST",
        "/dashboard/tasks/{task}/accept",
        anonymous=303,
        own="403 409 403 403 403 403 403",
        other="403 303 403 403 403 403 403",
        missing="403 404 403 403 403 403 403",
    ),
    row("GET", "/dashboard/inbox", anonymous=303, none="403 200 403 403 403 403 403"),
    row(
        "POST",
        "/dashboard/inbox/{notice}/read",
        anonymous=303,
        own="403 303 403 403 403 403 403",
        other="403 404 403 403 403 403 403",
        missing="403 404 403 403 403 403 403",
    ),
    row(
        "GET", "/dashboard/notification-settings", anonymous=303, none="403 200 403 403 403 403 403"
    ),
    row(
        "POST",
        "/dashboard/notification-settings",
        anonymous=303,
        form=lambda ids, n: {
            "timezone": "Asia/Shanghai",
            "quiet_start": "22:00",
            "quiet_end": "07:00",
            "digest_time": "08:00",
        },
        none="403 303 403 403 403 403 403",
    ),
    row("GET", "/dashboard/dead-letters", anonymous=303, none=OPERATOR_ONLY),
    row("GET", "/dashboard/experiments", anonymous=303, none=OPERATOR_ONLY),
    row("GET", "/dashboard/experiments/{experiment}", anonymous=303, **EXPERIMENT_OBJECT),
    row(
        "POST",
        "/dashboard/dead-letters/{notice}/replay",
        anonymous=303,
        own="404 403 403 403 403 403 403",
        missing="404 403 403 403 403 403 403",
    ),
    row(
        "GET",
        "/dashboard/traffic",
        anonymous=303,
        query={"creator": "1"},
        none="200 200 200 403 403 403 403",
    ),
    row("GET", "/dashboard/originality", anonymous=303, none="200 200 403 403 403 403 403"),
    row("GET", "/dashboard/hotspots", anonymous=303, none="200 200 200 403 403 403 403"),
    row("GET", "/dashboard/live", anonymous=303, none="200 200 200 403 403 403 200"),
    row(
        "GET",
        "/dashboard/live/{live}",
        anonymous=303,
        own="200 200 200 403 403 403 200",
        missing="404 404 404 403 403 403 404",
    ),
    row("GET", "/dashboard/courses", anonymous=303, none="200 200 200 403 403 403 200"),
    row(
        "POST",
        "/dashboard/authorisations/profile_ads",
        anonymous=303,
        form=lambda ids, n: {"granted": "true"},
        none="403 303 403 403 403 403 403",
    ),
    row(
        "POST",
        "/dashboard/originality/cases/{web_case}",
        anonymous=303,
        form=lambda ids, n: {"resolution": "reject"},
        own="303 422 403 403 403 403 403",
        missing="422 422 403 403 403 403 403",
    ),
    row(
        "POST",
        "/dashboard/originality/claims",
        anonymous=303,
        form=lambda ids, n: {
            "work_id": ids["work"] + 10,
            "original_work_id": ids["work"],
            "statement": "mine",
        },
        own="422 303 403 403 403 403 403",
        other="422 422 403 403 403 403 403",
    ),
    row(
        "POST",
        "/dashboard/originality/policies",
        anonymous=303,
        form=lambda ids, n: {"policy": "monetize", "work_id": ids["work"]},
        own="422 303 403 403 403 403 403",
        other="422 422 403 403 403 403 403",
        missing="422 422 403 403 403 403 403",
    ),
    row(
        "POST",
        "/dashboard/originality/disputes",
        anonymous=303,
        form=lambda ids, n: {"work_id": ids["work"], "statement": "mine"},
        own="422 422 403 403 403 403 403",
        other="422 422 403 403 403 403 403",
        missing="422 422 403 403 403 403 403",
    ),
    row(
        "POST",
        "/dashboard/originality/diagnosis",
        anonymous=303,
        files=True,
        form=lambda ids, n: {"title": "draft"},
        none="422 422 403 403 403 403 403",
    ),
    row("GET", "/dashboard/community", anonymous=303, none=COMMUNITY_READ),
    row(
        "GET",
        "/dashboard/community",
        anonymous=303,
        query={"q": "饺子"},
        none=COMMUNITY_READ,
    ),
    row("GET", "/dashboard/community/boards/{board}", anonymous=303, **COMMUNITY_OBJECT),
    row(
        "POST",
        "/dashboard/community/boards/{board}/threads",
        anonymous=303,
        form=lambda ids, n: {"title": f"web thread {n}", "body": "body"},
        own="303 303 403 403 403 403 403",
        missing="404 404 403 403 403 403 403",
    ),
    row("GET", "/dashboard/community/threads/{thread}", anonymous=303, **COMMUNITY_OBJECT),
    row(
        "POST",
        "/dashboard/community/threads/{thread}/posts",
        anonymous=303,
        form=lambda ids, n: {"body": f"web post {n}"},
        own="303 303 403 403 403 403 403",
        missing="404 404 403 403 403 403 403",
    ),
    row(
        "POST",
        "/dashboard/community/posts/{post}/report",
        anonymous=303,
        form=_reason,
        own="403 303 403 403 403 403 403",
        missing="403 404 403 403 403 403 403",
    ),
    row(
        "POST",
        "/dashboard/community/posts/{post}/hide",
        anonymous=303,
        form=_reason,
        **COMMUNITY_WEB_MODERATE,
    ),
    row(
        "POST",
        "/dashboard/community/posts/{post}/restore",
        anonymous=303,
        form=_reason,
        **COMMUNITY_WEB_MODERATE,
    ),
    row(
        "POST",
        "/dashboard/community/threads/{thread}/lock",
        anonymous=303,
        form=lambda ids, n: {"reason": "matrix", "locked": "true"},
        **COMMUNITY_WEB_MODERATE,
    ),
    row(
        "POST",
        "/dashboard/community/threads/{thread}/lock",
        anonymous=303,
        form=lambda ids, n: {"reason": "matrix", "locked": "false"},
        **COMMUNITY_WEB_MODERATE,
    ),
    row(
        "POST",
        "/dashboard/community/reports/{web_report}/dismiss",
        anonymous=303,
        form=_reason,
        **COMMUNITY_WEB_MODERATE,
    ),
    row("GET", "/dashboard/community/moderation", anonymous=303, none=OPERATOR_ONLY),
    # Creator 5, whom no other row has post.
    row(
        "POST",
        "/dashboard/community/suspensions",
        anonymous=303,
        form=lambda ids, n: {"creator_id": "5", "hours": "1", "reason": "matrix"},
        none="303 403 403 403 403 403 403",
    ),
]


@dataclass(frozen=True)
class World:
    """The two tenants' ids per scope, and tenant A's token per role."""

    ids: dict[str, dict[str, int]]
    tokens: dict[str, str]
    feed_token: str


def _seed(runtime: Runtime, client: TestClient, token_for: Callable[..., str]) -> World:
    """Tenants' objects on the cycled platform (the seed platform, the sample events and the
    cycle for their last day: ``cycled_platform``)."""

    def register(session: Any) -> list[int]:
        made = []
        for kind, name in (
            ("advertiser", "Acme"),
            ("advertiser", "Bolt"),
            ("merchant", "Kitchen"),
            ("merchant", "Garden"),
        ):
            party = register_party(session, kind, name, now=NOW).id
            if kind == "advertiser":
                deposit(session, party, key=f"seed-{party}", amount_fen=1_000_000, now=NOW)
            made.append(party)
        return made

    adv_a, adv_b, mer_a, mer_b = runtime.write(register)
    operator = {"Authorization": f"Bearer {token_for('operator')}"}
    made: dict[str, list[int]] = {"campaign": [], "product": []}
    for path, kind, body, parties in (
        ("/v1/campaigns", "campaign", CAMPAIGN, ("advertiser_id", (adv_a, adv_b))),
        ("/v1/products", "product", PRODUCT, ("merchant_id", (mer_a, mer_b))),
    ):
        for party in parties[1]:
            created = client.post(path, json=body | {parties[0]: party}, headers=operator)
            assert created.status_code == 201, created.text
            made[kind].append(created.json()["id"])
    creator3 = {"Authorization": f"Bearer {token_for('creator', 3)}"}
    cases = []
    for copy, original in ((100, 102), (106, 108)):
        claim = {"work_id": copy, "original_work_id": original, "statement": "mine first"}
        filed = client.post("/v1/originality/claims", json=claim, headers=creator3)
        assert filed.status_code == 201, filed.text
        cases.append(filed.json()["id"])
    matches = runtime.write(_seed_matches)
    tasks, submissions = _seed_tasks(runtime, (adv_a, adv_b))
    forum = _seed_community(runtime)
    torch = _seed_torch(client, operator)
    experiment = client.post("/v1/experiments", json=EXPERIMENT, headers=operator)
    assert experiment.status_code == 201, experiment.text
    notices = runtime.write(
        lambda s: [notify(s, c, "payout", "Paid", "", {}, f"matrix-{c}", now=NOW) for c in (1, 3)]
    )
    feed = client.post("/v1/creators/1/calendar-feed-token", headers=operator)
    assert feed.status_code == 201, feed.text
    programme = client.put("/v1/incentives/programs/matrix", json=PROGRAMME, headers=operator)
    assert programme.status_code == 200, programme.text
    live = _seed_live(runtime)
    token_for("ranker")  # a spare token, the newest yet, for the revocation row to revoke
    listed = client.get("/v1/tokens", params={"limit": 1000}, headers=operator).json()
    spare = max(t["id"] for t in listed["items"])
    accounts = client.get("/v1/ledger/accounts", headers=operator).json()
    prepaid = {a["owner_id"]: a["id"] for a in accounts if a["purpose"] == "prepaid"}
    ids = {
        "own": {
            "creator": 1,
            "work": 100,
            "advertiser": adv_a,
            "merchant": mer_a,
            "campaign": made["campaign"][0],
            "product": made["product"][0],
            "account": prepaid[adv_a],
            "other_account": prepaid[adv_b],
            "case": cases[0],
            "web_case": cases[1],
            "match": matches[0],
            "token": spare,
            "task": tasks[0],
            "submission": submissions[0],
            "institution": 1,
            "other_institution": 2,
            "notice": notices[0],
            "experiment": experiment.json()["id"],
        }
        | torch[0]
        | live
        | forum,
        "other": {
            "creator": 3,
            "work": 102,
            "advertiser": adv_b,
            "merchant": mer_b,
            "campaign": made["campaign"][1],
            "product": made["product"][1],
            "account": prepaid[adv_b],
            "other_account": prepaid[adv_a],
            "case": cases[0],
            "web_case": cases[1],
            "match": matches[1],
            "token": spare,
            "task": tasks[1],
            "submission": submissions[1],
            "institution": 2,
            "other_institution": 1,
            "notice": notices[1],
            "experiment": experiment.json()["id"],
        }
        | torch[1]
        | live
        | forum,
    }
    ids["missing"] = dict.fromkeys(ids["own"], MISSING) | {
        "other_account": prepaid[adv_a],
        "other_institution": 1,
    }
    ids["none"] = ids["own"]
    tokens = {
        "operator": token_for("operator"),
        "creator": token_for("creator", 1),
        "institution": token_for("institution", 1),
        "advertiser": token_for("advertiser", adv_a),
        "merchant": token_for("merchant", mer_a),
        "ranker": token_for("ranker"),
        "agent": token_for("agent", 1),
    }
    return World(ids, tokens, feed.json()["token"])


def _seed_matches(session: Session) -> list[int]:
    """A match of creator 1's work 100 against creator 3's work 102, and one that concerns
    only creator 3's works (102 against 108)."""
    made = []
    for copy, original in ((100, 102), (102, 108)):
        match = CopyMatch(
            copy_work_id=copy,
            original_work_id=original,
            original_creator_id=3,
            evidence="seeded",
            effective_at=NOW,
        )
        session.add(match)
        session.flush()
        made.append(match.id)
    return made


def _seed_live(runtime: Runtime) -> dict[str, int]:
    """A live session starting within the hour hosted by creator 1 with a question of creator
    3's, a session that is over, and a course with a lesson: the ids as ``live``,
    ``question``, ``past_live``, ``course`` and ``lesson``."""
    now = dt.datetime.now(dt.UTC)
    operator = Principal(user_id=0, role="operator", subject_id=None)
    creator3 = Principal(user_id=0, role="creator", subject_id=3)

    def seed(session: Any) -> dict[str, int]:
        made = {}
        for name, starts in (
            ("live", now + dt.timedelta(minutes=30)),
            ("past_live", now - dt.timedelta(days=1)),
        ):
            spec = community.LiveSessionSpec(
                topic=name,
                host_creator_id=1,
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=1),
                capacity=100,
            )
            made[name] = community.schedule_session(
                session, operator, spec, now=starts - dt.timedelta(days=2)
            ).id
        made["question"] = community.ask_question(
            session, creator3, made["live"], "How?", now=now
        ).id
        lesson = community.LessonSpec(title="Titles", minutes=5, addresses="play_rate")
        course = community.create_course(
            session,
            operator,
            community.CourseSpec("matrix", "Matrix", "novice", (lesson,)),
            now=now,
        )
        made["course"] = course.id
        made["lesson"] = course.lessons[0].id
        return made

    return runtime.write(seed)


def _seed_community(runtime: Runtime) -> dict[str, int]:
    """A board with a thread of creator 3's and its reply; creator 2 reports the reply and
    creator 4 the opening post: ``board``, ``thread``, ``post`` (the reply), ``report`` and
    ``web_report``."""
    operator = Principal(user_id=0, role="operator", subject_id=None)
    tiers = ("starter", "rising", "star", "elite")

    def open_forum(session: Any) -> dict[str, int]:
        spec = community.BoardSpec("matrix", "Matrix board")
        board = community.create_board(session, operator, spec, now=NOW).id
        writer = Principal(user_id=0, role="creator", subject_id=3)
        thread, opening = community.open_thread(
            session, writer, board, "饺子", "饺子 body", tier_order=tiers, now=NOW
        )
        post = community.add_post(
            session, writer, thread.id, "饺子 reply", tier_order=tiers, now=NOW
        )
        reports = [
            community.report_post(
                session, Principal(0, "creator", c), reported, "matrix", now=NOW
            ).id
            for c, reported in ((2, post.id), (4, opening.id))
        ]
        return {
            "board": board,
            "thread": thread.id,
            "post": post.id,
            "report": reports[0],
            "web_report": reports[1],
        }

    return runtime.write(open_forum)


def _seed_torch(client: TestClient, operator: dict[str, str]) -> list[dict[str, int]]:
    """Per institution (1, then 2): a Torch budget, two contracts proposed to its creator
    (1, then 3) and a nomination of that creator; the ids as ``contract``, ``offer`` and
    ``nomination``."""
    budgets = client.put(
        "/v1/torch/budgets",
        json=_budgets({"institution": 1, "other_institution": 2}, 0),
        headers=operator,
    )
    assert budgets.status_code == 200, budgets.text
    made = []
    for institution, creator in ((1, 1), (2, 3)):
        ids = {}
        for name, source in (("contract", "ads"), ("offer", "tasks")):
            proposal = {
                "creator_id": creator,
                "splits": {source: 2_000},
                "valid_from": _today().isoformat(),
            }
            url = f"/v1/institutions/{institution}/contracts"
            proposed = client.post(url, json=proposal, headers=operator)
            assert proposed.status_code == 201, proposed.text
            ids[name] = proposed.json()["id"]
        nomination = {"creator_id": creator, "starts_on": "2027-01-01"}
        url = f"/v1/institutions/{institution}/nominations"
        nominated = client.post(url, json=nomination, headers=operator)
        assert nominated.status_code == 201, nominated.text
        made.append(ids | {"nomination": nominated.json()["id"]})
    return made


def _seed_tasks(runtime: Runtime, advertisers: tuple[int, int]) -> tuple[list[int], list[int]]:
    """A task of each advertiser, posted by the operator two days ago (its priority window is
    over), each with a checked submission: creator 2's work 101 and creator 4's work 103."""
    now = dt.datetime.now(dt.UTC)
    operator = Principal(user_id=0, role="operator", subject_id=None)
    spec = TaskSpec(
        kind="shooting",
        title="Matrix",
        starts_at=now - dt.timedelta(days=60),  # the seed's works are from late November
        ends_at=now + dt.timedelta(days=5),
        slots=5,
        reward_fen=500,
    )

    def post(session: Any) -> tuple[list[int], list[int]]:
        tasks, submissions = [], []
        for advertiser, creator, work in zip(advertisers, (2, 4), (101, 103), strict=True):
            sponsor = ("advertiser", advertiser)
            task = create_task(
                session, operator, spec, sponsor=sponsor, now=now - dt.timedelta(days=2)
            )
            accept_task(session, operator, task.id, creator, holds_priority=lambda _: True, now=now)
            claim = submit_work(session, operator, task.id, creator, work, now=now)
            tasks.append(task.id)
            submissions.append(claim.id)
        checked = check_submissions(
            session,
            duplicates=frozenset(),
            plays=lambda w: dict.fromkeys(w, 1),
            today=now.date(),
            now=now,
        )
        assert checked["checked"] == 2, checked
        return tasks, submissions

    return runtime.write(post)


@pytest.fixture
def client(runtime: Runtime, seed_platform: SeedPlatform) -> Iterator[TestClient]:
    """The app with rate limits too generous to interfere with a few hundred requests."""
    generous = runtime.settings.model_copy(
        update={"rate_limit": "100000/second", "anonymous_rate_limit": "100000/second"}
    )
    with (
        Runtime(generous) as served,
        TestClient(create_app(served), raise_server_exceptions=False) as test_client,
    ):
        yield test_client


def _route_keys(client: TestClient) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, the framework's own pages excepted."""
    keys = set()
    for context in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        methods = getattr(context, "methods", None) or getattr(
            context.original_route, "methods", None
        )
        if not methods or context.path in (
            "/openapi.json",
            "/docs",
            "/docs/oauth2-redirect",
            "/redoc",
        ):
            continue
        keys |= {(str(m), str(context.path)) for m in methods if m != "HEAD"}
    return keys


def _matrix_key(entry: Row) -> tuple[str, str]:
    path = re.sub(r"^/v1/cycle/runs/\d{4}-\d{2}-\d{2}$", "/v1/cycle/runs/{date}", entry.path)
    for name in (
        "creator",
        "work",
        "advertiser",
        "merchant",
        "campaign",
        "product",
        "account",
        "case",
        "match",
        "token",
        "task",
        "submission",
        "institution",
        "contract",
        "notice",
        "nomination",
        "experiment",
        "question",
        "course",
        "lesson",
        "board",
        "thread",
        "post",
        "report",
    ):
        path = path.replace("{" + name + "}", "{" + name + "_id}")
    path = path.replace("{offer}", "{contract_id}")
    path = path.replace("{live}", "{session_id}").replace("{past_live}", "{session_id}")
    path = path.replace("{web_report}", "{report_id}")
    path = path.replace("{web_case}", "{case_id}").replace("/2026-11", "/{month}")
    path = path.replace("/programs/matrix", "/programs/{name}")
    for kind in ("profile_ads",):
        path = path.replace("/" + kind, "/{kind}")
    return entry.method, path


def test_every_route_has_a_row(client: TestClient) -> None:
    listed = {_matrix_key(entry) for entry in MATRIX}
    missing = sorted(_route_keys(client) - listed)
    assert not missing, f"routes without a row in MATRIX: {missing}"


def _call(
    client: TestClient, entry: Row, ids: dict[str, int], token: str | None, n: int, feed: str
) -> int:
    path = entry.path.format(**ids)
    headers = (
        {"Authorization": f"Bearer {token}"}
        if token and not path.startswith(("/dashboard", "/login", "/logout", "/"))
        else {}
    )
    client.cookies.clear()
    if token and "Authorization" not in headers:
        client.cookies.set(SESSION_COOKIE, token)
    params = {k: v.format(feed_token=feed, **ids) for k, v in entry.query.items()}
    kwargs: dict[str, Any] = {"headers": headers, "params": params, "follow_redirects": False}
    if entry.json:
        kwargs["json"] = entry.json(ids, n)
    if entry.form:
        kwargs["data"] = entry.form(ids, n)
    if entry.files:
        kwargs["files"] = {"cover": ("cover.png", encode(picture(5_000 + n)), "image/png")}
    if entry.upload:
        kwargs["files"] = {entry.upload[0]: ("upload", entry.upload[1])}
    return client.request(entry.method, path, **kwargs).status_code


def test_access_matrix(
    cycled_platform: SeedPlatform,
    runtime: Runtime,
    client: TestClient,
    token_for: Callable[..., str],
) -> None:
    world = _seed(runtime, client, token_for)
    counter = itertools.count()
    wrong: list[str] = []
    for entry in MATRIX:
        for scope, statuses in entry.cells.items():
            expected = dict(zip(ROLES, map(int, statuses.split()), strict=True))
            expected["anonymous"] = entry.anonymous
            for role, status in expected.items():
                token = world.tokens.get(role)
                got = _call(client, entry, world.ids[scope], token, next(counter), world.feed_token)
                if got != status:
                    wrong.append(
                        f"{entry.method} {entry.path} {scope} as {role}: {got}, expected {status}"
                    )
    assert not wrong, "\n".join(wrong)
