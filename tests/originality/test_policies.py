"""What happens to a copy: the original author's policy (track, block, monetize), a
monetized copy's earnings moved to the author in the ledger and moved back when a dispute is
won, the match shown to the uploader with why, and the decisions kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient

from guanghe import originality
from guanghe.analytics import ecosystem_report, parse_period
from guanghe.ledger import find_account, reconcile
from guanghe.ledger.settlement import earnings
from guanghe.pipelines.copy_earnings_step import settle_copy_earnings
from guanghe.pipelines.settlement_step import settle_day
from guanghe.runtime import Runtime
from tests.originality.conftest import Publish
from tests.originality.pictures import edits, picture
from tests.pipelines.conftest import events, funded_campaign


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def balance(runtime: Runtime, creator_id: int) -> int:
    with runtime.sessions() as session:
        account = find_account(session, earnings("creator", creator_id))
        return account.balance if account else 0


def report_lines(runtime: Runtime, start: dt.date, end: dt.date) -> tuple[int, int, int]:
    """The ecosystem report's matches, monetized matches and money redirected (net)."""
    with runtime.sessions() as session:
        report = ecosystem_report(session, runtime.event_log, parse_period(start, end))
    values = {m.key: m.current.value for m in report.metrics}
    return (
        int(values["copy_matches"] or 0),
        int(values["copies_monetized"] or 0),
        int(values["copy_earnings_redirected_fen"] or 0),
    )


def copy_of(publish: Publish, seed: int) -> tuple[int, int]:
    """Creator 1's original and creator 2's copy of it (a 5 % crop)."""
    original = publish(1, picture(seed)).json()["id"]
    copy = publish(2, edits(picture(seed))["cropped"], title="my noodles").json()
    assert copy["originality"]["verdict"] == "duplicate", copy
    return original, copy["id"]


def test_policies_are_the_authors_own_and_block_is_the_default(
    publish: Publish, client: TestClient, token_for: Callable[..., str], runtime: Runtime
) -> None:
    original, copy = copy_of(publish, 80)
    author, uploader = auth(token_for("creator", 1)), auth(token_for("creator", 2))
    with runtime.sessions() as session:
        assert originality.blocked_work_ids(session) == {copy}
    # only the author sets policies, only on their own works
    body = {"policy": "track", "work_id": original}
    assert client.post("/v1/originality/policies", json=body, headers=uploader).status_code == 403
    operator = auth(token_for("operator"))
    assert client.post("/v1/originality/policies", json=body, headers=operator).status_code == 403
    missing = {"policy": "track", "work_id": 987_654}
    assert client.post("/v1/originality/policies", json=missing, headers=author).status_code == 404
    bad = {"policy": "delete"}
    assert client.post("/v1/originality/policies", json=bad, headers=author).status_code == 422

    chosen = client.post("/v1/originality/policies", json=body, headers=author)
    assert chosen.status_code == 201, chosen.text
    with runtime.sessions() as session:
        assert originality.blocked_work_ids(session) == frozenset()  # tracked: it takes part
    # an all-works choice does not override the work's own choice
    client.post("/v1/originality/policies", json={"policy": "monetize"}, headers=author)
    policies = client.get("/v1/originality/policies/1", headers=author).json()
    assert policies["all_works"] == "monetize"
    works = {w["work_id"]: (w["policy"], w["chosen_for_work"]) for w in policies["works"]}
    assert works.pop(original) == ("track", True)
    assert set(works.values()) == {("monetize", False)}  # the seed's other works
    assert [c["policy"] for c in policies["choices"]] == ["monetize", "track"]  # all kept
    assert client.get("/v1/originality/policies/1", headers=uploader).status_code == 403
    assert client.get("/v1/originality/policies/987654", headers=operator).status_code == 404

    client.post(
        "/v1/originality/policies", json={"policy": "block", "work_id": original}, headers=author
    )
    with runtime.sessions() as session:
        assert originality.blocked_work_ids(session) == {copy}


