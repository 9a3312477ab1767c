"""``POST /v1/diagnosis``: the growth-right gate, the checks, bad images, and the model the
cycle retrains."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import numpy as np
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageFilter

from guanghe.app import create_app
from guanghe.diagnosis import PerformanceModel, check_cover, load_model
from guanghe.diagnosis.model import WorkFeatures
from guanghe.events import EVENT_SCHEMA
from guanghe.pipelines import CycleContext, diagnosis_step
from guanghe.runtime import Runtime
from guanghe.store import CreatorTierHistory, Work, transaction
from tests.originality.pictures import edits, encode, picture
from tests.seed import SeedPlatform

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)


@pytest.fixture
def client(runtime: Runtime, seed_platform: SeedPlatform) -> Iterator[TestClient]:
    with transaction(runtime.sessions) as session:  # creator 3 reached the 'star' tier
        session.add(
            CreatorTierHistory(
                creator_id=3, since=dt.date(2026, 11, 1), tier="star", stage="mature", quality=80.0
            )
        )
        session.add(
            CreatorTierHistory(
                creator_id=2,
                since=dt.date(2026, 11, 1),
                tier="rising",
                stage="growing",
                quality=50.0,
            )
        )
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


def diagnose(client: TestClient, token: str, creator_id: int, cover: bytes, **form: str) -> object:
    data = {"creator_id": str(creator_id), "title": "Hotpot for one", "hashtags": "#food"} | form
    return client.post(
        "/v1/diagnosis",
        data=data,
        files={"cover": ("c.png", cover, "image/png")},
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.mark.parametrize("creator_id", [1, 4])
def test_creators_without_the_right_get_403_naming_every_unmet_requirement(
    client: TestClient, token_for: Callable[..., str], creator_id: int
) -> None:
    response = diagnose(client, token_for("creator", creator_id), creator_id, encode(picture(1)))
    assert response.status_code == 403  # type: ignore[attr-defined]
    detail = response.json()["detail"]  # type: ignore[attr-defined]
    tier, _, rule = detail.partition(" or its own rule ")
    assert "'star' tier" in tier
    for unmet in (
        "at least 100,000 followers, has ",
        "a quality score of at least 55",
        "publishing on at least 6 of the last 28 days",
    ):
        assert unmet in tier
    assert "at least 100,000 followers, has " in rule
    assert "'starter' tier" in rule


def test_a_creator_with_100_000_followers_has_pre_diagnosis_by_its_own_rule(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    response = diagnose(client, token_for("creator", 2), 2, encode(picture(1)))  # 'rising' tier
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]


def test_entitled_creator_gets_checks_and_suggestions(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    dark_blurry = picture(2, (200, 300)).filter(ImageFilter.GaussianBlur(6)).point(lambda v: v // 5)
    response = diagnose(
        client, token_for("creator", 3), 3, encode(dark_blurry), title="hi", hashtags=""
    )
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    codes = {f["code"] for f in body["findings"]}
    assert {
        "cover-low-resolution",
        "cover-too-dark",
        "cover-blurry",
        "title-too-short",
        "hashtags-too-few",
    } <= codes
    assert body["duplicate_risk"]["verdict"] == "original"
    assert body["prediction"] is None
    assert "cycle" in body["prediction_unavailable"]
    assert len(body["suggestions"]) >= 5


def test_duplicate_risk_is_reported_and_nothing_is_stored(
    client: TestClient, token_for: Callable[..., str], runtime: Runtime
) -> None:
    published = client.post(
        "/v1/works",
        data={"creator_id": "1", "title": "Original dumplings"},
        files={"cover": ("c.png", encode(picture(3)), "image/png")},
        headers={"Authorization": f"Bearer {token_for('creator', 1)}"},
    ).json()
    with runtime.sessions() as session:
        before = session.query(Work).count()
    body = diagnose(
        client, token_for("creator", 3), 3, encode(edits(picture(3))["overlaid"])
    ).json()  # type: ignore[attr-defined]
    assert body["duplicate_risk"]["verdict"] == "duplicate"
    assert body["duplicate_risk"]["original_work_id"] == published["id"]
    assert "copy of work" in body["suggestions"][0]
    with runtime.sessions() as session:
        assert session.query(Work).count() == before


def test_operators_diagnose_for_entitled_creators_only(
    client: TestClient, token_for: Callable[..., str]
) -> None:
    operator = token_for("operator")
    assert diagnose(client, operator, 3, encode(picture(4))).status_code == 200  # type: ignore[attr-defined]
    assert diagnose(client, operator, 1, encode(picture(4))).status_code == 403  # type: ignore[attr-defined]
    assert (
        diagnose(
            client,
            token_for("creator", 1),
            3,  # type: ignore[attr-defined]
            encode(picture(4)),
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("cover", "status"),
    [
        (b"plain text", 422),
        (encode(picture(5))[:300], 422),
        (encode(Image.new("RGB", (7_000, 7_000))), 413),
    ],
    ids=["text", "truncated", "7000x7000"],
)
def test_bad_images_are_refused(
    client: TestClient, token_for: Callable[..., str], cover: bytes, status: int
) -> None:
    response = diagnose(client, token_for("creator", 3), 3, cover)
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    assert "cover" in response.json()["detail"]  # type: ignore[attr-defined]


def _history(runtime: Runtime, works: int) -> None:
    """``works`` works by creators 1-6 over 30 days; plays grow with followers and duration."""
    rng = np.random.default_rng(0)
    followers = {1: 1_200, 2: 250_000, 3: 2_400_000, 4: 90, 5: 45_000, 6: 600_000}
    vertical = {1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3}
    rows = []
    with transaction(runtime.sessions) as session:
        for n in range(works):
            creator = n % 6 + 1
            at = NOW - dt.timedelta(days=int(rng.integers(4, 30)), hours=int(rng.integers(0, 24)))
            work = Work(
                id=1_000 + n,
                creator_id=creator,
                published_at=at,
                title=f"history {n}",
                vertical_id=vertical[creator],
                duration_s=int(rng.integers(10, 120)),
            )
            session.add(work)
            session.flush()
            plays = int(
                np.sqrt(followers[creator]) * (1 + work.duration_s / 60) * rng.uniform(0.5, 1.5)
            )
            rows.append(
                {
                    "event_id": f"p{n}",
                    "type": "play",
                    "ts": at + dt.timedelta(hours=5),
                    "creator_id": creator,
                    "work_id": work.id,
                    "count": plays,
                }
            )
    table = pa.Table.from_pylist(rows).cast(pa.schema([EVENT_SCHEMA.field(c) for c in rows[0]]))
    for name in EVENT_SCHEMA.names:
        if name not in table.column_names:
            table = table.append_column(
                EVENT_SCHEMA.field(name), pa.nulls(table.num_rows, EVENT_SCHEMA.field(name).type)
            )
    runtime.event_log.append(table)


def test_cycle_step_retrains_the_model_used_for_predictions(
    client: TestClient, token_for: Callable[..., str], runtime: Runtime
) -> None:
    _history(runtime, 240)
    diagnosis_step.run(CycleContext.for_date(runtime, NOW.date()))
    model = load_model(runtime.settings.data_dir)
    assert model.trained_on == NOW.date()
    assert model.works >= 200
    body = diagnose(client, token_for("creator", 3), 3, encode(picture(6))).json()  # type: ignore[attr-defined]
    assert body["prediction"] is not None
    assert 0 <= body["prediction"]["percentile"] <= 100
    # a big creator is predicted above a tiny one in the same vertical
    big = model.predict(_features(model, 3, 2_400_000))
    small = model.predict(_features(model, 4, 90))
    assert big[1] > small[1]


def _features(model: PerformanceModel, creator_id: int, followers: int) -> WorkFeatures:
    return WorkFeatures(
        vertical_id=2,
        duration_s=60,
        title_chars=20,
        caption_chars=0,
        hashtags=2,
        hour=12,
        followers=followers,
        creator_prior=model.creator_priors.get(creator_id),
    )


def test_cover_measurements() -> None:
    sharp = check_cover(picture(7, (1080, 1920)))
    assert sharp.findings == () or all(f.code != "cover-blurry" for f in sharp.findings)
    assert (
        sharp.sharpness
        > check_cover(picture(7, (1080, 1920)).filter(ImageFilter.GaussianBlur(8))).sharpness
    )
