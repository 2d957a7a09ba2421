"""Alignment as a two-way commitment: propose → accept / decline, history kept."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from okrs.models import AlignmentProposal, Objective
from okrs.services.alignment import alignment_accept, alignment_decline, alignment_propose, alignment_withdraw
from okrs.services.objectives import key_result_create, objective_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(people, year):
    return objective_create(
        actor=people.ceo, cycle=year, owner=people.cto, title="Best platform", level="company"
    )


@pytest.fixture
def team(people, quarter):
    return objective_create(actor=people.lead, cycle=quarter, owner=people.lead, title="Faster deploys")


def test_proposal_waits_for_the_parent_owner(people, company, team):
    proposal = alignment_propose(
        child=team, actor=people.lead, parent_objective=company, message="Speed helps"
    )

    assert proposal.state == "proposed"
    assert Objective.objects.get(pk=team.pk).parent_objective_id is None


def test_parent_owner_accepts_and_the_link_counts(people, company, team):
    proposal = alignment_propose(child=team, actor=people.lead, parent_objective=company)

    alignment_accept(proposal=proposal, actor=people.cto, response="Yes")

    proposal.refresh_from_db()
    assert (proposal.state, proposal.decided_by, proposal.response) == ("accepted", people.cto, "Yes")
    assert Objective.objects.get(pk=team.pk).parent_objective_id == company.pk


def test_decline_needs_a_reason_and_keeps_the_history(people, company, team):
    proposal = alignment_propose(child=team, actor=people.lead, parent_objective=company)

    with pytest.raises(ValidationError, match="Say why"):
        alignment_decline(proposal=proposal, actor=people.cto, response=" ")
    alignment_decline(proposal=proposal, actor=people.cto, response="Belongs under reliability")

    assert AlignmentProposal.objects.get(pk=proposal.pk).state == "declined"
    assert Objective.objects.get(pk=team.pk).parent_objective_id is None


def test_only_the_parent_owner_or_an_admin_decides(people, company, team):
    proposal = alignment_propose(child=team, actor=people.lead, parent_objective=company)

    with pytest.raises(PermissionDenied):
        alignment_accept(proposal=proposal, actor=people.lead)
    with pytest.raises(PermissionDenied):
        alignment_accept(proposal=proposal, actor=people.analyst)
    assert AlignmentProposal.objects.get(pk=proposal.pk).state == "proposed"

    alignment_accept(proposal=proposal, actor=people.ceo)  # org admin
    assert AlignmentProposal.objects.get(pk=proposal.pk).state == "accepted"


def test_proposal_to_my_own_objective_is_accepted_at_once(people, company, quarter):
    mine = objective_create(actor=people.cto, cycle=quarter, owner=people.cto, title="CTO quarter")

    proposal = alignment_propose(child=mine, actor=people.cto, parent_objective=company)

    assert proposal.state == "accepted"


def test_aligning_to_a_key_result(people, company, team):
    kr = key_result_create(
        actor=people.cto, objective=company, title="p95 5→1 min", kind="decrease", start=5, target=1
    )

    proposal = alignment_propose(child=team, actor=people.lead, parent_key_result=kr)
    alignment_accept(proposal=proposal, actor=people.cto)

    assert Objective.objects.get(pk=team.pk).parent_key_result_id == kr.pk


def test_a_new_accepted_alignment_supersedes_the_old_one(people, company, team, year):
    other = objective_create(
        actor=people.cto, cycle=year, owner=people.cto, title="Reliability", level="company"
    )
    alignment_accept(
        proposal=alignment_propose(child=team, actor=people.lead, parent_objective=company), actor=people.cto
    )

    alignment_accept(
        proposal=alignment_propose(child=team, actor=people.lead, parent_objective=other), actor=people.cto
    )

    states = list(AlignmentProposal.objects.filter(child=team).order_by("id").values_list("state", flat=True))
    assert states == ["superseded", "accepted"]
    assert Objective.objects.get(pk=team.pk).parent_objective_id == other.pk


def test_alignment_loops_are_refused(people, quarter):
    a = objective_create(actor=people.lead, cycle=quarter, owner=people.lead, title="A")
    b = objective_create(actor=people.lead, cycle=quarter, owner=people.lead, title="B")
    alignment_propose(child=b, actor=people.lead, parent_objective=a)  # own parent: accepted

    with pytest.raises(ValidationError, match="make a loop"):
        alignment_propose(child=a, actor=people.lead, parent_objective=b)
    with pytest.raises(ValidationError, match="itself"):
        alignment_propose(child=a, actor=people.lead, parent_objective=a)


def test_alignment_across_unrelated_cycles_is_refused(people, team):
    from datetime import date

    from okrs.services.cycles import cycle_create

    other_year = cycle_create(
        actor=people.ceo,
        name="FY2027",
        kind="annual",
        start_date=date(2027, 1, 1),
        end_date=date(2027, 12, 31),
    )
    future = objective_create(actor=people.cto, cycle=other_year, owner=people.cto, title="Next year")

    with pytest.raises(ValidationError, match="same cycle or of the year"):
        alignment_propose(child=team, actor=people.lead, parent_objective=future)


def test_withdraw_and_one_open_proposal_per_objective(people, company, team, year):
    other = objective_create(
        actor=people.analyst, cycle=year, owner=people.analyst, title="Other", level="company"
    )
    first = alignment_propose(child=team, actor=people.lead, parent_objective=company)

    second = alignment_propose(child=team, actor=people.lead, parent_objective=other)
    alignment_withdraw(proposal=second, actor=people.lead)

    assert AlignmentProposal.objects.get(pk=first.pk).state == "withdrawn"
    assert AlignmentProposal.objects.get(pk=second.pk).state == "withdrawn"
    with pytest.raises(ValidationError, match="Only an open proposal"):
        alignment_withdraw(proposal=AlignmentProposal.objects.get(pk=second.pk), actor=people.lead)


def test_both_sides_are_told(people, company, team):
    from accounts.models import InboxItem

    proposal = alignment_propose(
        child=team, actor=people.lead, parent_objective=company, message="Speed helps"
    )
    alignment_decline(proposal=proposal, actor=people.cto, response="Belongs under reliability")

    asked = InboxItem.objects.get(user=people.cto, kind="alignment_proposed")
    answered = InboxItem.objects.get(user=people.lead, kind="alignment_decided")
    assert asked.title == "Linus Chen proposes that “Faster deploys” contributes to “Best platform”"
    assert asked.body == "Speed helps"
    assert answered.title == "Your alignment of “Faster deploys” was declined"
    assert answered.body == "Belongs under reliability"
