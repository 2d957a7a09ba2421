"""The organisation's method where people work: check-in questions on the check-in form,
review prompts on the self-review form (and their settings), and the default cadence of
new cycles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import User
from okrs.models import Cycle, KeyResult
from okrs.selectors import okr_settings
from okrs.services.cycles import cycle_create
from okrs.services.settings import okr_method_settings_update
from reviews.models import Review
from reviews.selectors import review_settings
from reviews.services import okr_cycle_start
from reviews.services.settings import review_prompts_update
from tests.web import get_counting, htmx, sign_in

pytestmark = pytest.mark.django_db

QUESTIONS = ["What moved since last time, and why?", "What is in the way?", "What will you try next?"]
PROMPTS = ["What did we learn about our customers?", "What would we do differently?"]
PROMPTS_URL = "/settings/reviews/prompts/"
# Routing (3), session, user, review settings, inbox badge: the prompts form reads the same row.
REVIEW_SETTINGS_QUERIES = 7


def in_acme(acme, fn):
    with tenant_context(acme):
        result = fn()
    connection.set_schema_to_public()
    return result


def as_ceo(fn):
    def run():
        return fn(User.objects.get(email="ceo@acme.example"))

    return run


def set_questions(acme, questions: list[str]) -> None:
    in_acme(
        acme,
        as_ceo(
            lambda ceo: okr_method_settings_update(
                actor=ceo, checkin_questions=questions, default_cadence="biweekly"
            )
        ),
    )


def set_prompts(acme, prompts: list[str]) -> None:
    in_acme(acme, as_ceo(lambda ceo: review_prompts_update(actor=ceo, review_prompts=prompts)))


def sre_key_result(acme) -> KeyResult:
    return in_acme(
        acme, lambda: KeyResult.objects.filter(owner__email="sre@acme.example").order_by("pk").first()
    )


def stored_prompts(acme) -> list:
    return in_acme(acme, lambda: review_settings().review_prompts)


# --- Check-in questions ------------------------------------------------------------------------------------


def test_the_check_in_form_shows_the_questions_above_the_note(acme, acme_client):
    set_questions(acme, QUESTIONS)
    kr = sre_key_result(acme)
    sign_in(acme_client, acme, "sre@acme.example")
    for extra in ({}, htmx()):
        html = acme_client.get(f"/key-results/{kr.pk}/check-in/", **extra).content.decode()
        block = html[html.index('data-testid="check-in-questions"') :]
        assert [block.index(question) for question in QUESTIONS] == sorted(
            block.index(question) for question in QUESTIONS
        )
        assert block.index(QUESTIONS[-1]) < block.index('name="what_moved"')
        assert f'aria-describedby="check-in-questions-{kr.pk}"' in html


def test_without_questions_the_check_in_form_is_as_before(acme, acme_client):
    set_questions(acme, [])
    kr = sre_key_result(acme)
    sign_in(acme_client, acme, "sre@acme.example")
    html = acme_client.get(f"/key-results/{kr.pk}/check-in/").content.decode()
    assert 'data-testid="check-in-questions"' not in html
    assert 'aria-describedby="check-in-questions' not in html


def test_the_questions_cost_no_query_per_question(acme, acme_client):
    kr = sre_key_result(acme)
    sign_in(acme_client, acme, "sre@acme.example")
    set_questions(acme, QUESTIONS[:1])
    _, one = get_counting(acme_client, f"/key-results/{kr.pk}/check-in/", **htmx())
    set_questions(acme, [f"Question {n}?" for n in range(20)])
    response, twenty = get_counting(acme_client, f"/key-results/{kr.pk}/check-in/", **htmx())
    assert response.content.decode().count("Question ") == 20
    assert one == twenty


def test_questions_are_refused_to_non_admins_and_nothing_changes(acme):
    set_questions(acme, QUESTIONS)

    def run():
        for local in ("cto", "sre", "board"):
            actor = User.objects.get(email=f"{local}@acme.example")
            with pytest.raises(PermissionDenied):
                okr_method_settings_update(actor=actor, checkin_questions=["Mine?"], default_cadence="weekly")
        return okr_settings().checkin_questions, okr_settings().default_cadence

    assert in_acme(acme, run) == (QUESTIONS, "biweekly")


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        ("not a list", "Give a list of texts."),
        ([1, 2], "Give a list of texts."),
        (["ok", "bad\x00"], "Line 2 contains a character that is not allowed."),
    ],
)
def test_questions_given_to_the_service_directly_are_checked(acme, questions, message):
    from django.core.exceptions import ValidationError

    def run():
        ceo = User.objects.get(email="ceo@acme.example")
        with pytest.raises(ValidationError) as error:
            okr_method_settings_update(actor=ceo, checkin_questions=questions, default_cadence="weekly")
        return error.value.message_dict

    assert in_acme(acme, run) == {"checkin_questions": [message]}


# --- Review prompts -------------------------------------------------------------------------------------


def pending_review(acme) -> Review:
    """cs.lead's review in the demo data: pending, so cs.lead gets the self-review form."""
    return in_acme(acme, lambda: Review.objects.get(participant__email="cs.lead@acme.example"))


