"""The cycle calendar across my clients: only my clients, the next 120 days counted in my
time zone, from the latest snapshots; and its iCalendar download."""

from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.tenants.test_portal import (
    _clients_with_snapshots,
    assign,
    make_client,
    make_consultant,
    portal_client,
    snap,
)
from tests.web import get_counting

pytestmark = pytest.mark.django_db


ENTRY = re.compile(
    r'data-testid="calendar-entry" data-slug="([^"]+)" data-kind="([^"]+)" data-date="([^"]+)"'
)


def entries(response) -> list[tuple[str, str, str]]:
    """(date, client slug, kind) of each calendar entry, in page order."""
    return [(day, slug, kind) for slug, kind, day in ENTRY.findall(response.content.decode())]


def _on(day: date) -> str:
    return day.isoformat()


@pytest.fixture
def utc_consultant(db):
    return make_consultant("h3.cal@platform.example", zone="UTC")


def test_the_calendar_lists_my_clients_dates_of_the_next_120_days_in_order(utc_consultant):
    today = timezone.now().astimezone(ZoneInfo("UTC")).date()
    north, south, theirs, revoked = (make_client(f"h3-{n}") for n in ("north", "south", "theirs", "revoked"))
    assign(north, utc_consultant)
    assign(south, utc_consultant)
    assign(revoked, utc_consultant, revoked_at=timezone.now())
    assign(theirs, make_consultant("h3.other@platform.example"))
    # An older snapshot's dates are not read: the latest's are.
    snap(north, taken_at=timezone.now() - timedelta(days=2), cycle_end=today + timedelta(days=3))
    snap(
        north, cycle_end=today + timedelta(days=40), cycle_kind="quarter", upcoming_dates=[
            # Yesterday's: past.
            {"date": _on(today - timedelta(days=1)), "kind": "review_due", "review_kind": "checkin_review"},
            {"date": _on(today), "kind": "review_due", "review_kind": "checkin_review"},
            {"date": _on(today + timedelta(days=40)), "kind": "cycle_end", "cycle_kind": "quarter"},  # once
            {"date": _on(today + timedelta(days=120)), "kind": "calibration"},
            {"date": _on(today + timedelta(days=121)), "kind": "calibration"},  # too far
            {"date": "not a date", "kind": "calibration"},  # ignored, never a 500
            {"kind": "calibration"},
            {"date": _on(today + timedelta(days=5)), "kind": "party"},
        ],
    )  # fmt: skip
    snap(
        south, cycle_end=None, cycle_kind="", upcoming_dates=[
            {"date": _on(today + timedelta(days=40)), "kind": "calibration"},
            {"date": _on(today + timedelta(days=41)), "kind": "review_due", "review_kind": "end_of_cycle"},
        ],
    )  # fmt: skip
    for organization in (theirs, revoked):
        snap(organization, upcoming_dates=[{"date": _on(today + timedelta(days=2)), "kind": "calibration"}])

    response = portal_client(utc_consultant).get("/portal/calendar/")

    assert response.status_code == 200
    assert entries(response) == [
        (_on(today), "h3-north", "review_due"),
        (_on(today + timedelta(days=40)), "h3-north", "cycle_end"),
        (_on(today + timedelta(days=40)), "h3-south", "calibration"),
        (_on(today + timedelta(days=41)), "h3-south", "review_due"),
        (_on(today + timedelta(days=120)), "h3-north", "calibration"),
    ]
    html = response.content.decode()
    assert "H3 Theirs" not in html
    assert "H3 Revoked" not in html
    for label in (
        "Reviews due",
        "Check-in review",
        "Cycle ends",
        "Quarter (tactical)",
        "Calibration meeting",
    ):
        assert label in html
    # Grouped by month, then by week.
    months = {(today + timedelta(days=d)).strftime("%Y-%m") for d in (0, 40, 41, 120)}
    assert html.count('class="card calendar-month"') == len(months)
    assert 'class="calendar-week"' in html