def test_monetize_moves_the_copys_earnings_and_a_won_dispute_moves_them_back(
    publish: Publish, client: TestClient, token_for: Callable[..., str], runtime: Runtime
) -> None:
    original, copy = copy_of(publish, 81)
    author, uploader = auth(token_for("creator", 1)), auth(token_for("creator", 2))
    operator = auth(token_for("operator"))
    match = client.get("/v1/originality/matches", headers=uploader).json()
    assert [m["copy_work_id"] for m in match] == [copy]
    effective = dt.datetime.fromisoformat(match[0]["effective_at"])
    client.post(
        "/v1/originality/policies",
        json={"policy": "monetize", "work_id": original},
        headers=author,
    )

    campaign = funded_campaign(runtime, budget_fen=100_000)
    day = (effective + dt.timedelta(days=1)).date()
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    before = effective - dt.timedelta(days=1)
    ad = {"type": "ad_impression", "creator_id": 2, "count": 10, "campaign_id": campaign}
    runtime.event_log.append(
        events(
            [
                # earned before the match: stays with the uploader
                ad | {"event_id": "early", "ts": before, "work_id": copy, "amount_fen": 400},
                # the copy's ad revenue after the match: 50 % share to the uploader, redirected
                ad | {"event_id": "c1", "ts": noon, "work_id": copy, "amount_fen": 1_000},
                ad | {"event_id": "c2", "ts": noon, "work_id": copy, "amount_fen": 600},
                # the uploader's profile income not traced to the copy: stays
                ad | {"event_id": "p1", "ts": noon, "amount_fen": 200},
            ]
        )
    )
    settle_day(runtime, before.date())
    settle_day(runtime, day)
    assert (balance(runtime, 1), balance(runtime, 2)) == (0, 200 + 500 + 300 + 100)

    report = settle_copy_earnings(runtime, now=noon + dt.timedelta(hours=10))
    assert report.problems == ()
    assert report.counts["redirects_posted"] == 2
    assert (balance(runtime, 1), balance(runtime, 2)) == (800, 300)
    again = settle_copy_earnings(runtime, now=noon + dt.timedelta(hours=11))
    assert again.counts["redirects_posted"] == 0  # idempotent
    assert (balance(runtime, 1), balance(runtime, 2)) == (800, 300)

    # the uploader sees which work of whom, why, and the money moved
    seen = client.get(f"/v1/originality/matches/{match[0]['id']}", headers=uploader).json()
    assert (seen["original_work_id"], seen["original_creator_id"]) == (original, 1)
    assert (seen["policy"], seen["redirected_fen"]) == ("monetize", 800)
    assert "checked at publication" in seen["why"]
    assert (
        client.get(
            f"/v1/originality/matches/{match[0]['id']}", headers=auth(token_for("creator", 3))
        ).status_code
        == 403
    )
    with runtime.sessions() as session:
        assert reconcile(session) == []
        assert originality.blocked_work_ids(session) == frozenset()  # monetized: it stays
    assert report_lines(runtime, before.date(), day) == (1, 1, 800)

    # the uploader disputes and wins: the money goes back in the decision's transaction
    dispute = client.post(
        "/v1/originality/disputes",
        json={"work_id": copy, "statement": "licensed from the author, contract attached"},
        headers=uploader,
    ).json()
    decided = client.post(
        f"/v1/originality/cases/{dispute['id']}/resolution",
        json={"resolution": "uphold", "note": "licence verified"},
        headers=operator,
    )
    assert decided.status_code == 200, decided.text
    assert (balance(runtime, 1), balance(runtime, 2)) == (0, 1_100)
    seen = client.get(f"/v1/originality/matches/{match[0]['id']}", headers=uploader).json()
    assert (seen["in_force"], seen["returned_fen"], seen["dispute_status"]) == (
        False,
        800,
        "upheld",
    )
    # nothing more is redirected or returned under the ended match
    later = settle_copy_earnings(runtime, now=noon + dt.timedelta(days=1))
    assert (later.counts["redirects_posted"], later.counts["returns_posted"]) == (0, 0)
    assert report_lines(runtime, before.date(), day) == (1, 1, 0)  # counted, net of returns
    attribution = client.get(f"/v1/originality/works/{copy}", headers=uploader).json()
    assert [d["verdict"] for d in attribution["decisions"]] == ["duplicate", "original"]
    with runtime.sessions() as session:
        assert reconcile(session) == []