def test_the_self_review_form_shows_the_prompts(acme, acme_client):
    review = pending_review(acme)
    assert review.state == Review.State.PENDING
    sign_in(acme_client, acme, "cs.lead@acme.example")
    set_prompts(acme, [])
    response, without = get_counting(acme_client, f"/reviews/{review.pk}/")
    assert 'data-testid="review-prompts"' not in response.content.decode()

    set_prompts(acme, PROMPTS)
    response, with_prompts = get_counting(acme_client, f"/reviews/{review.pk}/")

    html = response.content.decode()
    form = html[html.index('data-testid="self-review-form"') :]
    assert form.index('data-testid="review-prompts"') < form.index('name="went_well"')
    assert form.index(PROMPTS[0]) < form.index(PROMPTS[1]) < form.index('name="went_well"')
    assert with_prompts == without  # the settings row was read anyway


def test_the_prompts_are_not_shown_to_who_does_not_write_the_self_review(acme, acme_client):
    set_prompts(acme, PROMPTS)
    review = pending_review(acme)
    sign_in(acme_client, acme, "ceo@acme.example")  # cs.lead's manager: no self-review form
    html = acme_client.get(f"/reviews/{review.pk}/").content.decode()
    assert 'data-testid="self-review-form"' not in html
    assert PROMPTS[0] not in html


def test_review_settings_page_has_the_prompts_form(acme, acme_client):
    set_prompts(acme, PROMPTS)
    sign_in(acme_client, acme, "ceo@acme.example")
    response, queries = get_counting(acme_client, "/settings/reviews/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="review-prompts-form"' in html
    assert '<label for="id_review_prompts">' in html
    assert "\n".join(PROMPTS) + "</textarea>" in html
    assert queries == REVIEW_SETTINGS_QUERIES


def test_saving_the_prompts(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    response = acme_client.post(PROMPTS_URL, {"review_prompts": "  First?  \r\n\r\nSecond?\r\n"}, follow=True)
    assert response.redirect_chain == [("/settings/reviews/", 302)]
    assert "Self-review prompts saved." in response.content.decode()
    assert stored_prompts(acme) == ["First?", "Second?"]


def test_too_many_or_too_long_prompts_are_a_422_and_change_nothing(acme, acme_client):
    set_prompts(acme, PROMPTS)
    sign_in(acme_client, acme, "ceo@acme.example")
    too_many = acme_client.post(PROMPTS_URL, {"review_prompts": "\n".join(f"P{n}?" for n in range(21))})
    too_long = acme_client.post(PROMPTS_URL, {"review_prompts": "x" * 501})
    assert too_many.status_code == too_long.status_code == 422
    assert "Give at most 20, one per line (there are 21)." in too_many.content.decode()
    assert "Line 1 is longer than 500 characters." in too_long.content.decode()
    assert 'data-testid="field-error-review_prompts"' in too_long.content.decode()
    assert 'data-testid="review-settings-form"' in too_long.content.decode()  # the page as a whole
    assert stored_prompts(acme) == PROMPTS


@pytest.mark.parametrize("email", ["cto@acme.example", "sre@acme.example", "board@acme.example"])
def test_non_admins_cannot_change_the_prompts(acme, acme_client, email):
    set_prompts(acme, PROMPTS)
    sign_in(acme_client, acme, email)
    assert acme_client.post(PROMPTS_URL, {"review_prompts": "Mine?"}).status_code == 403
    assert acme_client.get(PROMPTS_URL).status_code in {403, 405}
    assert stored_prompts(acme) == PROMPTS


def test_the_prompts_url_takes_only_posts(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    assert acme_client.get(PROMPTS_URL).status_code == 405


# --- Default cadence of new cycles --------------------------------------------------------------------------


def set_cadence(acme, cadence: str) -> None:
    in_acme(
        acme,
        as_ceo(
            lambda ceo: okr_method_settings_update(actor=ceo, checkin_questions=[], default_cadence=cadence)
        ),
    )


def test_a_new_cycle_starts_with_the_default_cadence_unless_one_is_given(acme):
    set_cadence(acme, "monthly")

    def run(ceo):
        start = Cycle.objects.order_by("-end_date").first().end_date + timedelta(days=1)
        end = start + timedelta(days=89)
        default = cycle_create(actor=ceo, name="Later", kind="custom", start_date=start, end_date=end)
        chosen = cycle_create(
            actor=ceo, name="Later, weekly", kind="custom", start_date=start, end_date=end, cadence="weekly"
        )
        started, _ = okr_cycle_start(actor=ceo, name="Started", kind="custom", start_date=start, end_date=end)
        return default.cadence, chosen.cadence, started.cadence

    assert in_acme(acme, as_ceo(run)) == ("monthly", "weekly", "monthly")


def test_the_cycle_form_starts_at_the_default_cadence(acme, acme_client):
    set_cadence(acme, "weekly")
    sign_in(acme_client, acme, "ceo@acme.example")
    html = acme_client.get("/settings/cycles/").content.decode()
    cadence = html[html.index('name="cadence"') :]
    cadence = cadence[: cadence.index("</select>")]
    assert '<option value="weekly" selected>' in cadence
    assert "selected" not in cadence.replace('<option value="weekly" selected>', "")
