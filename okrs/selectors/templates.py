"""Reads of the organisation's method: objective templates (grouped by function) and the
method packs applied here. One query each, whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from okrs.method import template_is_edited
from okrs.models_method import AppliedMethodPack, ObjectiveTemplate


def objective_templates() -> QuerySet[ObjectiveTemplate]:
    return ObjectiveTemplate.objects.order_by("function", "title", "id")


def applied_method_packs() -> QuerySet[AppliedMethodPack]:
    return AppliedMethodPack.objects.order_by("pack_name", "pack_slug")


@dataclass(frozen=True)
class FunctionGroup:
    function: str
    label: str
    templates: list[ObjectiveTemplate]


def templates_by_function(templates: list[ObjectiveTemplate]) -> list[FunctionGroup]:
    """Templates loaded already, grouped by function in the order of the choices (empty
    groups left out)."""
    groups: dict[str, list[ObjectiveTemplate]] = {}
    for template in templates:
        groups.setdefault(template.function, []).append(template)
    labels = dict(ObjectiveTemplate.Function.choices)
    ordered = [value for value in ObjectiveTemplate.Function.values if value in groups]
    ordered += sorted(set(groups) - set(ordered))  # a value no longer among the choices
    return [FunctionGroup(value, str(labels.get(value, value)), groups[value]) for value in ordered]


def annotate_origin(templates: list[ObjectiveTemplate], packs: list[AppliedMethodPack]) -> None:
    """For the settings page: ``pack_name`` (the pack a template came from, by its name
    when the pack was applied here) and ``edited`` (changed since the pack wrote it)."""
    names = {pack.pack_slug: pack.pack_name for pack in packs}
    for template in templates:
        template.pack_name = names.get(template.pack_slug, template.pack_slug) if template.pack_slug else ""
        template.edited = template_is_edited(template)
