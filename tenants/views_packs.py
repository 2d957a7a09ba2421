"""The method pack pages of the consultant portal (public host): the library, creating a
pack, one pack (content of a version, history, my clients using it), publishing a new
version (maintainer only) and applying a version to one of my clients.

Reads come from ``tenants.selectors_packs``; writes go through ``tenants.method_packs``;
permission decisions are ``tenants.permissions`` functions. Content is edited as YAML: a
syntax error names its line, and nothing is saved until the whole content is valid."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.ui import add_service_errors, mark_invalid_fields
from okrs.models import Cycle, KeyResult
from tenants.method_packs import (
    MAX_NAME_LENGTH,
    MAX_SLUG_LENGTH,
    MAX_TEXT_LENGTH,
    method_pack_apply,
    method_pack_create,
    method_pack_publish,
)
from tenants.models import MethodPack, MethodPackVersion, Organization
from tenants.pack_content import (
    STARTER_CONTENT,
    PackContentField,
    pack_content_to_yaml,
    templates_by_function,
)
from tenants.permissions import can_create_method_pack, can_maintain_method_pack
from tenants.portal import consultant_required
from tenants.selectors_packs import (
    my_application,
    my_serving_clients,
    pack_by_slug,
    pack_clients,
    pack_rows,
    pack_versions,
)

RESULT_COUNTS = ("added", "updated", "unchanged", "kept", "removed")
SETTING_LABELS = {
    "at_risk_gap": gettext_lazy("“At risk” threshold"),
    "off_track_gap": gettext_lazy("“Off track” threshold"),
    "default_cadence": gettext_lazy("Check-in cadence"),
    "checkin_questions": gettext_lazy("Check-in questions"),
    "review_prompts": gettext_lazy("Review prompts"),
}


# --- Forms --------------------------------------------------------------------------------------------


class PackCreateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=MAX_NAME_LENGTH)
    slug = forms.SlugField(
        label=gettext_lazy("Short name"),
        max_length=MAX_SLUG_LENGTH,
        help_text=gettext_lazy("Lowercase letters, digits and hyphens; it names the pack in clients' data."),
    )
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, max_length=MAX_TEXT_LENGTH, widget=forms.Textarea(
            attrs={"rows": 3}
        )
    )  # fmt: skip
    content = PackContentField()


class PackPublishForm(forms.Form):
    content = PackContentField()
    notes = forms.CharField(
        label=gettext_lazy("What changed"), required=False, max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Shown in the version history, e.g. “New templates for customer success”."),
    )  # fmt: skip


class PackApplyForm(forms.Form):
    """A client among mine (assigned, serving) and a version of the pack. Choices come
    from lists the page already loaded, so rendering the form costs no query."""

    organization = forms.TypedChoiceField(label=gettext_lazy("Client"), coerce=int)
    version = forms.TypedChoiceField(label=gettext_lazy("Version"), coerce=int)

    def __init__(self, *args, clients: list[Organization], versions: list[MethodPackVersion], **kwargs):
        super().__init__(*args, **kwargs)
        self.clients = {client.pk: client for client in clients}
        self.versions = {version.pk: version for version in versions}
        self.fields["organization"].choices = [("", _("Choose a client"))] + [
            (client.pk, client.name) for client in clients
        ]
        self.fields["version"].choices = [
            (version.pk, _("Version %(number)d") % {"number": version.number}) for version in versions
        ]

    def clean(self):
        data = super().clean()
        if "organization" in data:
            data["organization"] = self.clients[data["organization"]]
        if "version" in data:
            data["version"] = self.versions[data["version"]]
        return data


# --- Display helpers ----------------------------------------------------------------------------------


def _number(value) -> str:
    if value is None:
        return "—"
    return number_format(value, decimal_pos=None if float(value) != int(value) else 0, use_l10n=True)


def kr_summary(row: dict) -> str:
    """A template key result's measure in words, e.g. "from 0 to 100 %"."""
    kind = row.get("kind")
    unit = row.get("unit") or KeyResult.Unit.NUMBER
    suffix = {
        KeyResult.Unit.PERCENT: " %",
        KeyResult.Unit.CURRENCY: f" {row.get('currency_code') or ''}".rstrip(),
    }.get(unit, "")
    if row.get("unit_label"):
        suffix = f"{suffix} {row['unit_label']}"
    values = {key: _number(row.get(key)) + suffix for key in ("start", "target", "low", "high")}
    if kind == "milestone":
        return _("reached or not")
    if kind == "stay_between":
        return _("stay between %(low)s and %(high)s") % values
    if kind == "stay_above":
        return _("stay at or above %(target)s") % values
    if kind == "stay_below":
        return _("stay at or below %(target)s") % values
    return _("from %(start)s to %(target)s") % values


def content_display(content: dict) -> dict:
    """What the pack page shows of a version's content."""
    groups = [
        (
            label,
            [
                {
                    **template,
                    "krs": [{**row, "summary": kr_summary(row)} for row in template.get("key_results") or []],
                }
                for template in templates
            ],
        )
        for label, templates in templates_by_function(content)
    ]
    cadence = content.get("cadence")
    return {
        "groups": groups,
        "template_count": len(content.get("templates") or []),
        "checkin_questions": content.get("checkin_questions") or [],
        "review_prompts": content.get("review_prompts") or [],
        "thresholds": content.get("thresholds"),
        "cadence": Cycle.Cadence(cadence).label if cadence in Cycle.Cadence.values else None,
    }


