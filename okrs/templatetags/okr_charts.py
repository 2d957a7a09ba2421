"""Labels of the KR charts' value axis: the number only (the unit is written once, above
the axis), so they fit a phone's width."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext

from okrs.models import KeyResult

register = template.Library()


@register.simple_tag
def axis_value(key_result: KeyResult, value: float | None, decimals: int = 0) -> str:
    """42 → "42" (or "42%" for percentages), localised, with ``decimals`` decimals (the same
    for every tick of an axis); a milestone's 0/1 as words."""
    if value is None:
        return ""
    if key_result.kind == KeyResult.Kind.MILESTONE:
        return gettext("Reached") if value >= 1 else gettext("Not yet")
    shown = number_format(value, decimals, use_l10n=True, force_grouping=True)
    return f"{shown}%" if key_result.unit == KeyResult.Unit.PERCENT else shown


@register.simple_tag
def axis_unit(key_result: KeyResult) -> str:
    """What the value axis counts: the currency or the unit label ("" when none)."""
    if key_result.kind == KeyResult.Kind.MILESTONE or key_result.unit == KeyResult.Unit.PERCENT:
        return ""
    if key_result.unit == KeyResult.Unit.CURRENCY:
        return " ".join(part for part in (key_result.currency_code, key_result.unit_label) if part)
    return key_result.unit_label
