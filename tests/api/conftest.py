"""API fixtures: an app client over the seed platform with a funded advertiser and a merchant,
a token per role, and a count of every table's rows (to prove a refused request wrote
nothing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from guanghe.app import create_app
from guanghe.monetize import deposit, register_party
from guanghe.runtime import Runtime
from guanghe.store import Base, transaction
from tests.seed import SeedPlatform

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Parties:
    """A funded advertiser and a merchant, and a bearer token per role."""

    advertiser: int
    merchant: int
    tokens: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def client(runtime: Runtime, seed_platform: SeedPlatform) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def parties(
    runtime: Runtime, seed_platform: SeedPlatform, token_for: Callable[..., str]
) -> Parties:
    def register(session: sa.orm.Session) -> tuple[int, int]:
        advertiser = register_party(session, "advertiser", "Acme Noodles", now=NOW).id
        merchant = register_party(session, "merchant", "Kitchen Shop", now=NOW).id
        deposit(session, advertiser, key="initial", amount_fen=1_000_000, now=NOW)
        return advertiser, merchant

    advertiser, merchant = runtime.write(register)
    tokens = {
        "operator": token_for("operator"),
        "ranker": token_for("ranker"),
        "advertiser": token_for("advertiser", advertiser),
        "merchant": token_for("merchant", merchant),
        **{f"creator{c}": token_for("creator", c) for c in seed_platform.creator_ids},
    }
    return Parties(advertiser, merchant, tokens)


def row_counts(runtime: Runtime) -> dict[str, int]:
    """The number of rows in every table of the store."""
    with transaction(runtime.sessions) as session:
        return {
            table.name: int(
                session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            )
            for table in Base.metadata.sorted_tables
        }


def assert_problem(response: object, status: int, code: str) -> dict[str, object]:
    """The problem+json body of ``response``, after checking its status and type."""
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["type"] == f"urn:guanghe:problem:{code}"
    assert body["status"] == status
    assert body["detail"]
    return body
