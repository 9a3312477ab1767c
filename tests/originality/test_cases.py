"""Claims, disputes and reviews: who may file and resolve them, and the decision log."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from guanghe import originality
from guanghe.runtime import Runtime
from tests.originality.conftest import Publish
from tests.originality.pictures import edits, picture


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_claim_upheld_makes_the_work_a_duplicate_and_keeps_every_decision(
    publish: Publish, client: TestClient, token_for: Callable[..., str], runtime: Runtime
) -> None:
    mine = publish(1, picture(60)).json()["id"]
    theirs = publish(2, picture(61)).json()["id"]  # not detected: a different picture
    claimant, operator = auth(token_for("creator", 1)), auth(token_for("operator"))
    claim = {"work_id": theirs, "original_work_id": mine, "statement": "shot by me in 2024"}

    # only creators file claims, and only with their own work as the original
    assert client.post("/v1/originality/claims", json=claim, headers=operator).status_code == 403
    wrong_owner = claim | {"original_work_id": theirs}
    assert (
        client.post(
            "/v1/originality/claims", json=wrong_owner, headers=auth(token_for("creator", 3))
        ).status_code
        == 403
    )
    filed = client.post("/v1/originality/claims", json=claim, headers=claimant)
    assert filed.status_code == 201, filed.text
    case = filed.json()
    assert (case["kind"], case["status"], case["work_creator_id"]) == ("claim", "open", 2)
    assert client.post("/v1/originality/claims", json=claim, headers=claimant).status_code == 409

    # the accused creator sees the case, an unrelated creator does not
    assert [
        c["id"]
        for c in client.get("/v1/originality/cases", headers=auth(token_for("creator", 2))).json()
    ] == [case["id"]]
    assert client.get("/v1/originality/cases", headers=auth(token_for("creator", 4))).json() == []

    resolution = {"resolution": "uphold", "note": "raw footage provided"}
    url = f"/v1/originality/cases/{case['id']}/resolution"
    assert client.post(url, json=resolution, headers=claimant).status_code == 403
    resolved = client.post(url, json=resolution, headers=operator)
    assert resolved.json()["status"] == "upheld"
    assert client.post(url, json=resolution, headers=operator).status_code == 409

    attribution = client.get(f"/v1/originality/works/{theirs}", headers=operator).json()
    assert (attribution["verdict"], attribution["original_work_id"]) == ("duplicate", mine)
    assert [d["verdict"] for d in attribution["decisions"]] == ["original", "duplicate"]
    assert attribution["decisions"][1]["case_id"] == case["id"]
    assert attribution["decisions"][1]["note"] == "raw footage provided"
    with runtime.sessions() as session:
        assert theirs in originality.duplicate_work_ids(session)
    # both creators are told, in the decision's transaction
    for creator in (1, 2):
        inbox = client.get(
            f"/v1/creators/{creator}/inbox", headers=auth(token_for("creator", creator))
        ).json()["items"]
        decisions = [n for n in inbox if "case_id" in n["data"]]
        assert [(n["kind"], n["data"]["case_id"], n["data"]["status"]) for n in decisions] == [
            ("originality_decision", case["id"], "upheld")
        ]
        # and of the copy match the decision opened: the author as original, the copier as
        # uploader (with the dispute path)
        opened = [n for n in inbox if "match_id" in n["data"]]
        assert [(n["data"]["role"], n["data"]["copy_work_id"]) for n in opened] == [
            ("original" if creator == 1 else "uploader", theirs)
        ]

    # the copier disputes; the operator agrees it is original after all
    dispute = client.post(
        "/v1/originality/disputes",
        json={"work_id": theirs, "statement": "I licensed it"},
        headers=auth(token_for("creator", 2)),
    )
    assert dispute.status_code == 201, dispute.text
    client.post(
        f"/v1/originality/cases/{dispute.json()['id']}/resolution",
        json={"resolution": "uphold"},
        headers=operator,
    )
    final = client.get(f"/v1/originality/works/{theirs}", headers=operator).json()
    assert final["verdict"] == "original"
    assert [d["verdict"] for d in final["decisions"]] == ["original", "duplicate", "original"]
    with runtime.sessions() as session:
        assert theirs not in originality.duplicate_work_ids(session)


def test_disputes_only_by_the_owner_of_a_copy(
    publish: Publish, client: TestClient, token_for: Callable[..., str]
) -> None:
    original = publish(1, picture(62)).json()["id"]
    copy = publish(2, edits(picture(62))["jpeg"]).json()["id"]
    body = {"work_id": copy, "statement": "mine"}
    assert (
        client.post(
            "/v1/originality/disputes", json=body, headers=auth(token_for("creator", 1))
        ).status_code
        == 403
    )
    not_a_copy = {"work_id": original, "statement": "mine"}
    assert (
        client.post(
            "/v1/originality/disputes", json=not_a_copy, headers=auth(token_for("creator", 1))
        ).status_code
        == 422
    )
    rejected = client.post(
        "/v1/originality/disputes", json=body, headers=auth(token_for("creator", 2))
    ).json()
    operator = auth(token_for("operator"))
    client.post(
        f"/v1/originality/cases/{rejected['id']}/resolution",
        json={"resolution": "reject"},
        headers=operator,
    )
    after = client.get(f"/v1/originality/works/{copy}", headers=operator).json()
    assert (after["verdict"], after["original_work_id"]) == ("duplicate", original)
    assert (
        client.get(
            f"/v1/originality/works/{copy}", headers=auth(token_for("creator", 4))
        ).status_code
        == 403
    )


def test_review_of_a_suspect_resolves_to_duplicate(
    publish: Publish, client: TestClient, token_for: Callable[..., str], runtime: Runtime
) -> None:
    first = publish(1, picture(63)).json()
    (runtime.settings.covers_dir / first["cover_path"]).unlink()
    suspect = publish(2, picture(63), title="Other words", hashtags="#x").json()
    operator = auth(token_for("operator"))
    (case,) = client.get(
        "/v1/originality/cases", params={"kind": "review"}, headers=operator
    ).json()
    client.post(
        f"/v1/originality/cases/{case['id']}/resolution",
        json={"resolution": "uphold"},
        headers=operator,
    )
    after = client.get(f"/v1/originality/works/{suspect['id']}", headers=operator).json()
    assert (after["verdict"], after["original_work_id"]) == ("duplicate", first["id"])


def test_ruling_a_work_a_copy_re_roots_the_copies_of_it(
    publish: Publish, client: TestClient, token_for: Callable[..., str]
) -> None:
    first = publish(1, picture(70)).json()["id"]
    middle = publish(2, picture(71)).json()["id"]  # a copy the check could not see
    copy = publish(3, edits(picture(71))["jpeg"]).json()
    own = publish(1, edits(picture(71))["cropped"]).json()  # creator 1 re-posts via the copy
    assert (copy["originality"]["verdict"], copy["originality"]["original_work_id"]) == (
        "duplicate",
        middle,
    )
    assert own["originality"]["original_work_id"] == middle
    claim = {"work_id": middle, "original_work_id": first, "statement": "my footage"}
    case = client.post(
        "/v1/originality/claims", json=claim, headers=auth(token_for("creator", 1))
    ).json()
    operator = auth(token_for("operator"))
    resolved = client.post(
        f"/v1/originality/cases/{case['id']}/resolution",
        json={"resolution": "uphold"},
        headers=operator,
    )
    assert resolved.status_code == 200, resolved.text

    def attribution(work_id: int) -> tuple[str, int | None, int | None]:
        body = client.get(f"/v1/originality/works/{work_id}", headers=operator).json()
        return body["verdict"], body["original_work_id"], body["original_creator_id"]

    assert attribution(middle) == ("duplicate", first, 1)
    assert attribution(copy["id"]) == ("duplicate", first, 1)
    assert attribution(own["id"]) == ("original", None, None)
    log = client.get(f"/v1/originality/works/{copy['id']}", headers=operator).json()
    assert log["decisions"][-1]["case_id"] == case["id"]
    assert "re-rooted" in log["decisions"][-1]["note"]