def kept_labels(items: list[str]) -> list[str]:
    """``["template sales-pipeline", "setting at_risk_gap"]`` in words."""
    labels = []
    for item in items:
        kind, _sep, name = item.partition(" ")
        if kind == "template":
            labels.append(_("Template “%(key)s”") % {"key": name})
        else:
            labels.append(str(SETTING_LABELS.get(name, name)))
    return labels


# --- Views --------------------------------------------------------------------------------------------


def _pack_or_404(slug: str) -> MethodPack:
    pack = pack_by_slug(slug)
    if pack is None:
        raise Http404(_("No such method pack."))
    return pack


@consultant_required
def packs_page(request):
    return render(
        request,
        "tenants/portal/packs.html",
        {"rows": pack_rows(request.user), "can_create": can_create_method_pack(request.user)},
    )


@consultant_required
@require_http_methods(["GET", "POST"])
def pack_create_page(request):
    if not can_create_method_pack(request.user):
        raise PermissionDenied(_("Only consultants and platform admins create method packs."))
    form = PackCreateForm(
        request.POST if request.method == "POST" else None,
        initial={"content": pack_content_to_yaml(STARTER_CONTENT)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            pack = method_pack_create(
                slug=data["slug"],
                name=data["name"],
                description=data["description"],
                content=data["content"],
                owner=request.user,
                actor=request.user,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Method pack “%(name)s” created as version 1.") % {"name": pack.name})
            return redirect("portal:pack", slug=pack.slug)
    mark_invalid_fields(form)
    status = 422 if form.errors else 200
    return render(request, "tenants/portal/packs_create.html", {"form": form}, status=status)


def _apply_form(request, versions: list[MethodPackVersion]) -> PackApplyForm:
    return PackApplyForm(
        request.POST if request.method == "POST" else None,
        clients=list(my_serving_clients(request.user)),
        versions=versions,
    )


def _render_pack(
    request, pack: MethodPack, versions: list[MethodPackVersion], apply_form: PackApplyForm, status: int = 200
):
    shown = versions[0] if versions else None
    requested = request.GET.get("version")
    if requested is not None:
        shown = next((v for v in versions if str(v.number) == requested), None)
        if shown is None:
            raise Http404(_("No such version."))
    applied = None
    if request.GET.get("applied", "").isdigit():
        applied = my_application(request.user, int(request.GET["applied"]))
    return render(
        request,
        "tenants/portal/packs_detail.html",
        {
            "pack": pack,
            "versions": versions,
            "shown": shown,
            "content": content_display(shown.content) if shown else None,
            "clients_using": pack_clients(request.user, pack),
            "can_maintain": can_maintain_method_pack(request.user, pack),
            "apply_form": apply_form,
            "has_clients": bool(apply_form.clients),
            "applied": applied,
            "applied_kept": kept_labels(applied.result.get("kept_items", [])) if applied else [],
        },
        status=status,
    )


@consultant_required
def pack_page(request, slug: str):
    pack = _pack_or_404(slug)
    versions = pack_versions(pack)
    return _render_pack(request, pack, versions, _apply_form(request, versions))


@consultant_required
@require_http_methods(["GET", "POST"])
def pack_publish_page(request, slug: str):
    pack = _pack_or_404(slug)
    if not can_maintain_method_pack(request.user, pack):
        raise PermissionDenied(_("Only the pack's maintainer (or a platform admin) publishes new versions."))
    latest = pack.versions.order_by("-number").first()
    form = PackPublishForm(
        request.POST if request.method == "POST" else None,
        initial={"content": pack_content_to_yaml(latest.content) if latest else ""},
    )
    if request.method == "POST" and form.is_valid():
        try:
            version = method_pack_publish(
                pack=pack, content=form.cleaned_data["content"], notes=form.cleaned_data["notes"],
                actor=request.user,
            )  # fmt: skip
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Version %(number)d of “%(name)s” published.")
                % {"number": version.number, "name": pack.name},
            )
            return redirect("portal:pack", slug=pack.slug)
    mark_invalid_fields(form)
    return render(
        request,
        "tenants/portal/packs_publish.html",
        {"pack": pack, "latest": latest, "form": form},
        status=422 if form.errors else 200,
    )


@consultant_required
@require_POST
def pack_apply_view(request, slug: str):
    pack = _pack_or_404(slug)
    versions = pack_versions(pack)
    form = _apply_form(request, versions)
    if form.is_valid():
        organization, version = form.cleaned_data["organization"], form.cleaned_data["version"]
        try:
            application = method_pack_apply(organization=organization, version=version, actor=request.user)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            counts = {name: application.result.get(name, 0) for name in RESULT_COUNTS}
            message = _(
                "“%(pack)s” version %(number)d applied to %(client)s: %(added)d added, "
                "%(updated)d updated, %(unchanged)d unchanged, %(kept)d kept as the client changed them, "
                "%(removed)d removed."
            ) % {"pack": pack.name, "number": version.number, "client": organization.name, **counts}
            messages.success(request, message)
            return redirect(f"{reverse('portal:pack', args=[pack.slug])}?applied={application.pk}")
    mark_invalid_fields(form)
    return _render_pack(request, pack, versions, form, status=422)
