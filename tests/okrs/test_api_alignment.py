"""/api/v1/alignment-proposals/: visible when the proposed objective is visible or you
decide; propose / accept / decline / withdraw through the alignment services."""

from __future__ import annotations

import pytest

from accounts.models import User
from okrs.models import AlignmentProposal, Cycle, KeyResult, Objective
from okrs.services.alignment import alignment_propose
from tests.api_helpers import count_queries, session_api, tenant, token_api

pytestmark = pytest.mark.django_db

URL = "/api/v1/alignment-proposals/"
SRE, GROWTH_LEAD, ANALYST, CEO, VIEWER = (
    "sre@acme.example", "growth.lead@acme.example", "analyst@acme.example", "ceo@acme.example",
    "board@acme.example",
)  # fmt: skip
REFERRALS = "Referral sign-ups from 3k to 9k a month"  # a KR of the growth lead's objective


def sre_objective(organization, *, visibility: str = "organization") -> Objective:
    def make():
        sre = User.objects.get(email=SRE)
        return Objective.objects.create(
            title="Alert quality feeds referrals", cycle=Cycle.objects.get(kind="quarter"), owner=sre,
            team=sre.team, visibility=visibility, state="active",
        )  # fmt: skip

    return tenant(organization, make)


def referrals(organization) -> KeyResult:
    return tenant(organization, lambda: KeyResult.objects.get(title=REFERRALS))


def proposals(organization) -> list[tuple]:
    return tenant(
        organization,
        lambda: list(
            AlignmentProposal.objects.order_by("id").values_list("id", "state", "response", "child_id")
        ),
    )


def propose(organization, child: Objective, **parent) -> AlignmentProposal:
    def make():
        return alignment_propose(
            child=Objective.objects.select_related("cycle").get(pk=child.pk),
            actor=User.objects.get(email=SRE),
            message="Fewer pages, happier customers.",
            **parent,
        )

    return tenant(organization, make)


# --- Reading ----------------------------------------------------------------------------------------


def test_list_shows_the_demo_proposals_with_the_bi_fields(acme):
    response = session_api(acme, ANALYST).get(URL)

    assert response.status_code == 200
    rows = response.json()["results"]
    assert len(rows) == tenant(acme, AlignmentProposal.objects.count)
    (open_one,) = [r for r in rows if r["state"] == "proposed"]
    cs_lead = tenant(acme, lambda: User.objects.get(email="cs.lead@acme.example"))
    assert set(open_one) == {
        "id", "child", "parent_objective", "parent_key_result", "state", "message", "proposed_by", "response",
        "decided_by", "decided_at", "created_at",
    }  # fmt: skip
    assert open_one["proposed_by"] == {
        "id": cs_lead.pk,
        "full_name": "Zhang Wei",
        "email": "cs.lead@acme.example",
    }
    assert (open_one["decided_by"], open_one["decided_at"], open_one["parent_key_result"]) == (
        None,
        None,
        None,
    )
    filtered = session_api(acme, ANALYST).get(f"{URL}?state=proposed").json()["results"]
    assert [r["id"] for r in filtered] == [open_one["id"]]


def test_a_private_childs_proposal_is_seen_by_whoever_decides_but_not_by_others(acme):
    child = sre_objective(acme, visibility="private")
    proposal = propose(acme, child, parent_key_result=referrals(acme))
    url = f"{URL}{proposal.pk}/"

    assert session_api(acme, GROWTH_LEAD).get(url).status_code == 200  # owns the parent
    assert session_api(acme, "platform.lead@acme.example").get(url).status_code == 200  # the SRE's manager
    assert session_api(acme, ANALYST).get(url).status_code == 404
    assert proposal.pk not in {r["id"] for r in session_api(acme, ANALYST).get(URL).json()["results"]}
    assert proposal.pk in {r["id"] for r in session_api(acme, GROWTH_LEAD).get(URL).json()["results"]}


def test_list_query_count_is_constant(acme):
    def make():
        sre = User.objects.get(email=SRE)
        cycle = Cycle.objects.get(kind="quarter")
        parent = Objective.objects.get(title__startswith="Grow where")
        children = Objective.objects.bulk_create(
            Objective(title=f"Child {n}", cycle=cycle, owner=sre) for n in range(105)
        )
        AlignmentProposal.objects.bulk_create(
            AlignmentProposal(child=c, parent_objective=parent, proposed_by=sre) for c in children
        )

    tenant(acme, make)
    client = session_api(acme, GROWTH_LEAD)

    small, small_count = count_queries(lambda: client.get(f"{URL}?page_size=10"))
    large, large_count = count_queries(lambda: client.get(f"{URL}?page_size=100"))

    assert (len(small.json()["results"]), len(large.json()["results"])) == (10, 100)
    # host lookup (3), session, user, proposals with proposer and decider (the reporting lines are a subquery)
    assert small_count == large_count == 6


# --- Proposing and deciding ---------------------------------------------------------------------------


