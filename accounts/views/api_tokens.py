"""API tokens page: everyone manages their own tokens (org admins see everyone's, to revoke
a leaver's). A new token is shown once, in the response to its creation, never again."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.forms_api_tokens import ApiTokenForm
from accounts.permissions import can_list_all_api_tokens
from accounts.selectors_api_tokens import api_tokens_visible_to
from accounts.services_api_tokens import api_token_create, api_token_revoke
from accounts.ui import add_service_errors, mark_invalid_fields, redirect_with_message


def _page(request, form, *, created=None, status=200):
    mark_invalid_fields(form)
    tokens = list(api_tokens_visible_to(request.user))
    context = {
        "form": form,
        "created": created,
        "tokens": [t for t in tokens if t.user_id == request.user.pk],
        "others": [t for t in tokens if t.user_id != request.user.pk],
        "sees_all": can_list_all_api_tokens(request.user),
        "api_base": request.build_absolute_uri("/api/v1/"),
    }
    return render(request, "accounts/api_tokens.html", context, status=status)


@login_required
def api_tokens(request):
    if request.method != "POST":
        return _page(request, ApiTokenForm())
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            created = api_token_create(
                actor=request.user, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"],
                expires_at=form.expires_at(),
            )  # fmt: skip
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return _page(request, ApiTokenForm(), created=created, status=201)
    return _page(request, form, status=422)


@login_required
@require_POST
def api_token_revoke_view(request, pk: int):
    token = get_object_or_404(api_tokens_visible_to(request.user), pk=pk)
    api_token_revoke(actor=request.user, token=token)
    return redirect_with_message(
        request,
        reverse("api_tokens"),
        _("Token “%(name)s” revoked; it stops working now.") % {"name": token.name},
    )


urlpatterns = [
    path("api-tokens/", api_tokens, name="api_tokens"),
    path("api-tokens/<int:pk>/revoke/", api_token_revoke_view, name="api_token_revoke"),
]
