"""Alignment as a two-way commitment (method §3): propose, then accept or decline."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.notifications import notify
from okrs import permissions
from okrs.models import AlignmentProposal, KeyResult, Objective
from okrs.recalculation import Clock, refresh_objective_chain
from okrs.services.common import require

_ANCESTORS_SQL = """
    WITH RECURSIVE up(id, depth) AS (
        SELECT %s::bigint, 0
        UNION
        SELECT COALESCE(o.parent_objective_id, k.objective_id), up.depth + 1
        FROM up JOIN okrs_objective o ON o.id = up.id
        LEFT JOIN okrs_keyresult k ON k.id = o.parent_key_result_id
        WHERE COALESCE(o.parent_objective_id, k.objective_id) IS NOT NULL AND up.depth < 64
    )
    SELECT id FROM up
"""


def _ancestor_ids(objective_id: int) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(_ANCESTORS_SQL, [objective_id])
        return {row[0] for row in cursor.fetchall()}


def _validate_parent(
    child: Objective, parent_objective: Objective | None, parent_kr: KeyResult | None
) -> Objective:
    if (parent_objective is None) == (parent_kr is None):
        raise ValidationError(_("Choose either a parent objective or a parent key result."))
    target = parent_objective or parent_kr.objective
    if target.pk == child.pk:
        raise ValidationError(_("An objective cannot align to itself or to its own key results."))
    if target.state == Objective.State.ARCHIVED:
        raise ValidationError(_("“%(parent)s” is archived; choose a current objective.") % {"parent": target})
    if target.cycle_id not in {child.cycle_id, child.cycle.parent_id}:
        raise ValidationError(
            _("Align to an objective of the same cycle or of the year it belongs to (a quarter to its year).")
        )
    if child.pk in _ancestor_ids(target.pk):
        raise ValidationError(
            _("“%(parent)s” already contributes to “%(child)s”; aligning back would make a loop.")
            % {"parent": target, "child": child}
        )
    return target


@transaction.atomic
def alignment_propose(
    *,
    child: Objective,
    actor: User,
    parent_objective: Objective | None = None,
    parent_key_result: KeyResult | None = None,
    message: str = "",
) -> AlignmentProposal:
    """Propose ``child`` as a contribution to a parent. When the proposer may decide
    for the parent (its owner, or an org admin) it is accepted at once."""
    require(
        permissions.can_edit_objective(actor, child),
        _("Only the objective's owner can propose its alignment."),
    )
    _validate_parent(child, parent_objective, parent_key_result)
    AlignmentProposal.objects.filter(child=child, state=AlignmentProposal.State.PROPOSED).update(
        state=AlignmentProposal.State.WITHDRAWN, decided_by=actor, decided_at=timezone.now()
    )
    proposal = AlignmentProposal.objects.create(
        child=child,
        parent_objective=parent_objective,
        parent_key_result=parent_key_result,
        message=message.strip(),
        proposed_by=actor,
    )
    if permissions.can_decide_alignment(actor, proposal):
        return alignment_accept(proposal=proposal, actor=actor)
    parent = parent_objective or parent_key_result
    notify(
        user=parent.owner, kind="alignment_proposed", subject_key=f"proposal:{proposal.pk}",
        period="proposed",
        title=_("%(p)s proposes that “%(child)s” contributes to “%(parent)s”") % {
            "p": actor.get_full_name(), "child": child.title, "parent": parent.title,
        },
        body=proposal.message, link=f"/objectives/{child.pk}/",
    )  # fmt: skip
    return proposal


def _tell_proposer(proposal: AlignmentProposal) -> None:
    if proposal.proposed_by_id == proposal.decided_by_id:
        return
    notify(
        user=proposal.proposed_by, kind="alignment_decided", subject_key=f"proposal:{proposal.pk}",
        period=proposal.state,
        title=_("Your alignment of “%(child)s” was %(state)s") % {
            "child": proposal.child.title, "state": proposal.get_state_display().lower(),
        },
        body=proposal.response, link=f"/objectives/{proposal.child_id}/",
    )  # fmt: skip


def alignment_decide_check(*, actor: User, proposal: AlignmentProposal) -> None:
    """Refuse (403) unless ``actor`` may accept or decline ``proposal`` (the parent's owner,
    org admins): the service asks this, and the API before reading the input."""
    require(permissions.can_decide_alignment(actor, proposal), _("Only the parent's owner can decide."))


def _decide(proposal: AlignmentProposal, actor: User) -> AlignmentProposal:
    proposal = (
        AlignmentProposal.objects.select_for_update(of=("self",))
        .select_related("child__cycle", "parent_objective", "parent_key_result__objective")
        .get(pk=proposal.pk)
    )
    alignment_decide_check(actor=actor, proposal=proposal)
    if proposal.state != AlignmentProposal.State.PROPOSED:
        raise ValidationError(
            _("This proposal was already %(state)s.") % {"state": proposal.get_state_display().lower()}
        )
    return proposal


@transaction.atomic
def alignment_accept(*, proposal: AlignmentProposal, actor: User, response: str = "") -> AlignmentProposal:
    proposal = _decide(proposal, actor)
    child = (
        Objective.objects.select_for_update(of=("self",)).select_related("cycle").get(pk=proposal.child_id)
    )
    _validate_parent(child, proposal.parent_objective, proposal.parent_key_result)
    previous_parent = child.parent_objective_id or (
        child.parent_key_result.objective_id if child.parent_key_result_id else None
    )
    AlignmentProposal.objects.filter(child=child, state=AlignmentProposal.State.ACCEPTED).update(
        state=AlignmentProposal.State.SUPERSEDED
    )
    proposal.state, proposal.response = AlignmentProposal.State.ACCEPTED, response.strip()
    proposal.decided_by, proposal.decided_at = actor, timezone.now()
    proposal.save()
    child.parent_objective, child.parent_key_result = proposal.parent_objective, proposal.parent_key_result
    child._history_user = actor
    child.save(update_fields=["parent_objective", "parent_key_result", "updated_at"])
    _tell_proposer(proposal)
    clock = Clock.current()
    if clock.rollup_children:
        if previous_parent:
            refresh_objective_chain(previous_parent, clock)
        refresh_objective_chain(child.pk, clock)
    return proposal


@transaction.atomic
def alignment_decline(*, proposal: AlignmentProposal, actor: User, response: str) -> AlignmentProposal:
    proposal = _decide(proposal, actor)
    if not (response or "").strip():
        raise ValidationError({"response": [_("Say why, so the owner can adjust the objective.")]})
    proposal.state, proposal.response = AlignmentProposal.State.DECLINED, response.strip()
    proposal.decided_by, proposal.decided_at = actor, timezone.now()
    proposal.save()
    _tell_proposer(proposal)
    return proposal


@transaction.atomic
def alignment_withdraw(*, proposal: AlignmentProposal, actor: User) -> AlignmentProposal:
    require(permissions.can_edit_objective(actor, proposal.child))
    if proposal.state != AlignmentProposal.State.PROPOSED:
        raise ValidationError(_("Only an open proposal can be withdrawn."))
    proposal.state, proposal.decided_by, proposal.decided_at = (
        AlignmentProposal.State.WITHDRAWN,
        actor,
        timezone.now(),
    )
    proposal.save()
    return proposal