def test_propose_then_the_parents_owner_accepts(acme):
    child = sre_objective(acme)
    kr = referrals(acme)

    proposed = session_api(acme, SRE).post(
        URL, {"child": child.pk, "parent_key_result": kr.pk, "message": "Fewer pages"}, format="json"
    )
    accepted = session_api(acme, GROWTH_LEAD).post(
        f"{URL}{proposed.json()['id']}/accept/", {"response": "Yes!"}
    )

    assert proposed.status_code == 201, proposed.json()
    assert (proposed.json()["state"], proposed.json()["parent_key_result"], proposed.json()["message"]) == (
        "proposed", kr.pk, "Fewer pages",
    )  # fmt: skip
    assert accepted.status_code == 200, accepted.json()
    assert (accepted.json()["state"], accepted.json()["response"]) == ("accepted", "Yes!")
    assert accepted.json()["decided_by"]["email"] == GROWTH_LEAD
    saved = tenant(acme, lambda: Objective.objects.get(pk=child.pk))
    assert (saved.parent_key_result_id, saved.parent_objective_id) == (kr.pk, None)


def test_a_proposal_the_proposer_may_decide_is_accepted_at_once(acme):
    child = sre_objective(acme)
    growth = tenant(acme, lambda: Objective.objects.get(title__startswith="Grow where"))

    response = session_api(acme, CEO).post(
        URL, {"child": child.pk, "parent_objective": growth.pk}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["state"] == "accepted"


def test_decline_needs_a_reason(acme):
    proposal = propose(acme, sre_objective(acme), parent_key_result=referrals(acme))
    client = session_api(acme, GROWTH_LEAD)
    before = proposals(acme)

    blank = client.post(f"{URL}{proposal.pk}/decline/", {"response": "  "}, format="json")
    missing = client.post(f"{URL}{proposal.pk}/decline/", {}, format="json")

    assert blank.status_code == 400
    assert blank.json()["fields"] == {"response": ["Say why, so the owner can adjust the objective."]}
    assert set(missing.json()["fields"]) == {"response"}
    assert proposals(acme) == before

    declined = client.post(f"{URL}{proposal.pk}/decline/", {"response": "Referrals are a Growth goal."})

    assert declined.status_code == 200
    assert (declined.json()["state"], declined.json()["response"]) == (
        "declined",
        "Referrals are a Growth goal.",
    )
    again = client.post(f"{URL}{proposal.pk}/accept/", {}, format="json")
    assert again.status_code == 400
    assert again.json()["detail"] == "This proposal was already declined."


def test_withdraw_by_the_childs_owner(acme):
    proposal = propose(acme, sre_objective(acme), parent_key_result=referrals(acme))
    before = proposals(acme)

    stranger = session_api(acme, GROWTH_LEAD).post(f"{URL}{proposal.pk}/withdraw/")
    assert stranger.status_code == 403
    assert proposals(acme) == before

    response = session_api(acme, SRE).post(f"{URL}{proposal.pk}/withdraw/")

    assert response.status_code == 200
    assert response.json()["state"] == "withdrawn"


def test_refusals_change_nothing(acme):
    child = sre_objective(acme)
    hidden = sre_objective(acme, visibility="private")
    proposal = propose(acme, child, parent_key_result=referrals(acme))
    growth = tenant(acme, lambda: Objective.objects.get(title__startswith="Grow where"))
    before = proposals(acme)

    not_decider = session_api(acme, SRE).post(f"{URL}{proposal.pk}/accept/", {}, format="json")
    not_owner = session_api(acme, ANALYST).post(
        URL, {"child": child.pk, "parent_objective": growth.pk}, format="json"
    )
    both = session_api(acme, SRE).post(
        URL,
        {"child": child.pk, "parent_objective": growth.pk, "parent_key_result": referrals(acme).pk},
        format="json",
    )
    invisible_parent = session_api(acme, ANALYST).post(
        URL, {"child": growth.pk, "parent_objective": hidden.pk}, format="json"
    )
    unknown = session_api(acme, SRE).post(
        URL, {"child": child.pk, "parent_objective": growth.pk, "state": "accepted"}, format="json"
    )
    to_itself = session_api(acme, SRE).post(
        URL, {"child": child.pk, "parent_objective": child.pk}, format="json"
    )
    viewer = session_api(acme, VIEWER).post(f"{URL}{proposal.pk}/decline/", {"response": "No"}, format="json")
    read_token = token_api(acme, GROWTH_LEAD, scope="read").post(
        f"{URL}{proposal.pk}/accept/", {}, format="json"
    )
    invisible = session_api(acme, ANALYST).post(f"{URL}999999/accept/", {}, format="json")

    assert not_decider.status_code == 403
    assert not_owner.status_code == 403
    assert both.status_code == 400
    assert both.json()["detail"] == "Choose either a parent objective or a parent key result."
    assert invisible_parent.status_code == 400
    assert set(invisible_parent.json()["fields"]) == {"parent_objective"}
    assert set(unknown.json()["fields"]) == {"state"}
    assert to_itself.status_code == 400
    assert (viewer.status_code, read_token.status_code, invisible.status_code) == (403, 403, 404)
    assert proposals(acme) == before