def test_today_is_the_consultants_today(acme):
    # UTC+14 and UTC−12 are always on different dates.
    east = make_consultant("h3.east@platform.example", zone="Etc/GMT-14")
    west = make_consultant("h3.west@platform.example", zone="Etc/GMT+12")
    west_today = timezone.now().astimezone(ZoneInfo("Etc/GMT+12")).date()
    client = make_client("h3-zones")
    for consultant in (east, west):
        assign(client, consultant)
    snap(client, cycle_end=None, upcoming_dates=[{"date": _on(west_today), "kind": "calibration"}])

    assert entries(portal_client(west).get("/portal/calendar/")) == [
        (_on(west_today), "h3-zones", "calibration")
    ]
    assert entries(portal_client(east).get("/portal/calendar/")) == []


def test_an_empty_calendar_says_so(utc_consultant):
    response = portal_client(utc_consultant).get("/portal/calendar/")

    assert 'data-testid="calendar-empty"' in response.content.decode()


def test_the_calendar_takes_the_same_number_of_queries_for_5_and_50_clients(utc_consultant):
    many = make_consultant("h3.many@platform.example", zone="UTC")
    _clients_with_snapshots(utc_consultant, 5, "h3calfew")
    _clients_with_snapshots(many, 50, "h3calmany")

    response_few, few = get_counting(portal_client(utc_consultant), "/portal/calendar/")
    response_many, queries = get_counting(portal_client(many), "/portal/calendar/")

    # Each client: its cycle's end and a calibration the same day: one or two entries.
    assert len(entries(response_few)) >= 5
    assert len(entries(response_many)) >= 50
    assert few == queries


def test_the_icalendar_download_holds_my_clients_dates(utc_consultant):
    today = timezone.now().astimezone(ZoneInfo("UTC")).date()
    mine = make_client("h3-ics", name="Smith, Jones; Partners")
    assign(mine, utc_consultant)
    theirs = make_client("h3-ics-theirs", name="Not Mine Inc")
    snap(
        mine, cycle_end=today + timedelta(days=10), cycle_kind="annual",
        upcoming_dates=[{"date": _on(today + timedelta(days=3)), "kind": "calibration"}],
    )  # fmt: skip
    snap(theirs, upcoming_dates=[{"date": _on(today + timedelta(days=3)), "kind": "calibration"}])

    response = portal_client(utc_consultant).get("/portal/calendar.ics")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="okr-clients.ics"'
    text = response.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")  # CRLF line ends only
    assert text.count("BEGIN:VEVENT") == 2
    day3, day10 = (
        (today + timedelta(days=3)).strftime("%Y%m%d"),
        (today + timedelta(days=10)).strftime("%Y%m%d"),
    )
    day11 = (today + timedelta(days=11)).strftime("%Y%m%d")
    assert f"DTSTART;VALUE=DATE:{day3}\r\n" in text
    assert f"DTSTART;VALUE=DATE:{day10}\r\nDTEND;VALUE=DATE:{day11}\r\n" in text
    assert "SUMMARY:Smith\\, Jones\\; Partners: Calibration meeting\r\n" in text
    assert "SUMMARY:Smith\\, Jones\\; Partners: Cycle ends (Annual (strategic))\r\n" in text
    assert f"UID:{day3}-h3-ics-calibration-x@localhost\r\n" in text
    assert "Not Mine" not in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_long_icalendar_lines_are_folded(utc_consultant):
    mine = make_client("h3-long", name="A very long client name " * 4 + "终")
    assign(mine, utc_consultant)
    snap(mine)

    text = portal_client(utc_consultant).get("/portal/calendar.ics").content.decode()

    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    unfolded = text.replace("\r\n ", "")
    assert f"SUMMARY:{'A very long client name ' * 4}终: Cycle ends (Quarter (tactical))\r\n" in unfolded
