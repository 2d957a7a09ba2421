"""Settings — Cycles and review schedule, and Review settings. Cycles are org admins' and
consultants' (as in the services and the API), review settings org admins' only; cycles are
created through ``okr_cycle_start`` (review cycles scheduled from the cadence when automatic
scheduling is on)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import User
from okrs.models import Cycle, Objective
from reviews.models import Review, ReviewCycle, ReviewSettings
from reviews.services import okr_cycle_start
from tests.web import get_counting, sign_in

pytestmark = pytest.mark.django_db

# Routing (3), session, user, cycles (parent joined), their review cycles (with review
# counts), review settings, OKR settings (the default cadence of a new cycle), inbox badge.
CYCLES_QUERIES = 10
# Routing (3), session, user, review settings, inbox badge.
REVIEW_SETTINGS_QUERIES = 7
NOT_ADMINS = ["cto@acme.example", "sre@acme.example", "board@acme.example"]


def in_acme(acme, fn):
    with tenant_context(acme):
        result = fn()
    connection.set_schema_to_public()
    return result


def year_of(acme) -> Cycle:
    return in_acme(acme, lambda: Cycle.objects.get(kind=Cycle.Kind.ANNUAL))


def quarter_of(acme) -> Cycle:
    return in_acme(acme, lambda: Cycle.objects.get(kind=Cycle.Kind.QUARTER))


def snapshot(acme) -> tuple:
    return in_acme(
        acme,
        lambda: (
            list(Cycle.objects.order_by("pk").values_list("pk", "name", "state", "start_date", "end_date")),
            list(ReviewCycle.objects.order_by("pk").values_list("pk", "state")),
            Review.objects.count(),
            list(ReviewSettings.objects.values_list("review_scores_feed_appraisal", "auto_schedule")),
            list(Objective.objects.order_by("pk").values_list("state", "score")),
        ),
    )


def new_cycle_data(acme, **changes) -> dict:
    """A quarter in the next year (no parent), weekly cadence."""
    next_year = year_of(acme).start_date.year + 1
    data = {
        "name": f"Q1 {next_year}",
        "kind": "quarter",
        "start_date": date(next_year, 1, 1).isoformat(),
        "end_date": date(next_year, 3, 31).isoformat(),
        "parent": "",
        "cadence": "weekly",
    }
    return {**data, **changes}


# --- the cycles page -------------------------------------------------------------------------------


def test_cycles_page_lists_cycles_with_their_review_cycles(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    response, queries = get_counting(acme_client, "/settings/cycles/")
    html = response.content.decode()
    year, quarter = year_of(acme), quarter_of(acme)
    assert response.status_code == 200
    assert html.count('data-testid="cycle"') == 2
    assert year.name in html
    assert quarter.name in html
    assert html.count('data-testid="cycle-state" data-state="active"') == 2
    review_cycles = in_acme(acme, ReviewCycle.objects.count)
    assert html.count('data-testid="review-cycle"') == review_cycles > 0
    assert 'data-testid="review-cycle-state" data-state="open"' in html
    assert 'data-testid="review-cycle-open"' in html  # scheduled ones can be opened now
    assert 'data-testid="cycle-activate"' not in html  # both are active already
    assert queries == CYCLES_QUERIES


def test_cycles_query_count_does_not_grow_with_more_cycles(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    _, few = get_counting(acme_client, "/settings/cycles/")

    def more_cycles():
        ceo = User.objects.get(email="ceo@acme.example")
        start = Cycle.objects.order_by("-end_date").first().end_date + timedelta(days=1)
        for number in range(8):
            first = start + timedelta(days=60 * number)
            okr_cycle_start(
                actor=ceo, name=f"Sprint {number}", kind="custom", start_date=first,
                end_date=first + timedelta(days=59), cadence="weekly",
            )  # fmt: skip

    in_acme(acme, more_cycles)
    response, many = get_counting(acme_client, "/settings/cycles/")
    html = response.content.decode()
    assert html.count('data-testid="cycle"') == 10
    assert html.count('data-testid="cycle-activate"') == 8
    assert few == many == CYCLES_QUERIES


def test_creating_a_cycle_schedules_its_reviews(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    data = new_cycle_data(acme)
    response = acme_client.post("/settings/cycles/", data)
    assert response.status_code == 302
    cycle = in_acme(acme, lambda: Cycle.objects.get(name=data["name"]))
    assert (cycle.kind, cycle.state, cycle.cadence) == ("quarter", "draft", "weekly")
    scheduled = in_acme(acme, lambda: list(cycle.review_cycles.values_list("kind", flat=True)))
    assert "end_of_cycle" in scheduled
    assert "checkin_review" in scheduled
    page = acme_client.get("/settings/cycles/").content.decode()
    assert "was created as a draft" in page
    assert "review cycles were scheduled" in page


def test_creating_a_quarter_inside_the_year(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    year = year_of(acme)
    data = new_cycle_data(
        acme, name="Extra quarter", parent=year.pk, start_date=year.start_date.isoformat(),
        end_date=(year.start_date + timedelta(days=89)).isoformat(),
    )  # fmt: skip
    assert acme_client.post("/settings/cycles/", data).status_code == 302
    assert in_acme(acme, lambda: Cycle.objects.get(name="Extra quarter").parent_id) == year.pk


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"end_date": "SWAP"}, "end_date"),  # ends before it starts
        ({"start_date": ""}, "start_date"),
        ({"end_date": "31/02/2027"}, "end_date"),
        ({"name": ""}, "name"),
        ({"kind": "decade"}, "kind"),
        ({"parent": "YEAR"}, "parent"),  # next year's quarter cannot lie in this year
        ({"kind": "annual", "parent": "YEAR"}, "parent"),  # a year is part of nothing
    ],
)
def test_bad_cycle_input_is_a_422_on_the_field_and_creates_nothing(acme, acme_client, changes, field):
    sign_in(acme_client, acme, "ceo@acme.example")
    data = new_cycle_data(acme)
    if changes.get("end_date") == "SWAP":
        changes = {"start_date": data["end_date"], "end_date": data["start_date"]}
    if changes.get("parent") == "YEAR":
        changes = {**changes, "parent": year_of(acme).pk}
    before = snapshot(acme)
    response = acme_client.post("/settings/cycles/", {**data, **changes})
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert f'data-testid="field-error-{field}"' in response.content.decode()
    assert snapshot(acme) == before


def test_with_automatic_scheduling_off_reviews_are_scheduled_by_hand(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    assert acme_client.post("/settings/reviews/", {"review_scores_feed_appraisal": ""}).status_code == 302
    data = new_cycle_data(acme)
    acme_client.post("/settings/cycles/", data)
    cycle = in_acme(acme, lambda: Cycle.objects.get(name=data["name"]))
    assert in_acme(acme, cycle.review_cycles.count) == 0
    page = acme_client.get("/settings/cycles/").content.decode()
    assert 'data-testid="no-review-cycles"' in page
    assert 'data-testid="schedule-reviews"' in page

    # Activating does not schedule them either (the setting is off)...
    assert acme_client.post(f"/settings/cycles/{cycle.pk}/activate/").status_code == 302
    assert in_acme(acme, lambda: (Cycle.objects.get(pk=cycle.pk).state, cycle.review_cycles.count())) == (
        "active", 0
    )  # fmt: skip
    # ...the button does, once.
    assert acme_client.post(f"/settings/cycles/{cycle.pk}/schedule-reviews/").status_code == 302
    count = in_acme(acme, cycle.review_cycles.count)
    assert count > 0
    again = acme_client.post(f"/settings/cycles/{cycle.pk}/schedule-reviews/", follow=True)
    assert "already has review cycles" in again.content.decode()
    assert in_acme(acme, cycle.review_cycles.count) == count


def test_activating_schedules_reviews_when_automatic(acme, acme_client):
    def draft_without_reviews():
        ceo = User.objects.get(email="ceo@acme.example")
        ReviewSettings.objects.update_or_create(pk=1, defaults={"auto_schedule": False})
        cycle, _ = okr_cycle_start(
            actor=ceo, name="Later", kind="quarter", start_date=date(2031, 1, 1), end_date=date(2031, 3, 31)
        )
        ReviewSettings.objects.filter(pk=1).update(auto_schedule=True)
        return cycle

    cycle = in_acme(acme, draft_without_reviews)
    sign_in(acme_client, acme, "ceo@acme.example")
    response = acme_client.post(f"/settings/cycles/{cycle.pk}/activate/", follow=True)
    assert "is active" in response.content.decode()
    assert in_acme(acme, cycle.review_cycles.count) > 0


def test_closing_a_cycle_asks_first_then_freezes_scores(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    quarter = quarter_of(acme)
    confirm = acme_client.get(f"/settings/cycles/{quarter.pk}/close/")
    assert confirm.status_code == 200
    assert 'data-testid="confirm-cycle-close"' in confirm.content.decode()
    assert in_acme(acme, lambda: Cycle.objects.get(pk=quarter.pk).state) == "active"  # GET changes nothing

    assert acme_client.post(f"/settings/cycles/{quarter.pk}/close/").status_code == 302
    closed = in_acme(
        acme,
        lambda: (
            Cycle.objects.get(pk=quarter.pk).state,
            set(
                Objective.objects.filter(cycle=quarter)
                .exclude(state="archived")
                .values_list("state", flat=True)
            ),
            Objective.objects.filter(cycle=quarter, score__isnull=True).exclude(state="archived").count(),
        ),
    )
    assert closed == ("closed", {"closed"}, 0)
    # A closed cycle cannot be activated again: the page says why, nothing changes.
    before = snapshot(acme)
    refused = acme_client.post(f"/settings/cycles/{quarter.pk}/activate/")
    assert refused.status_code == 422
    assert "cannot be reopened" in refused.content.decode()
    assert snapshot(acme) == before


def test_opening_and_closing_a_review_cycle(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    quarter = quarter_of(acme)
    scheduled = in_acme(
        acme,
        lambda: ReviewCycle.objects.filter(cycle=quarter, state="scheduled").order_by("opens_on").first(),
    )
    assert acme_client.post(f"/settings/review-cycles/{scheduled.pk}/open/").status_code == 302
    opened = in_acme(
        acme, lambda: (ReviewCycle.objects.get(pk=scheduled.pk).state, scheduled.reviews.count())
    )
    assert opened[0] == "open"
    assert opened[1] > 0
    confirm = acme_client.get(f"/settings/review-cycles/{scheduled.pk}/close/")
    assert 'data-testid="confirm-review-cycle-close"' in confirm.content.decode()
    assert acme_client.post(f"/settings/review-cycles/{scheduled.pk}/close/").status_code == 302
    assert in_acme(acme, lambda: set(scheduled.reviews.values_list("state", flat=True))) == {"closed"}
    assert in_acme(acme, lambda: ReviewCycle.objects.get(pk=scheduled.pk).state) == "closed"
    # Opening a closed review cycle is refused with the reason.
    before = snapshot(acme)
    refused = acme_client.post(f"/settings/review-cycles/{scheduled.pk}/open/")
    assert refused.status_code == 422
    assert 'data-testid="settings-error"' in refused.content.decode()
    assert snapshot(acme) == before


def test_unknown_cycle_is_a_404(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    assert acme_client.post("/settings/cycles/999999/activate/").status_code == 404
    assert acme_client.get("/settings/review-cycles/999999/close/").status_code == 404


@pytest.mark.parametrize("email", NOT_ADMINS)
def test_non_admins_change_no_cycle(acme, acme_client, email):
    sign_in(acme_client, acme, email)
    quarter = quarter_of(acme)
    review_cycle = in_acme(acme, lambda: ReviewCycle.objects.filter(cycle=quarter, state="scheduled").first())
    opened = in_acme(acme, lambda: ReviewCycle.objects.filter(state="open").first())
    before = snapshot(acme)
    responses = [
        acme_client.post("/settings/cycles/", new_cycle_data(acme)),
        acme_client.post(f"/settings/cycles/{quarter.pk}/activate/"),
        acme_client.get(f"/settings/cycles/{quarter.pk}/close/"),
        acme_client.post(f"/settings/cycles/{quarter.pk}/close/"),
        acme_client.post(f"/settings/cycles/{quarter.pk}/schedule-reviews/"),
        acme_client.post(f"/settings/review-cycles/{review_cycle.pk}/open/"),
        acme_client.post(f"/settings/review-cycles/{opened.pk}/close/"),
        acme_client.post("/settings/reviews/", {"review_scores_feed_appraisal": "on", "auto_schedule": ""}),
    ]
    assert [r.status_code for r in responses] == [403] * 8
    assert snapshot(acme) == before


COACH = "coach@acme.example"  # the reviews fixtures' consultant (tests/reviews/conftest.py)


def test_a_consultant_manages_cycles_and_review_cycles_on_the_web_as_in_the_api(
    acme, acme_client, consultant
):
    """The services and the API let consultants create, activate and close cycles and open and
    close review cycles; the web page now follows the same permission functions (it answered
    403 before, while the API and the health dashboard's "Set up cycles" link let them)."""
    sign_in(acme_client, acme, COACH)
    quarter = quarter_of(acme)
    scheduled = in_acme(acme, lambda: ReviewCycle.objects.filter(cycle=quarter, state="scheduled").first())
    page = acme_client.get("/settings/cycles/")
    assert page.status_code == 200
    data = new_cycle_data(acme)
    assert acme_client.post("/settings/cycles/", data).status_code == 302
    cycle = in_acme(acme, lambda: Cycle.objects.get(name=data["name"]))
    assert acme_client.post(f"/settings/cycles/{cycle.pk}/activate/").status_code == 302
    assert in_acme(acme, lambda: Cycle.objects.get(pk=cycle.pk).state) == "active"
    assert acme_client.post(f"/settings/review-cycles/{scheduled.pk}/open/").status_code == 302
    assert acme_client.get(f"/settings/review-cycles/{scheduled.pk}/close/").status_code == 200
    assert acme_client.post(f"/settings/review-cycles/{scheduled.pk}/close/").status_code == 302
    assert in_acme(acme, lambda: ReviewCycle.objects.get(pk=scheduled.pk).state) == "closed"
    # Review settings stay the organisation's (org admins'): refused, nothing changed.
    before = snapshot(acme)
    refused = acme_client.post(
        "/settings/reviews/", {"review_scores_feed_appraisal": "on", "auto_schedule": ""}
    )
    assert refused.status_code == 403
    assert snapshot(acme) == before


def tabs_of(html: str) -> str:
    return html.split('data-testid="settings-tabs"', 1)[1].split("</nav>", 1)[0]


def test_a_consultant_is_shown_only_the_settings_they_may_open(acme, acme_client, consultant):
    """The tab bar and the navigation link only to pages the person may open: a consultant gets
    a Cycles link and the Cycles tab, an org admin the Settings link and every tab."""
    sign_in(acme_client, acme, COACH)
    html = acme_client.get("/settings/cycles/").content.decode()
    assert 'data-testid="nav-cycles"' in html
    assert 'href="/settings/"' not in html
    assert tabs_of(html).count("<a ") == 1
    assert 'href="/settings/cycles/"' in tabs_of(html)
    assert 'data-testid="nav-cycles"' in acme_client.get("/").content.decode()

    sign_in(acme_client, acme, "ceo@acme.example")
    html = acme_client.get("/settings/cycles/").content.decode()
    assert 'data-testid="nav-cycles"' not in html
    assert 'href="/settings/"' in html
    assert tabs_of(html).count("<a ") == 11

    sign_in(acme_client, acme, "sre@acme.example")
    home = acme_client.get("/").content.decode()
    assert 'data-testid="nav-cycles"' not in home
    assert 'href="/settings/"' not in home


# --- review settings ---------------------------------------------------------------------------------


def review_settings_values(acme):
    return in_acme(
        acme,
        lambda: (
            ReviewSettings.objects.filter(pk=1)
            .values_list("review_scores_feed_appraisal", "auto_schedule")
            .first()
        ),
    )


def test_review_settings_page_explains_and_saves(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    response, queries = get_counting(acme_client, "/settings/reviews/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="review-settings-form"' in html
    assert "sandbagging" in html  # the appraisal switch says what it means
    assert 'id="id_auto_schedule" checked' in html
    assert 'id="id_review_scores_feed_appraisal">' in html
    assert queries == REVIEW_SETTINGS_QUERIES
    assert review_settings_values(acme) is None  # reading the page wrote nothing

    saved = acme_client.post("/settings/reviews/", {"review_scores_feed_appraisal": "on"})
    assert saved.status_code == 302
    assert review_settings_values(acme) == (True, False)
    assert "Review settings saved." in acme_client.get("/settings/reviews/").content.decode()


def test_review_settings_with_both_boxes_unticked_are_saved(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    assert acme_client.post("/settings/reviews/", {}).status_code == 302
    assert review_settings_values(acme) == (False, False)


def test_globex_cycles_page_renders_in_chinese(globex, globex_client):
    sign_in(globex_client, globex, "ceo@globex.example")
    response = globex_client.get("/settings/cycles/")
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    assert response.content.decode().count('data-testid="cycle"') == 2
