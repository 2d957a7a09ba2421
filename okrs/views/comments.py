"""Comments on the objective page: add (HTMX swaps the section in place; without
JavaScript a plain POST comes back to the page) and delete."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.ui import add_service_errors, hx_trigger, is_htmx, mark_invalid_fields
from okrs import permissions
from okrs.forms.comments import CommentForm
from okrs.models import Objective
from okrs.models_comments import ObjectiveComment
from okrs.selectors.comments import comments_of
from okrs.services.comments import comment_add, comment_delete
from okrs.views.common import visible_objective_or_404


def comment_section(user: User, objective: Objective, *, form: CommentForm | None = None) -> dict:
    """The context of ``okrs/objective_comments.html`` (one query): the comments, and the
    form for those who may comment."""
    can_comment = permissions.can_comment_on_objective(user, objective)
    return {
        "objective": objective,
        "comments": comments_of(user, objective),
        "comment_form": (form or CommentForm()) if can_comment else None,
    }


def _section(request, objective: Objective, *, form: CommentForm | None = None, status: int = 200):
    context = comment_section(request.user, objective, form=form)
    return render(request, "okrs/objective_comments.html", context, status=status)


def _back_to_comments(objective_id: int) -> str:
    return f"{reverse('objective', args=[objective_id])}#comments"


@login_required
@require_POST
def objective_comment_add(request, pk: int):
    objective = visible_objective_or_404(request.user, pk)
    if not permissions.can_comment_on_objective(request.user, objective):
        raise PermissionDenied(_("Only people who can see this objective and change OKRs can comment on it."))
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            comment_add(objective=objective, actor=request.user, body=form.cleaned_data["body"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if is_htmx(request):
                return hx_trigger(_section(request, objective), **{"okr:toast": _("Comment added.")})
            messages.success(request, _("Comment added."))
            return redirect(_back_to_comments(objective.pk))
    mark_invalid_fields(form)
    if is_htmx(request):
        return _section(request, objective, form=form, status=422)
    from okrs.views.objective_page import render_objective_page  # that page includes this section

    return render_objective_page(request, objective, status=422, comment_form=form)


@login_required
@require_POST
def objective_comment_delete(request, pk: int):
    comment = (
        ObjectiveComment.objects.select_related("objective__cycle", "objective__owner", "objective__team")
        .filter(pk=pk)
        .first()
    )
    if comment is None or not permissions.can_view_objective(request.user, comment.objective):
        raise Http404
    if not permissions.can_delete_comment(request.user, comment):
        raise PermissionDenied(_("Only the comment's author or an org admin can delete it."))
    objective = comment.objective
    comment_delete(comment=comment, actor=request.user)
    if is_htmx(request):
        return hx_trigger(_section(request, objective), **{"okr:toast": _("Comment deleted.")})
    messages.success(request, _("Comment deleted."))
    return redirect(_back_to_comments(objective.pk))


urlpatterns = [
    path("objectives/<int:pk>/comments/", objective_comment_add, name="objective_comment_add"),
    path("comments/<int:pk>/delete/", objective_comment_delete, name="objective_comment_delete"),
]
