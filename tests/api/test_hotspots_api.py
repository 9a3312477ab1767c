"""Hotspots, the event calendar, iCalendar import/export, creator feeds and inspiration."""

from __future__ import annotations

import datetime as dt

import icalendar
from fastapi.testclient import TestClient

from guanghe.runtime import Runtime
from tests.api.conftest import Parties, assert_problem, row_counts
from tests.hotspots.conftest import BURST_TOPIC, add_works, count_and_detect

TODAY = dt.datetime.now(dt.UTC).date()
EVENT = {
    "title": "冬至 Winter Solstice food campaign",
    "kind": "campaign",
    "starts_on": (TODAY + dt.timedelta(days=5)).isoformat(),
    "ends_on": (TODAY + dt.timedelta(days=7)).isoformat(),
    "verticals": ["food"],
    "url": "https://example.com/solstice",
}
ICS_OK = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:new-year@test\r
SUMMARY:New Year\r
DTSTART;VALUE=DATE:20270101\r
DTEND;VALUE=DATE:20270102\r
CATEGORIES:holiday\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:game-week@test\r
SUMMARY:Game week\r
DTSTART;VALUE=DATE:20261210\r
DTEND;VALUE=DATE:20261217\r
X-GUANGHE-VERTICALS:gaming\r
END:VEVENT\r
END:VCALENDAR\r
"""


def _ics(*vevents: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\r\n{v}END:VEVENT\r\n" for v in vevents)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{body}END:VCALENDAR\r\n".encode()


def test_operators_manage_events_and_everyone_signed_in_reads_them(
    client: TestClient, parties: Parties
) -> None:
    made = client.post("/v1/calendar/events", json=EVENT, headers=parties.headers("operator"))
    assert made.status_code == 201, made.text
    assert made.json()["verticals"] == ["food"]
    page = client.get(
        "/v1/calendar/events?vertical=food", headers=parties.headers("creator1")
    ).json()
    assert [e["title"] for e in page["items"]] == [EVENT["title"]]
    assert (
        client.get(
            "/v1/calendar/events?vertical=gaming", headers=parties.headers("creator3")
        ).json()["items"]
        == []
    )
    denied = client.post("/v1/calendar/events", json=EVENT, headers=parties.headers("creator1"))
    assert_problem(denied, 403, "forbidden")
    assert_problem(client.post("/v1/calendar/events", json=EVENT), 401, "unauthenticated")
    assert_problem(
        client.get("/v1/calendar/events", headers=parties.headers("advertiser")), 403, "forbidden"
    )


def test_nonsense_events_are_422(client: TestClient, parties: Parties) -> None:
    for bad in (
        EVENT | {"kind": "party"},
        EVENT | {"ends_on": "2026-01-01"},
        EVENT | {"verticals": ["nowhere"]},
        EVENT | {"url": "javascript:alert(1)"},
        EVENT | {"title": ""},
        EVENT | {"starts_on": "yesterday"},
    ):
        response = client.post("/v1/calendar/events", json=bad, headers=parties.headers("operator"))
        assert_problem(response, 422, "invalid-input")
    odd = client.get("/v1/calendar/events?cursor=!!", headers=parties.headers("operator"))
    assert_problem(odd, 422, "invalid-input")


def test_ics_import_and_export_round_trip(client: TestClient, parties: Parties) -> None:
    files = {"file": ("events.ics", ICS_OK, "text/calendar")}
    done = client.post("/v1/calendar/import", files=files, headers=parties.headers("operator"))
    assert done.status_code == 200, done.text
    assert done.json()["imported"] == 2
    again = client.post("/v1/calendar/import", files=files, headers=parties.headers("operator"))
    assert again.json()["imported"] == 2  # upserted by UID, not duplicated
    exported = client.get("/v1/calendar.ics", headers=parties.headers("operator"))
    assert exported.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(exported.content)
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {"new-year@test", "game-week@test"}
    game = events["game-week@test"]
    assert game.decoded("dtstart") == dt.date(2026, 12, 10)
    assert game.decoded("dtend") == dt.date(2026, 12, 17)
    assert str(game["x-guanghe-verticals"]) == "gaming"


def test_a_file_with_bad_vevents_imports_nothing_and_names_each(
    client: TestClient, parties: Parties, runtime: Runtime
) -> None:
    before = row_counts(runtime)
    data = _ics(
        "UID:good@t\r\nSUMMARY:Fine\r\nDTSTART;VALUE=DATE:20261201\r\n",
        "SUMMARY:No uid\r\nDTSTART;VALUE=DATE:20261201\r\n",
        "UID:late@t\r\nSUMMARY:Backwards\r\nDTSTART;VALUE=DATE:20261205\r\n"
        "DTEND;VALUE=DATE:20261201\r\n",
        "UID:where@t\r\nSUMMARY:Where\r\nDTSTART;VALUE=DATE:20261201\r\nX-GUANGHE-VERTICALS:mars\r\n",
    )
    response = client.post(
        "/v1/calendar/import",
        files={"file": ("bad.ics", data, "text/calendar")},
        headers=parties.headers("operator"),
    )
    body = assert_problem(response, 422, "rejected-batch")
    rows = body["rows"]
    assert isinstance(rows, list)
    assert [(r["vevent"], r["uid"]) for r in rows] == [
        (2, ""),
        (3, "late@t"),
        (4, "where@t"),
    ]
    assert row_counts(runtime) == before
    garbage = client.post(
        "/v1/calendar/import",
        files={"file": ("x.ics", b"\xff\x00not a calendar", "text/calendar")},
        headers=parties.headers("operator"),
    )
    assert_problem(garbage, 422, "invalid-input")
    refused = client.post(
        "/v1/calendar/import",
        files={"file": ("events.ics", ICS_OK, "text/calendar")},
        headers=parties.headers("creator1"),
    )
    assert_problem(refused, 403, "forbidden")


def test_a_creator_feed_works_with_its_token_until_revoked(
    client: TestClient, parties: Parties
) -> None:
    client.post("/v1/calendar/events", json=EVENT, headers=parties.headers("operator"))
    made = client.post("/v1/creators/1/calendar-feed-token", headers=parties.headers("creator1"))
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    assert made.json()["url"].endswith(f"/v1/creators/1/calendar.ics?token={token}")
    feed = client.get(f"/v1/creators/1/calendar.ics?token={token}")  # no bearer header
    assert feed.status_code == 200
    titles = [str(e["summary"]) for e in icalendar.Calendar.from_ical(feed.content).walk("VEVENT")]
    assert titles == [EVENT["title"]]
    assert_problem(client.get(f"/v1/creators/2/calendar.ics?token={token}"), 404, "not-found")
    assert_problem(client.get("/v1/creators/1/calendar.ics?token=" + "x" * 43), 404, "not-found")
    assert_problem(client.get("/v1/creators/1/calendar.ics?token=<>"), 422, "invalid-input")
    other = client.post("/v1/creators/2/calendar-feed-token", headers=parties.headers("creator1"))
    assert_problem(other, 403, "forbidden")
    revoked = client.delete(
        "/v1/creators/1/calendar-feed-token", headers=parties.headers("creator1")
    )
    assert revoked.json() == {"revoked": 1}
    assert_problem(client.get(f"/v1/creators/1/calendar.ics?token={token}"), 404, "not-found")


def test_inspiration_ranks_hotspots_and_events_for_the_creator(
    client: TestClient, parties: Parties, runtime: Runtime
) -> None:
    burst = add_works(runtime)
    count_and_detect(runtime)
    client.post("/v1/calendar/events", json=EVENT, headers=parties.headers("operator"))
    holiday = EVENT | {"title": "Gaming week", "kind": "holiday", "verticals": ["gaming"]}
    client.post("/v1/calendar/events", json=holiday, headers=parties.headers("operator"))
    items = client.get("/v1/creators/1/inspiration", headers=parties.headers("creator1")).json()
    assert [(i["kind"], i["title"]) for i in items] == [
        ("event", EVENT["title"]),
        ("hotspot", BURST_TOPIC),
    ]
    event, spot = items
    assert any("trending now" in w for w in event["why"])  # 冬至 is a hot topic's word
    assert spot["why"][0] == "trending in your vertical (food)"
    assert {e["id"] for e in spot["examples"]} <= set(burst)
    assert 0 < spot["benefit"] < event["benefit"] <= 1
    gaming = client.get("/v1/creators/3/inspiration", headers=parties.headers("creator3")).json()
    assert [i["title"] for i in gaming] == ["Gaming week"]
    assert_problem(
        client.get("/v1/creators/2/inspiration", headers=parties.headers("creator1")),
        403,
        "forbidden",
    )
    assert_problem(
        client.get("/v1/creators/1/inspiration", headers=parties.headers("advertiser")),
        403,
        "forbidden",
    )
    assert_problem(client.get("/v1/creators/1/inspiration"), 401, "unauthenticated")
    assert_problem(
        client.get("/v1/creators/0/inspiration", headers=parties.headers("operator")),
        422,
        "invalid-input",
    )
    assert_problem(
        client.get("/v1/creators/999/inspiration", headers=parties.headers("operator")),
        404,
        "not-found",
    )
    spots = client.get("/v1/hotspots?vertical=food", headers=parties.headers("creator1")).json()
    assert [s["topic"] for s in spots] == [BURST_TOPIC]
    assert_problem(
        client.get("/v1/hotspots?vertical=mars", headers=parties.headers("operator")),
        422,
        "invalid-input",
    )
