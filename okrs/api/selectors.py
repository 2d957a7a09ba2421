"""Reads for the OKR API: querysets shaped for the output serializers (no query per
row), each applying the person's visibility exactly as the web UI does — built on
``okrs.selectors.objectives_visible_to`` (private objectives: owner, manager chain, team,
org admins), so a key result, check-in, initiative or escalation is visible when its
objective is."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from accounts.models import User
from accounts.permissions import can_write
from okrs.models import AlignmentProposal, CheckIn, Escalation, Initiative, KeyResult, Objective
from okrs.selectors import objectives_visible_to


def owner_candidates(user: User) -> QuerySet[User]:
    """People the objective, key result and KPI forms offer as owners: active, not viewers
    (whether ``user`` may choose them is the service's decision)."""
    return User.objects.filter(is_active=True).exclude(role=User.Role.VIEWER)


# What the output serializers read of a related person and team (PersonSummarySerializer,
# TeamSummarySerializer): loading only these columns keeps a page of 50 objectives with their
# key results from building ~250 full User rows (password hash, preferences …) it never shows.
PERSON_SUMMARY = ("id", "full_name", "email")
TEAM_SUMMARY = ("id", "name")


def _own_columns(model) -> list[str]:
    return [field.name for field in model._meta.concrete_fields]


def objectives_for_api(user: User, *, with_key_results: bool = False) -> QuerySet[Objective]:
    objectives = (
        objectives_visible_to(user)
        .select_related("owner", "team")
        .only(
            *_own_columns(Objective),
            *(f"owner__{name}" for name in PERSON_SUMMARY),
            *(f"team__{name}" for name in TEAM_SUMMARY),
        )
    )
    if with_key_results:
        key_results = (
            KeyResult.objects.select_related("owner")
            .only(*_own_columns(KeyResult), *(f"owner__{name}" for name in PERSON_SUMMARY))
            .order_by("position", "id")
        )
        objectives = objectives.prefetch_related(Prefetch("key_results", queryset=key_results))
    return objectives


def key_results_visible_to(user: User) -> QuerySet[KeyResult]:
    return KeyResult.objects.filter(objective__in=objectives_visible_to(user)).select_related(
        "owner", "objective__cycle"
    )


def check_in_rows() -> QuerySet[CheckIn]:
    """Check-ins with their author and KR, each with ``corrected`` (a later check-in
    replaces it)."""
    return CheckIn.objects.select_related("author", "key_result").annotate(
        corrected=Exists(CheckIn.objects.filter(corrects=OuterRef("pk")))
    )


def check_in_as_recorded(check_in: CheckIn) -> CheckIn:
    """A check-in just recorded, as ``check_in_rows`` would read it (author and KR loaded by
    the service): nothing corrects it yet."""
    check_in.corrected = False
    return check_in


def check_ins_visible_to(user: User) -> QuerySet[CheckIn]:
    """Check-ins of key results of visible objectives."""
    return check_in_rows().filter(key_result__objective__in=objectives_visible_to(user))


def initiatives_visible_to(user: User) -> QuerySet[Initiative]:
    return Initiative.objects.filter(key_result__objective__in=objectives_visible_to(user)).select_related(
        "owner", "key_result__objective"
    )


def escalations_visible_to(user: User) -> QuerySet[Escalation]:
    return Escalation.objects.filter(key_result__objective__in=objectives_visible_to(user)).select_related(
        "key_result", "acknowledged_by", "resolved_by"
    )


def proposals_visible_to(user: User) -> QuerySet[AlignmentProposal]:
    """Proposals whose proposed (child) objective ``user`` may see, or that ``user`` decides
    (the parent's owner) — as ``okrs.views.common.visible_proposal_or_404``."""
    proposals = AlignmentProposal.objects.select_related("proposed_by", "decided_by")
    if user.is_org_admin:
        return proposals
    visible = Q(child__in=objectives_visible_to(user))
    if can_write(user):
        visible |= Q(parent_objective__owner=user) | Q(parent_key_result__owner=user)
    return proposals.filter(visible)
