"""Schemathesis over the live OpenAPI of a served instance (issue 16, "make it stay fixed").

Every operation is called with generated input, once per role's token, against a platform with
creators, works, a funded advertiser with a campaign, a merchant with a product and a traffic
plan (so the boost path has data). No response may be a 5xx, and every response must conform to
the schema: a documented status, the documented content type, a body of the documented shape.
Server-Sent Events streams (``.../events``) are left out: they stay open by design.

In the normal suite the run is bounded and repeatable (``GUANGHE_FUZZ_EXAMPLES`` examples per
operation, 10 by default, derandomized); ``make fuzz`` explores longer with a random seed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.transport.requests import SameHostRedirectsSession

from guanghe.app import create_app
from guanghe.runtime import Runtime
from tests.api.conftest import Parties
from tests.api.test_input_edges import CAMPAIGN, PRODUCT
from tests.live import serve
from tests.traffic.test_serving import write_plan

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("GUANGHE_FUZZ_EXAMPLES", "10"))
ROLES = ["operator", "creator", "institution", "advertiser", "merchant", "ranker"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def role_headers(parties: Parties, token_for: Callable[..., str]) -> dict[str, dict[str, str]]:
    """A bearer token per role: creator 1, institution 1, the funded advertiser..."""
    tokens = parties.tokens | {
        "creator": parties.tokens["creator1"],
        "institution": token_for("institution", 1),
    }
    return {role: {"Authorization": f"Bearer {tokens[role]}"} for role in ROLES}


@pytest.fixture
def live_url(runtime: Runtime, parties: Parties) -> Iterator[str]:
    """The app served over HTTP, with rate limits too generous to interfere, on a platform
    with a campaign, a product and a traffic plan."""
    generous = runtime.settings.model_copy(
        update={"rate_limit": "100000/second", "anonymous_rate_limit": "100000/second"}
    )
    write_plan(runtime, {1: 500, 2: 300, 5: 200})
    with Runtime(generous) as served, serve(create_app(served)) as url:
        for who, path, body in (
            ("advertiser", "/v1/campaigns", CAMPAIGN),
            ("merchant", "/v1/products", PRODUCT),
        ):
            created = httpx.post(url + path, json=body, headers=parties.headers(who))
            assert created.status_code == 201, created.text
        yield url


def _explore(
    operation: Any,
    mode: GenerationMode,
    roles: dict[str, dict[str, str]],
    session: SameHostRedirectsSession,
) -> None:
    """Call ``operation`` with generated input of ``mode`` as every role over ``session``,
    checking each response; Hypothesis shrinks a failure to its smallest example."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def explore(case: Any) -> None:
        for role, headers in roles.items():
            try:
                case.call_and_validate(session=session, headers=headers, checks=CHECKS)
            except (Exception, FailureGroup) as failure:
                failure.add_note(f"as the {role} token")
                raise

    explore()


def test_every_operation_answers_as_documented(
    live_url: str, role_headers: dict[str, dict[str, str]]
) -> None:
    # The app builds its OpenAPI document on the first request: seconds on a busy machine,
    # past the loader's default 10-second read timeout.
    schema = schemathesis.openapi.from_url(f"{live_url}/openapi.json", timeout=120)
    # One keep-alive session for every call (Schemathesis opens a session, and so a connection,
    # per call without one), not reading proxy settings from the environment: requests scans
    # os.environ twice per request for them, about a tenth of this test's CPU.
    session = SameHostRedirectsSession()
    session.trust_env = False
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"an operation the schema cannot describe: {result.err()}")
            continue
        operation = result.ok()
        if operation.path.endswith("/events"):
            continue  # a Server-Sent Events stream stays open: tests/community/test_live_stream.py
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _explore(operation, mode, role_headers, session)
            except Unsatisfiable:  # no input to make invalid (GET /healthz)
                assert mode is GenerationMode.NEGATIVE
            except (Exception, FailureGroup) as failure:
                notes = " ".join(getattr(failure, "__notes__", []))
                failures.append(f"{operation.label} ({mode.value}) {notes}: {failure}")
    session.close()
    assert operations >= 40
    assert not failures, "\n\n".join(failures)
