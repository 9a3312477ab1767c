"""The notification pages through the ASGI app: a creator's inbox and settings, the operators'
dead letters with replay, each for its role only, writes through the domain functions."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe import notifications
from guanghe.app import create_app
from guanghe.notifications import DeliveryPolicy, NoticeDraft, claim_due, fail, notify_many
from guanghe.runtime import Runtime
from guanghe.store import NoticeDelivery
from tests.notifications.conftest import OPERATOR, subscribe, utc_now
from tests.seed import SeedPlatform

SECRET = "a-webhook-secret-of-32-characters"


@pytest.fixture
def client(runtime: Runtime, seed_platform: SeedPlatform) -> Iterator[TestClient]:
    """The app without its in-process delivery worker: the tests look at deliveries the
    worker would claim, and on SQLite its writes race the tests' own."""
    served = Runtime(runtime.settings.model_copy(update={"notify_in_serve": False}))
    with TestClient(
        create_app(served), raise_server_exceptions=False, follow_redirects=False
    ) as test_client:
        yield test_client
    served.engine.dispose()


def sign_in(client: TestClient, token: str) -> None:
    assert client.post("/login", data={"token": token}).status_code == 303


def send(runtime: Runtime, creator_id: int, *subjects: str) -> list[int]:
    drafts = [
        NoticeDraft(creator_id, "payout", subject, f"body of {subject}", f"page:{subject}")
        for subject in subjects
    ]
    return runtime.write(lambda s: notify_many(s, drafts, now=utc_now()))


def test_the_inbox_lists_newest_first_and_a_form_marks_one_read(
    client: TestClient, runtime: Runtime, seed_platform: SeedPlatform, token_for: Callable[..., str]
) -> None:
    me, other = seed_platform.creator_ids[:2]
    first, second = send(runtime, me, "First payout", "Second payout")
    (foreign,) = send(runtime, other, "Someone else's payout")
    sign_in(client, token_for("creator", me))
    page = client.get("/dashboard/inbox")
    assert page.status_code == 200
    assert page.text.index("Second payout") < page.text.index("First payout")
    assert "Someone else" not in page.text
    assert re.search(rf'id="notice-{first}" class="unread"', page.text)
    assert "2 unread" in page.text
    marked = client.post(f"/dashboard/inbox/{first}/read")
    assert marked.status_code == 303
    page = client.get("/dashboard/inbox")
    assert re.search(rf'id="notice-{first}" class="read"', page.text)
    assert re.search(rf'id="notice-{second}" class="unread"', page.text)
    assert "1 unread" in page.text
    refused = client.post(f"/dashboard/inbox/{foreign}/read")
    assert refused.status_code == 404
    with runtime.sessions() as session:
        unread = notifications.list_inbox(session, OPERATOR, other, unread_only=True).items
    assert [n.id for n in unread] == [foreign]


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("creator", ["nav-inbox", "nav-notification-settings"], ["nav-dead-letters"]),
        ("operator", ["nav-dead-letters"], ["nav-inbox", "nav-notification-settings"]),
        ("institution", [], ["nav-inbox", "nav-notification-settings", "nav-dead-letters"]),
    ],
)
def test_navigation_links_the_pages_for_their_roles_only(
    client: TestClient,
    seed_platform: SeedPlatform,
    token_for: Callable[..., str],
    role: str,
    shown: list[str],
    hidden: list[str],
) -> None:
    subject = {"creator": seed_platform.creator_ids[0], "operator": None}.get(
        role, seed_platform.institution_ids[0]
    )
    sign_in(client, token_for(role, subject))
    html = client.get("/dashboard").text
    assert all(f'id="{link}"' in html for link in shown)
    assert not any(f'id="{link}"' in html for link in hidden)


@pytest.mark.parametrize("role", ["operator", "institution", "ranker"])
def test_the_creator_pages_refuse_other_roles(
    client: TestClient, seed_platform: SeedPlatform, token_for: Callable[..., str], role: str
) -> None:
    subject = seed_platform.institution_ids[0] if role == "institution" else None
    sign_in(client, token_for(role, subject))
    for path in ("/dashboard/inbox", "/dashboard/notification-settings"):
        response = client.get(path)
        assert response.status_code == 403
        assert 'role="alert"' in response.text


def test_signed_out_visitors_go_to_the_sign_in_form(client: TestClient) -> None:
    for path in ("/dashboard/inbox", "/dashboard/notification-settings", "/dashboard/dead-letters"):
        assert client.get(path).headers["location"] == "/login"
    assert client.post("/dashboard/dead-letters/1/replay").headers["location"] == "/login"


FORM = {
    "channels": ["payout:inbox", "payout:webhook", "tier_change:email"],
    "timezone": "Europe/Berlin",
    "quiet_start": "22:30",
    "quiet_end": "07:00",
    "digest": "true",
    "digest_time": "08:15",
    "webhook_url": "https://hooks.example.com/guanghe",
    "webhook_secret": SECRET,
    "email": "me@example.com",
}


