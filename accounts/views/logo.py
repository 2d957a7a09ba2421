"""Settings — Logo (org admins): upload or remove the organisation's logo; and the logo
itself, served to the organisation's signed-in people at an address that changes with its
content (``accounts.logos``)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_tenants.utils import get_public_schema_name

from accounts.logos import (
    EXTENSIONS,
    HASH_IN_URL,
    MAX_BYTES,
    MAX_SIDE,
    current_logo,
    logo_url,
    organization_logo_remove,
    organization_logo_set,
)
from accounts.permissions import can_manage_organization_settings
from accounts.ui import mark_invalid_fields, redirect_with_message, require_permission


class LogoForm(forms.Form):
    image = forms.FileField(
        label=gettext_lazy("Logo image"),
        allow_empty_file=True,  # accounts.logos refuses it, saying which files are accepted
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["image"].help_text = _(
            "PNG, JPEG or WebP, at most %(kb)d KB and %(px)d×%(px)d pixels. It is shown in the header "
            "next to the organisation's name."
        ) % {"kb": MAX_BYTES // 1024, "px": MAX_SIDE}


def _page(request, form: LogoForm):
    mark_invalid_fields(form)
    logo = current_logo()
    context = {
        "tab": "logo",
        "form": form,
        "logo": logo,
        "current_logo_url": logo_url(logo.sha256, logo.content_type) if logo else "",
    }
    return render(request, "settings/logo.html", context, status=422 if form.errors else 200)


@require_permission(can_manage_organization_settings)
def logo_settings(request):
    if request.method != "POST":
        return _page(request, LogoForm())
    form = LogoForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            organization_logo_set(actor=request.user, upload=form.cleaned_data["image"])
        except ValidationError as error:
            form.add_error("image", error)
        else:
            return redirect_with_message(request, reverse("settings_logo"), _("Logo saved."))
    return _page(request, form)


@require_POST
@require_permission(can_manage_organization_settings)
def logo_remove(request):
    removed = organization_logo_remove(actor=request.user)
    text = _("Logo removed.") if removed else _("There was no logo to remove.")
    return redirect_with_message(request, reverse("settings_logo"), text)


@require_GET
def organization_logo(request, key: str, ext: str):
    """The logo's bytes, for the organisation's signed-in people; any other address (an old
    logo's, another organisation's) is a 404."""
    if not request.user.is_authenticated or connection.schema_name == get_public_schema_name():
        raise Http404
    logo = current_logo(with_content=True)
    if logo is None or logo.sha256[:HASH_IN_URL] != key or EXTENSIONS.get(ext) != logo.content_type:
        raise Http404
    response = HttpResponse(bytes(logo.content), content_type=logo.content_type)
    # The address names the content, so it never changes: cache it for a year (per browser).
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'inline; filename="logo.{ext}"'
    return response


urlpatterns = [
    path("settings/logo/", logo_settings, name="settings_logo"),
    path("settings/logo/remove/", logo_remove, name="settings_logo_remove"),
    # <key>: the first HASH_IN_URL hex digits of the SHA-256; <ext>: png, jpg or webp (checked by the view).
    path("logo/<str:key>.<str:ext>", organization_logo, name="organization_logo"),
]
