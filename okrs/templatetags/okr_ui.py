"""Small pieces every OKR page shares: status chips, progress bars, formatted values.
Status is always shown as text as well as colour."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import floatformat
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext

from okrs.models import KeyResult, Status

register = template.Library()
STATUS_LABELS = dict(Status.choices)


@register.simple_tag
def status_chip(status: str):
    return format_html(
        '<span class="chip status-{}" data-status="{}">{}</span>',
        status,
        status,
        STATUS_LABELS.get(status, status),
    )


@register.filter
def percent(value: float | None) -> str:
    """0.424 → "42%" (localised digits); None → "—"."""
    if value is None:
        return "—"
    return f"{number_format(round(value * 100), 0, use_l10n=True)}%"


# Written out here rather than as an inclusion template: pages draw one per objective and KR
# (a hundred and more on My focus and the explorer), and rendering a template each time was
# a large part of those pages. The width rounds as the template's floatformat did.
BAR_HTML = (
    '<div class="progress"><div class="bar status-{}" role="progressbar" aria-valuemin="0"'
    ' aria-valuemax="100" aria-valuenow="{}"{}><svg width="{}%" height="100%" aria-hidden="true"'
    ' focusable="false"></svg></div><span class="pct">{}</span></div>\n'
)


@register.simple_tag
def progress_bar(value: float | None, status: str = "", label: str = ""):
    value = max(0.0, min(1.0, value or 0.0))
    width = round(value * 100, 1)
    aria_label = format_html(' aria-label="{}"', label) if label else ""
    return format_html(BAR_HTML, status, floatformat(width, 0), aria_label, str(width), percent(value))


@register.simple_tag
def kr_value(key_result: KeyResult, value: float | None) -> str:
    """A KR's value in its unit, localised: 42%, 1,250 USD, 3.5 NPS, Reached."""
    if value is None:
        return "—"
    if key_result.kind == KeyResult.Kind.MILESTONE:
        return gettext("Reached") if value >= 1 else gettext("Not yet")
    decimals = 0 if float(value).is_integer() else (1 if abs(value) >= 10 else 2)
    shown = number_format(value, decimals, use_l10n=True, force_grouping=True)
    if key_result.unit == KeyResult.Unit.PERCENT:
        return f"{shown}%"
    suffix = key_result.currency_code if key_result.unit == KeyResult.Unit.CURRENCY else key_result.unit_label
    return f"{shown} {suffix}".strip()
