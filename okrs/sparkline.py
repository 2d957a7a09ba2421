"""Sparklines as server-rendered inline SVG (no JavaScript, no chart library).

A pure function: values in, markup out, scaled with the KR charts' own geometry
(``okrs.charts.scale`` and ``value_range``). The SVG carries its own accessible name
(``role="img"`` + ``aria-label`` + ``<title>``) because a trend line says nothing to a
screen reader. Colours come from CSS classes (static/css/dashboards.css), never from
``style`` attributes, so a strict CSP needs no exception.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from okrs.charts import scale, value_range

WIDTH, HEIGHT, PAD = 120, 32, 3


def _n(number: float) -> str:
    """An SVG coordinate: a dot decimal whatever the language, no trailing zeros."""
    return f"{number:g}"


def _finite(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def _y_scale(values: list[float], height: int) -> Callable[[float], float]:
    """y of a value, so that all ``values`` fit (a flat line sits in the middle)."""
    low, high = value_range(values, pad=0)
    return lambda value: round(scale(value, low, high, height - PAD, PAD), 2)


def _points(values: list[float], y_of: Callable[[float], float], width: int) -> list[tuple[float, float]]:
    last = len(values) - 1
    return [(round(scale(i, 0, last, PAD, width - PAD), 2), y_of(v)) for i, v in enumerate(values)]


def sparkline_points(
    values: Sequence[float | None],
    *,
    width: int = WIDTH,
    height: int = HEIGHT,
    extra: Sequence[float | None] = (),
) -> list[tuple[float, float]]:
    """(x, y) in SVG coordinates for ``values`` (oldest first; missing or non-finite ones
    skipped), scaled so that the values and ``extra`` (reference lines such as
    thresholds) all fit; y grows downwards. One value sits in the middle."""
    values = _finite(values)
    if not values:
        return []
    return _points(values, _y_scale(values + _finite(extra), height), width)


def sparkline_svg(
    values: Sequence[float | None],
    *,
    label: str,
    tone: str = "unknown",
    thresholds: Sequence[tuple[str, float | None]] = (),
    width: int = WIDTH,
    height: int = HEIGHT,
) -> SafeString:
    """An inline SVG trend line of ``values`` (oldest first). ``label`` is its accessible
    name (escaped); ``tone`` a CSS modifier (green / amber / red / unknown) for the line and
    the last point; ``thresholds`` — (name, value) pairs such as ("green", 1.5) — are drawn
    as dashed reference lines with the class ``threshold-<name>``."""
    lines = [(name, float(value)) for name, value in thresholds if _finite([value])]
    values = _finite(values)
    points: list[tuple[float, float]] = []
    parts: list[SafeString] = []
    if values:
        y_of = _y_scale(values + [value for _, value in lines], height)
        points = _points(values, y_of, width)
        parts.append(
            format_html_join(
                "",
                '<line class="spark-threshold threshold-{}" x1="0" x2="{}" y1="{}" y2="{}"></line>',
                ((name, width, _n(y_of(value)), _n(y_of(value))) for name, value in lines),
            )
        )
        if len(points) > 1:
            parts.append(
                format_html(
                    '<polyline class="spark-line" points="{}"></polyline>',
                    " ".join(f"{_n(x)},{_n(y)}" for x, y in points),
                )
            )
        last_x, last_y = points[-1]
        parts.append(
            format_html('<circle class="spark-dot" cx="{}" cy="{}" r="2.5"></circle>', _n(last_x), _n(last_y))
        )
    return format_html(
        '<svg class="sparkline tone-{tone}" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        'aria-label="{label}" focusable="false" data-testid="sparkline" data-points="{n}">'
        "<title>{label}</title>{body}</svg>",
        tone=tone,
        w=width,
        h=height,
        label=label,
        n=len(points),
        body=format_html_join("", "{}", ((part,) for part in parts)),  # each part is already safe
    )
