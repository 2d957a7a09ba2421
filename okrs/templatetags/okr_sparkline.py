"""KPI values and trend sparklines for templates (``{% load okr_sparkline %}``)."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext

from okrs.sparkline import sparkline_svg

register = template.Library()


@register.filter
def kpi_value(value: float | None, unit: str = "") -> str:
    """A KPI reading in its unit, localised: 2.4%, 5.2 tickets, 1,250 orders; None → "—"."""
    if value is None or value == "":  # "" is what a template makes of a missing reading
        return "—"
    value = round(float(value), 1 if abs(value) >= 10 else 2)
    decimals = next((d for d in range(3) if round(value, d) == value), 2)  # 2.40 → "2.4", 105.0 → "105"
    shown = number_format(value, decimals, use_l10n=True, force_grouping=True)
    unit = (unit or "").strip()
    if not unit:
        return shown
    return f"{shown}{unit}" if unit == "%" else f"{shown} {unit}"


def trend_label(values: list[float], unit: str = "") -> str:
    if not values:
        return gettext("Trend: no readings yet")
    if len(values) == 1:
        return gettext("Trend: one reading, %(value)s") % {"value": kpi_value(values[0], unit)}
    return ngettext(
        "Trend: %(count)s reading from %(first)s to %(last)s",
        "Trend: %(count)s readings from %(first)s to %(last)s",
        len(values),
    ) % {"count": len(values), "first": kpi_value(values[0], unit), "last": kpi_value(values[-1], unit)}


@register.simple_tag
def kpi_sparkline(kpi) -> str:
    """The trend of a KPI shaped by ``okrs.selectors.kpis``: ``kpi.trend`` (readings, oldest
    first) and ``kpi.health``; the thresholds are drawn as reference lines."""
    values = [reading.value for reading in kpi.trend]
    return sparkline_svg(
        values,
        label=trend_label(values, kpi.unit),
        tone=kpi.health,
        thresholds=(("green", kpi.green_threshold), ("red", kpi.red_threshold)),
    )
