"""Review fixtures: the OKR fixtures (acme, its people, a year and a quarter of our
own) plus OKRs made through the OKR services and a review cycle of the quarter."""

from datetime import date

import pytest

from accounts.models import User
from okrs.models import Objective
from okrs.services.check_ins import check_in_record
from okrs.services.objectives import key_result_create, objective_create
from reviews.models import Review
from reviews.services import review_cycle_create, review_cycle_open
from tests.factories import UserFactory
from tests.okrs.conftest import *  # noqa: F403 - acme's people, a year and a quarter of our own
from tests.okrs.conftest import NOW


def fresh(instance):
    return type(instance).objects.get(pk=instance.pk)


@pytest.fixture
def consultant(in_acme) -> User:
    return UserFactory(email="coach@acme.example", role=User.Role.CONSULTANT)


@pytest.fixture
def deploys(people, quarter) -> Objective:
    """The SRE's objective (manager: the platform lead, whose manager is the CTO):
    two KRs with one check-in each."""
    objective = objective_create(
        actor=people.sre, cycle=quarter, owner=people.sre, title="Nobody is paged twice", state="active"
    )
    repeats = key_result_create(
        actor=people.sre, objective=objective, title="Repeat incidents 12 → 2", kind="decrease", start=12,
        target=2,
    )  # fmt: skip
    runbooks = key_result_create(
        actor=people.sre, objective=objective, title="Runbooks 0 → 20", kind="increase", start=0, target=20
    )
    check_in_record(key_result=repeats, actor=people.sre, value=7, confidence=7, now=NOW)
    check_in_record(key_result=runbooks, actor=people.sre, value=5, confidence=6, now=NOW)
    return fresh(objective)


@pytest.fixture
def checkin_review(people, quarter):
    return review_cycle_create(
        actor=people.ceo, cycle=quarter, kind="checkin_review", name="Mid-November check-in review",
        opens_on=date(2026, 11, 12), due_on=date(2026, 11, 15),
    )  # fmt: skip


@pytest.fixture
def review(people, deploys, checkin_review) -> Review:
    review_cycle_open(review_cycle=checkin_review, actor=people.ceo)
    return Review.objects.get(review_cycle=checkin_review, objective=deploys)
