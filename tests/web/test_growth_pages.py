"""The growth tier on the dashboard: the creator's tier, rights (coming ones marked) and path
to the next tier; the operators' creators per tier."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from guanghe import creators
from guanghe.access import Principal
from guanghe.app import create_app
from guanghe.errors import Forbidden
from guanghe.runtime import Runtime
from tests.seed import SeedPlatform
from tests.web.growth_sample import write_growth_snapshot
from tests.web.test_pages import sign_in

AS_OF = dt.date(2026, 11, 28)


@pytest.fixture
def client(runtime: Runtime, seed_platform: SeedPlatform) -> Iterator[TestClient]:
    with TestClient(
        create_app(runtime), raise_server_exceptions=False, follow_redirects=False
    ) as test_client:
        yield test_client


@pytest.fixture
def assessed(runtime: Runtime) -> None:
    write_growth_snapshot(
        runtime.settings.data_dir,
        AS_OF,
        {
            1: ("starter", "novice", 20.0, 900, 1, 1, 0),
            2: ("starter", "novice", 35.5, 4_000, 2, 2, 1),
            3: ("rising", "mature", 48.25, 150_000, 9, 3, 2),
            4: ("star", "growing", 80.0, 640_000, 20, 12, 3),
            5: ("elite", "mature", 91.0, 2_500_000, 30, 20, 6),
            6: ("rising", "growing", 44.0, 12_000, 5, 4, 1),
        },
    )


def section(html: str, section_id: str) -> str:
    found = re.search(rf'<section class="card" id="{section_id}">(.*?)</section>', html, re.S)
    assert found is not None, f"no #{section_id} section"
    return found.group(1)


def requirement(html: str, name: str) -> tuple[str, str, str]:
    found = re.search(
        rf'data-requirement="{name}" data-met="(\w+)">\s*<td>.*?</td>\s*'
        r'<td class="num">(.*?)</td>\s*<td class="num">(.*?)</td>',
        html,
        re.S,
    )
    assert found is not None, f"no requirement {name}"
    met, current, required = found.groups()
    return met, current, required


@pytest.mark.usefixtures("assessed")
def test_creator_sees_tier_rights_and_the_path_to_the_next_tier(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    sign_in(client, token_for("creator", 3))
    growth = section(client.get("/dashboard").text, "growth")
    assert re.search(r'id="growth-tier">Rising<', growth)
    rights = dict(re.findall(r'data-right="(\w+)" data-status="(\w+)"', growth))
    # Rising holds the starter rights and its own; pre-diagnosis by its own rule (>= 100,000).
    assert rights == {
        "teaching_resources": "active",
        "pre_diagnosis": "active",
        "creator_community": "coming",
        "priority_tasks": "active",
    }
    assert re.search(r'data-status="coming"><strong>Creator community</strong> <span', growth)
    assert re.search(r'id="next-tier">Star<', growth)
    assert requirement(growth, "min_followers") == ("yes", "150,000", "100,000")
    assert requirement(growth, "min_quality") == ("no", "48.2", "55")
    assert requirement(growth, "min_active_days_28d") == ("no", "3", "6")
    assert "Days with a work in 28 days" in growth
    assert 'id="next-tier-rights">Unlocks: Pre-publication diagnosis.' in growth


@pytest.mark.usefixtures("assessed")
def test_the_highest_tier_has_no_next_tier(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    sign_in(client, token_for("creator", 5))
    growth = section(client.get("/dashboard").text, "growth")
    assert re.search(r'id="growth-tier">Elite<', growth)
    assert "You hold the highest tier." in growth
    assert 'data-right="exclusive_support" data-status="coming"' in growth


def test_before_any_assessment_the_creator_is_told_when_the_tier_appears(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    sign_in(client, token_for("creator", 3))
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert 'id="growth-pending"' in section(response.text, "growth")


@pytest.mark.usefixtures("assessed")
def test_operator_sees_how_many_creators_hold_each_tier(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    sign_in(client, token_for("operator"))
    tiers = section(client.get("/dashboard").text, "tiers")
    counts = re.findall(r'data-tier="(\w+)"><td>\w+</td><td class="num">(\d+)</td>', tiers)
    assert counts == [("starter", "2"), ("rising", "2"), ("star", "1"), ("elite", "1")]
    assert AS_OF.isoformat() in tiers
    sign_in(client, token_for("institution", 2))
    assert 'id="tiers"' not in client.get("/dashboard").text


def test_operator_before_any_assessment_sees_every_tier_empty(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    sign_in(client, token_for("operator"))
    tiers = section(client.get("/dashboard").text, "tiers")
    assert "guanghe cycle --date D" in tiers


def test_only_operators_count_creators_by_tier(runtime: Runtime) -> None:
    rules = creators.load_rules(creators.rules_path(runtime.settings.data_dir))
    snapshots = runtime.settings.data_dir / "snapshots"
    empty = creators.tier_counts(Principal(1, "operator", None), snapshots=snapshots, rules=rules)
    assert empty.as_of is None
    assert [(t.tier, t.creators) for t in empty.tiers] == [
        ("starter", 0),
        ("rising", 0),
        ("star", 0),
        ("elite", 0),
    ]
    with pytest.raises(Forbidden):
        creators.tier_counts(Principal(1, "creator", 3), snapshots=snapshots, rules=rules)
