"""Benchmarks: the median of every client organisation's latest (fresh) snapshot, shown
only when at least BENCHMARK_MIN_ORGANIZATIONS organisations contribute to a metric."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tenants.models import HealthSnapshot, Organization
from tenants.selectors_portal import client_benchmarks, platform_medians
from tests.tenants.test_portal import assign, make_client, make_consultant, portal_client, snap

pytestmark = pytest.mark.django_db


@pytest.fixture
def empty_platform(db):
    """No snapshot anywhere (the demo organisations' ones would count too)."""
    HealthSnapshot.objects.all().delete()


def _orgs_with(disciplines, **figures) -> list[Organization]:
    organizations = []
    for i, discipline in enumerate(disciplines):
        organization = make_client(f"h3-bench-{len(Organization.objects.all())}-{i}")
        snap(organization, checkin_discipline=discipline, **figures)
        organizations.append(organization)
    return organizations


def _medians() -> dict:
    return {metric: (m.value, m.organizations) for metric, m in platform_medians().items()}


def test_a_median_shows_only_from_five_contributing_organisations(empty_platform):
    (first, *_rest) = _orgs_with([0.2, 0.4, 0.6, 0.8])
    benchmarks = client_benchmarks(first.health_snapshots.get(), platform_medians())

    assert [(b.metric, b.shown, b.median.organizations) for b in benchmarks] == [
        ("checkin_discipline", False, 4),
        ("on_track_share", False, 4),
        ("last_cycle_average_score", False, 0),
    ]

    _orgs_with([1.0])
    benchmarks = client_benchmarks(first.health_snapshots.get(), platform_medians())

    assert [(b.metric, b.shown, b.median.organizations) for b in benchmarks] == [
        ("checkin_discipline", True, 5),
        ("on_track_share", True, 5),
        ("last_cycle_average_score", False, 0),
    ]
    assert benchmarks[0].median.value == pytest.approx(0.6)
    assert benchmarks[0].value == 0.2


def test_the_medians_are_right_and_take_one_query(empty_platform, django_assert_num_queries):
    now = timezone.now()
    # discipline, KRs on track, KRs in the cycle, last cycle's average score
    rows = [
        (0.1, 1, 4, 0.2),
        (0.5, 2, 4, 0.4),
        (0.3, 3, 4, 0.6),
        (0.9, 0, 0, 0.8),  # no KRs: no on-track share
        (0.7, 4, 8, 1.0),
        (None, 6, 8, 0.9),  # no discipline
    ]
    for i, (discipline, on_track, krs, score) in enumerate(rows):
        organization = make_client(f"h3-median-{i}")
        snap(
            organization, checkin_discipline=discipline, kr_on_track=on_track, key_results_in_cycle=krs,
            kr_not_started=0, kr_at_risk=0, kr_off_track=0, kr_done=krs - on_track,
            last_cycle_average_score=score,
        )  # fmt: skip
        # An older snapshot of the same organisation does not count: the latest does.
        snap(
            organization,
            taken_at=now - timedelta(hours=2),
            checkin_discipline=0.0,
            last_cycle_average_score=0.0,
        )
    # Left out: an organisation whose latest snapshot is older than 7 days, and the template.
    stale = make_client("h3-stale")
    snap(
        stale,
        taken_at=now - timedelta(days=7, minutes=1),
        checkin_discipline=0.0,
        last_cycle_average_score=0.0,
    )
    template = Organization.objects.get(is_template=True)
    snap(template, checkin_discipline=0.0, last_cycle_average_score=0.0)

    with django_assert_num_queries(1):
        medians = platform_medians()

    assert {metric: m.organizations for metric, m in medians.items()} == {
        "checkin_discipline": 5,
        "on_track_share": 5,
        "last_cycle_average_score": 6,
    }
    assert medians["checkin_discipline"].value == pytest.approx(0.5)  # 0.1 0.3 0.5 0.7 0.9
    assert medians["on_track_share"].value == pytest.approx(0.5)  # .25 .5 .5 .75 .75
    assert medians["last_cycle_average_score"].value == pytest.approx(0.7)  # between 0.6 and 0.8


def test_no_snapshot_anywhere_gives_no_median(empty_platform):
    assert _medians() == {
        "checkin_discipline": (None, 0),
        "on_track_share": (None, 0),
        "last_cycle_average_score": (None, 0),
    }


def test_the_minimum_is_a_setting(empty_platform, settings):
    settings.BENCHMARK_MIN_ORGANIZATIONS = 3
    (first, *_rest) = _orgs_with([0.2, 0.4, 0.6])

    benchmarks = client_benchmarks(first.health_snapshots.get(), platform_medians())

    assert benchmarks[0].shown is True


def test_the_client_page_shows_the_benchmarks_or_says_when_they_appear(empty_platform):
    consultant = make_consultant("h3.bench@platform.example")
    mine, *others = _orgs_with([0.62, 0.2, 0.55, 0.9], last_cycle_average_score=0.5)
    assign(mine, consultant)
    client = portal_client(consultant)

    hidden = client.get(f"/portal/clients/{mine.slug}/").content.decode()

    assert "Benchmarks appear when at least 5 organisations contribute." in hidden
    assert "platform median" not in hidden

    _orgs_with([0.4])  # a fifth organisation, without an average score
    shown = client.get(f"/portal/clients/{mine.slug}/").content.decode()

    assert "Check-in discipline 62% — platform median 55% (5 organisations)" in shown
    assert "Key results on track 50% — platform median 50% (5 organisations)" in shown
    assert "the median appears when at least 5 organisations contribute" in shown  # the score: 4
    # No other organisation is named on the page.
    assert not [o.name for o in others if o.name in shown]
