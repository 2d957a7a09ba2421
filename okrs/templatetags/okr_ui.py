"""Small pieces every OKR page shares: status chips, progress bars, formatted values.
Status is always shown as text as well as colour."""

from __future__ import annotations

from django import template
from django.template.defaultfilters import floatformat, urlencode
from django.urls import reverse
from django.utils.formats import localize, number_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
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


# A KR's progress and its check-in button, on every KR row of My focus, the explorer, the
# objective, review and KPI pages: written out here for the same reason as the bar. The
# partials okrs/_kr_progress.html and okrs/_check_in_button.html call these tags, so the
# markup exists once; their output is byte for byte what those templates rendered before.
KR_PROGRESS_HTML = (
    '<div class="kr-progress" id="kr-{}-progress"{} data-testid="kr-progress">\n  {}\n'
    '  <span class="kr-meta">{}\n    <span class="muted">{}{}</span>\n  </span>\n</div>\n'
)
CHECK_IN_HTML = (
    '<a class="btn small" href="{}?next={}" hx-get="{}" hx-target="#dialog-slot" hx-swap="innerHTML"'
    ' data-testid="check-in-{}">{}<span class="visually-hidden">: {}</span></a>\n'
)


@register.simple_tag
def kr_progress(kr: KeyResult, oob: bool = False):
    confidence = ""
    if kr.confidence is not None:
        # As {% blocktranslate %} does it: the value escaped, the translated text as it is.
        text = gettext("confidence %(c)s/10") % {"c": conditional_escape(localize(kr.confidence))}
        confidence = mark_safe(" · " + text)  # noqa: S308 - the only variable part is escaped
    return format_html(
        KR_PROGRESS_HTML,
        kr.pk,
        mark_safe(' hx-swap-oob="true"') if oob else "",
        progress_bar(kr.progress, kr.status, kr.title),
        status_chip(kr.status),
        kr_value(kr, kr.current),
        confidence,
    )


@register.simple_tag(takes_context=True)
def check_in_button(context, kr: KeyResult):
    """A KR's one-click check-in: a dialog with HTMX, the full page without JavaScript; back to
    ``check_in_next`` (default: this page) afterwards."""
    url = reverse("check_in", args=[kr.pk])
    request = context.get("request")
    back = context.get("check_in_next") or (request.get_full_path() if request else "")
    return format_html(CHECK_IN_HTML, url, urlencode(back), url, kr.pk, gettext("Check in"), kr.title)
