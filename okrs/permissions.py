"""One function per permission decision, shared by the web UI and the API."""

from __future__ import annotations

from accounts.models import User
from accounts.permissions import can_write
from accounts.selectors import manages
from okrs.models import AlignmentProposal, KeyResult, Objective


def can_view_objective(user: User, objective: Objective) -> bool:
    if objective.visibility == Objective.Visibility.ORGANIZATION or user.is_org_admin:
        return True
    if objective.owner_id == user.pk or (user.team_id and objective.team_id == user.team_id):
        return True
    return manages(user, objective.owner_id)


def can_create_objective_for(user: User, owner: User) -> bool:
    if not can_write(user):
        return False
    return user.is_org_admin or owner.pk == user.pk or manages(user, owner.pk)


def _answers_for(user: User, objective: Objective) -> bool:
    """The objective's own side: its owner, their manager chain, an org admin."""
    return user.is_org_admin or objective.owner_id == user.pk or manages(user, objective.owner_id)


def can_edit_objective(user: User, objective: Objective) -> bool:
    """Change the objective and its key results (add, edit, initiatives, alignment): its own
    side; and a consultant coaching a draft (not yet active) they may see."""
    if not can_write(user):
        return False
    if _answers_for(user, objective):
        return True
    return (
        user.role == User.Role.CONSULTANT
        and objective.state == Objective.State.DRAFT
        and can_view_objective(user, objective)
    )


def can_change_objective_state(user: User, objective: Objective) -> bool:
    """Activate, close or archive: the objective's own side only. A consultant coaching a
    draft shapes it, but its owner's side decides when it starts (or is dropped)."""
    return can_write(user) and _answers_for(user, objective)


def can_check_in(user: User, key_result: KeyResult) -> bool:
    """The key result's owner or its objective's owner (or an org admin). A consultant
    checks in only on objectives they own: coaching a draft, or being named owner of one of
    its key results, does not make the numbers theirs to report."""
    if not can_write(user):
        return False
    if user.role == User.Role.CONSULTANT:
        return key_result.objective.owner_id == user.pk
    return user.is_org_admin or user.pk in {key_result.owner_id, key_result.objective.owner_id}


def can_manage_cycles(user: User) -> bool:
    return user.is_active and user.role in {User.Role.ORG_ADMIN, User.Role.CONSULTANT}


def can_comment_on_objective(user: User, objective: Objective) -> bool:
    """Write a comment on an objective: anyone who may see it and write (consultants
    included, viewers and deactivated people not)."""
    return can_write(user) and can_view_objective(user, objective)


def can_delete_comment(user: User, comment) -> bool:
    """Remove a comment: its author, or an org admin (moderation)."""
    return can_write(user) and (comment.author_id == user.pk or user.is_org_admin)


def can_decide_alignment(user: User, proposal: AlignmentProposal) -> bool:
    parent = proposal.parent_objective or proposal.parent_key_result
    return can_write(user) and (user.is_org_admin or parent.owner_id == user.pk)


def can_manage_kpi(user: User, owner_id: int) -> bool:
    return can_write(user) and (user.is_org_admin or owner_id == user.pk)


def can_view_health_dashboard(user: User) -> bool:
    """The OKR health dashboard (method §7) is for managers, org admins and consultants."""
    return user.is_active and user.role in {User.Role.MANAGER, User.Role.ORG_ADMIN, User.Role.CONSULTANT}


def can_set_initiative_done(user: User, initiative, *, can_edit: bool | None = None) -> bool:
    """The initiative's owner, or whoever may edit its objective (pass ``can_edit`` when that
    decision is already known, so a list of initiatives needs no query per row)."""
    if not can_write(user):
        return False
    if initiative.owner_id == user.pk:
        return True
    if can_edit is None:
        can_edit = can_edit_objective(user, initiative.key_result.objective)
    return can_edit


def can_acknowledge_escalation(user: User, escalation) -> bool:
    """Record an escalation's root cause: the KR's owner (or its objective's owner), their
    manager chain, or an org admin — the rule ``okrs.escalations.escalation_acknowledge`` applies."""
    key_result = escalation.key_result
    return can_check_in(user, key_result) or can_edit_objective(user, key_result.objective)


def can_resolve_escalation(user: User, escalation) -> bool:
    """Close an escalation with a decision: whoever may edit the objective (as
    ``okrs.escalations.escalation_resolve`` requires)."""
    return can_edit_objective(user, escalation.key_result.objective)
