"""Writes on the organisation's objective templates (the Method settings page, org admins).

A template suggests an objective and its key results; people start a new objective from
one. Templates a method pack wrote can be changed like any other: the pack remembers what
it wrote (``applied_hash``), so a newer version leaves the client's changes alone
(``okrs.method.method_apply``)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.permissions import can_manage_organization_settings
from okrs.method import (
    MAX_DESCRIPTION_LENGTH,
    MAX_TEMPLATE_KEY_RESULTS,
    MAX_TITLE_LENGTH,
    canonical_key_result_rows,
    key_result_rows_errors,
)
from okrs.models_method import ObjectiveTemplate
from okrs.services.common import raise_if, require

REFUSAL = gettext_lazy("Only org admins change the objective templates.")


def _require_admin(actor: User) -> None:
    require(can_manage_organization_settings(actor), str(REFUSAL))


def _has_nul(value: object) -> bool:
    """PostgreSQL cannot store a NUL character (in text or JSON): refuse it clearly."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


def _validated(*, function: object, title: object, description: object, key_results: object) -> dict:
    """The template's fields, cleaned; a ValidationError keyed by field otherwise."""
    errors: dict[str, str] = {}
    not_allowed = _("Remove the character that is not allowed.")
    if not isinstance(function, str) or function not in ObjectiveTemplate.Function.values:
        errors["function"] = _("Choose a function.")
    title = title.strip() if isinstance(title, str) else ""
    if not title:
        errors["title"] = _("Give the objective a title.")
    elif len(title) > MAX_TITLE_LENGTH:
        errors["title"] = _("Keep the title to %(max)d characters.") % {"max": MAX_TITLE_LENGTH}
    elif _has_nul(title):
        errors["title"] = not_allowed
    description = "" if description is None else description
    if not isinstance(description, str):
        errors["description"] = _("The description must be text.")
    elif len(description.strip()) > MAX_DESCRIPTION_LENGTH:
        errors["description"] = _("Keep the description to %(max)d characters.") % {
            "max": MAX_DESCRIPTION_LENGTH
        }
    elif _has_nul(description):
        errors["description"] = not_allowed
    key_results = list(key_results) if isinstance(key_results, tuple) else key_results
    key_results = [] if key_results is None else key_results
    if isinstance(key_results, list) and len(key_results) > MAX_TEMPLATE_KEY_RESULTS:
        errors["key_results"] = _("A template suggests at most %(max)d key results.") % {
            "max": MAX_TEMPLATE_KEY_RESULTS
        }
    elif problems := key_result_rows_errors(key_results):
        errors["key_results"] = " ".join(problems)
    elif _has_nul(key_results):
        errors["key_results"] = not_allowed
    raise_if(errors)
    return {
        "function": function,
        "title": title,
        "description": description.strip(),
        "key_results": canonical_key_result_rows(key_results),
    }


@transaction.atomic
def template_create(
    *,
    actor: User,
    function: str,
    title: str,
    description: str = "",
    key_results: list[dict] | None = None,
) -> ObjectiveTemplate:
    """A template of the organisation's own (no method pack behind it)."""
    _require_admin(actor)
    template = ObjectiveTemplate(
        **_validated(function=function, title=title, description=description, key_results=key_results)
    )
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def template_update(
    *,
    template: ObjectiveTemplate,
    actor: User,
    function: str,
    title: str,
    description: str = "",
    key_results: list[dict] | None = None,
) -> ObjectiveTemplate:
    """Replace the template's content. The method pack it came from (if any) stays recorded,
    so the settings page can say it was edited and a newer version keeps the change."""
    _require_admin(actor)
    values = _validated(function=function, title=title, description=description, key_results=key_results)
    template = ObjectiveTemplate.objects.select_for_update().filter(pk=template.pk).first()
    if template is None:
        raise ValidationError(_("This template was deleted in the meantime."))
    current = {name: getattr(template, name) for name in values}
    current["key_results"] = canonical_key_result_rows(current["key_results"])
    if current == values:  # nothing differs: nothing is saved
        return template
    for name, value in values.items():
        setattr(template, name, value)
    template.full_clean()
    template.save()
    return template


@transaction.atomic
def template_delete(*, template: ObjectiveTemplate, actor: User) -> None:
    """Delete it. One a method pack wrote is not written again by a newer version (the pack
    remembers the keys it wrote)."""
    _require_admin(actor)
    ObjectiveTemplate.objects.filter(pk=template.pk).delete()