def test_settings_save_through_the_form_and_never_show_the_secret(
    client: TestClient, runtime: Runtime, seed_platform: SeedPlatform, token_for: Callable[..., str]
) -> None:
    me = seed_platform.creator_ids[0]
    sign_in(client, token_for("creator", me))
    assert "No secret set." in client.get("/dashboard/notification-settings").text
    assert client.post("/dashboard/notification-settings", data=FORM).status_code == 303
    with runtime.sessions() as session:
        prefs = notifications.get_preferences(session, OPERATOR, me)
    assert prefs.channels["payout"] == ("inbox", "webhook")
    assert prefs.channels["tier_change"] == ("email",)
    assert prefs.channels["hotspot"] == ()
    assert (prefs.timezone, prefs.quiet_start_minute, prefs.quiet_end_minute) == (
        "Europe/Berlin",
        22 * 60 + 30,
        7 * 60,
    )
    assert (prefs.digest, prefs.digest_minute) == (True, 8 * 60 + 15)
    assert (prefs.webhook_secret, prefs.email) == (SECRET, "me@example.com")
    page = client.get("/dashboard/notification-settings").text
    assert SECRET not in page
    assert "A secret is set" in page
    assert 'value="https://hooks.example.com/guanghe"' in page
    assert 'value="22:30"' in page
    kept = FORM | {"webhook_secret": "", "digest": "false"}
    assert client.post("/dashboard/notification-settings", data=kept).status_code == 303
    with runtime.sessions() as session:
        prefs = notifications.get_preferences(session, OPERATOR, me)
    assert (prefs.webhook_secret, prefs.digest) == (SECRET, False)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"timezone": "Mars/Olympus"}, "IANA time zone"),
        ({"webhook_url": "", "webhook_secret": "", "email": "not-an"}, "e-mail address"),
        ({"webhook_secret": ""}, "needs a webhook_secret"),
        ({"webhook_url": "ftp://example.com/x"}, "http:// or https://"),
        ({"channels": ["payout:pigeon"]}, "unknown"),
    ],
)
def test_wrong_settings_show_the_form_again_and_write_nothing(
    client: TestClient,
    runtime: Runtime,
    seed_platform: SeedPlatform,
    token_for: Callable[..., str],
    change: dict[str, object],
    reason: str,
) -> None:
    me = seed_platform.creator_ids[0]
    sign_in(client, token_for("creator", me))
    response = client.post("/dashboard/notification-settings", data=FORM | change)
    assert response.status_code == 422
    assert reason in response.text
    assert 'id="settings-form"' in response.text
    assert SECRET not in response.text
    with runtime.sessions() as session:
        assert notifications.get_preferences(session, OPERATOR, me).webhook_url is None


def test_a_time_that_is_not_a_time_is_refused(
    client: TestClient, seed_platform: SeedPlatform, token_for: Callable[..., str]
) -> None:
    sign_in(client, token_for("creator", seed_platform.creator_ids[0]))
    response = client.post("/dashboard/notification-settings", data=FORM | {"quiet_end": "25:00"})
    assert response.status_code == 422


def make_dead_letter(runtime: Runtime, creator_id: int) -> int:
    """A notice whose webhook delivery failed for good (through the delivery state machine)."""
    subscribe(runtime, creator_id, webhook="http://127.0.0.1:9/unreachable")
    (notice,) = send(runtime, creator_id, "Undeliverable payout")
    policy = DeliveryPolicy()
    lease = runtime.write(lambda s: claim_due(s, now=utc_now(), policy=policy))

    def give_up(session: Session) -> None:
        for ids in lease.messages:
            fail(
                session,
                ids,
                lease.token,
                "connection refused",
                now=utc_now(),
                policy=policy,
                permanent=True,
            )

    runtime.write(give_up)
    return notice


def test_operators_replay_a_dead_letter_from_the_list(
    client: TestClient, runtime: Runtime, seed_platform: SeedPlatform, token_for: Callable[..., str]
) -> None:
    notice = make_dead_letter(runtime, seed_platform.creator_ids[0])
    sign_in(client, token_for("operator"))
    page = client.get("/dashboard/dead-letters")
    assert page.status_code == 200
    assert "Undeliverable payout" in page.text
    assert "connection refused" in page.text
    replayed = client.post(f"/dashboard/dead-letters/{notice}/replay")
    assert replayed.status_code == 303
    with runtime.sessions() as session:
        statuses = set(
            session.scalars(select(NoticeDelivery.status).where(NoticeDelivery.notice_id == notice))
        )
    assert statuses == {"pending"}
    assert "No dead letters." in client.get("/dashboard/dead-letters").text
    assert client.post(f"/dashboard/dead-letters/{notice}/replay").status_code == 404


def test_creators_see_no_dead_letters_and_cannot_replay(
    client: TestClient, runtime: Runtime, seed_platform: SeedPlatform, token_for: Callable[..., str]
) -> None:
    me = seed_platform.creator_ids[0]
    notice = make_dead_letter(runtime, me)
    sign_in(client, token_for("creator", me))
    assert client.get("/dashboard/dead-letters").status_code == 403
    assert client.post(f"/dashboard/dead-letters/{notice}/replay").status_code == 403
    with runtime.sessions() as session:
        assert len(notifications.list_dead_letters(session, OPERATOR).items) == 1
