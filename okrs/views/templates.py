"""Settings — Method: the organisation's objective templates (grouped by function, with
the method pack each came from), the check-in questions and default cadence, and the
method packs applied here. Org admins only; everyone else gets a 403. (The self-review
prompts are on the review settings page: okrs does not write review settings.)"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import can_manage_organization_settings
from accounts.ui import add_service_errors, mark_invalid_fields, require_permission
from okrs.forms.objectives import raw_initial
from okrs.forms.settings import OkrMethodSettingsForm
from okrs.forms.templates import TemplateForm, template_rows_formset
from okrs.method import MAX_TEMPLATE_KEY_RESULTS
from okrs.models_method import ObjectiveTemplate
from okrs.selectors import okr_settings
from okrs.selectors.templates import (
    annotate_origin,
    applied_method_packs,
    objective_templates,
    templates_by_function,
)
from okrs.services.settings import okr_method_settings_update
from okrs.services.templates import template_create, template_delete, template_update


@require_permission(can_manage_organization_settings)
def method_page(request):
    """The templates, the applied packs and the method settings form (it posts here)."""
    settings = okr_settings()
    form = OkrMethodSettingsForm(request.POST if request.method == "POST" else None, settings=settings)
    if request.method == "POST" and form.is_valid():
        try:
            okr_method_settings_update(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Check-in questions and cadence saved."))
            return redirect("settings_method")
    mark_invalid_fields(form)
    templates = list(objective_templates())
    packs = list(applied_method_packs())
    annotate_origin(templates, packs)
    context = {
        "tab": "method",
        "form": form,
        "groups": templates_by_function(templates),
        "template_count": len(templates),
        "packs": packs,
    }
    return render(request, "settings/method.html", context, status=422 if form.errors else 200)


def _template_or_404(pk: int) -> ObjectiveTemplate:
    template = ObjectiveTemplate.objects.filter(pk=pk).first()
    if template is None:
        raise Http404
    return template


def _template_form_page(request, *, template: ObjectiveTemplate | None, save):
    """Create (``template`` None) or edit a template: the objective and its key result rows
    on one page. "Add a row" re-renders with one more row, saving nothing."""
    posted = request.POST if request.method == "POST" else None
    form = TemplateForm(posted, template=template)
    formset = template_rows_formset(posted, template=template)
    status = 200
    if posted is not None:
        if "add_kr" in posted:
            formset = formset.with_rows(add=1)
            form = TemplateForm(initial=raw_initial(form))
        else:
            # Both validated, so every problem shows at once.
            valid = form.is_valid() & formset.is_valid()
            if valid:
                try:
                    saved = save(**form.cleaned_data, key_results=formset.key_results())
                except ValidationError as error:
                    add_service_errors(form, error)
                else:
                    messages.success(request, _("Template “%(title)s” saved.") % {"title": saved.title})
                    return redirect("settings_method")
            for row in formset.forms:
                mark_invalid_fields(row)
            mark_invalid_fields(form)
            status = 422
    context = {
        "tab": "method",
        "template": template,
        "form": form,
        "formset": formset,
        "max_rows": MAX_TEMPLATE_KEY_RESULTS,
    }
    return render(request, "settings/method_template_form.html", context, status=status)


@require_permission(can_manage_organization_settings)
def template_create_view(request):
    def save(**values):
        return template_create(actor=request.user, **values)

    return _template_form_page(request, template=None, save=save)


@require_permission(can_manage_organization_settings)
def template_edit_view(request, pk: int):
    template = _template_or_404(pk)

    def save(**values):
        return template_update(template=template, actor=request.user, **values)

    return _template_form_page(request, template=template, save=save)


@require_POST
@require_permission(can_manage_organization_settings)
def template_delete_view(request, pk: int):
    template = _template_or_404(pk)
    template_delete(template=template, actor=request.user)
    messages.success(request, _("Template “%(title)s” deleted.") % {"title": template.title})
    return redirect("settings_method")


urlpatterns = [
    path("settings/method/", method_page, name="settings_method"),
    path("settings/method/templates/new/", template_create_view, name="settings_template_create"),
    path("settings/method/templates/<int:pk>/", template_edit_view, name="settings_template_edit"),
    path("settings/method/templates/<int:pk>/delete/", template_delete_view, name="settings_template_delete"),
]
