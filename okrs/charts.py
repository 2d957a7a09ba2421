"""Geometry of the key result charts on the objective page (server-rendered SVG).

Pure functions of plain values: no database, no templates. The template
(``templates/okrs/_chart_kr.html``) only draws what :func:`key_result_chart` returns:
the effective values over time, the expected-pace line (start → target over the
cycle), the forecast line (last value → ``KeyResult.forecast`` at the cycle's end),
the guard-rail bounds, a "now" marker and the axis ticks.

Coordinates are in the SVG's user space (``viewBox="0 0 width height"``); y grows
downwards, so larger values have smaller y.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from okrs import scoring

__all__ = [
    "Band",
    "ChartPoint",
    "KeyResultChart",
    "Segment",
    "Tick",
    "clip_segment",
    "date_ticks",
    "key_result_chart",
    "nice_ticks",
    "scale",
    "value_range",
]

WIDTH, HEIGHT = 520, 250
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 60, 16, 24, 36
# A forecast far off the chart would squash everything else: the value axis extends by
# at most this share of the data's span to show it, and the line is clipped beyond.
FORECAST_OVERSHOOT = 0.5
MAX_DATE_TICKS = 6


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    at: datetime
    value: float


@dataclass(frozen=True)
class Segment:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Band:
    """The "within bounds" band of a stay-between guard rail (y_top < y_bottom)."""

    y_top: float
    y_bottom: float

    @property
    def height(self) -> float:
        return round(self.y_bottom - self.y_top, 2)


@dataclass(frozen=True)
class Tick:
    position: float  # x for date ticks, y for value ticks
    value: float | date


@dataclass(frozen=True)
class KeyResultChart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    points: tuple[ChartPoint, ...]
    pace: Segment | None
    forecast: Segment | None
    thresholds: tuple[Segment, ...]
    band: Band | None
    now_x: float | None
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    y_min: float
    y_max: float
    y_decimals: int = 0  # decimals that show every value-axis tick exactly (at most 3)

    @property
    def polyline(self) -> str:
        """The ``points`` attribute of the values' <polyline>."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def plot_width(self) -> float:
        return self.right - self.left

    @property
    def last(self) -> ChartPoint | None:
        return self.points[-1] if self.points else None

    @property
    def y_label_x(self) -> float:
        """Where the value labels end (right-aligned, left of the plot)."""
        return self.left - 8

    @property
    def unit_y(self) -> float:
        """The baseline of the value axis's unit, above the plot."""
        return self.top - 10

    @property
    def x_label_y(self) -> float:
        """The baseline of the date labels, below the plot."""
        return self.bottom + 20

    @property
    def tick_end_y(self) -> float:
        return self.bottom + 5

    @property
    def middle_y(self) -> float:
        return round((self.top + self.bottom) / 2, 2)

    @property
    def middle_x(self) -> float:
        return round((self.left + self.right) / 2, 2)


def scale(value: float, lo: float, hi: float, out_lo: float, out_hi: float) -> float:
    """Map ``value`` from [lo, hi] onto [out_lo, out_hi] linearly (the middle when lo == hi)."""
    if hi == lo:
        return (out_lo + out_hi) / 2
    return out_lo + (value - lo) * (out_hi - out_lo) / (hi - lo)


def value_range(values: Sequence[float], *, pad: float = 0.08) -> tuple[float, float]:
    """A value axis that shows every value with some room: [min, max] padded by ``pad`` of
    the span on both sides; a single value (or equal ones) gets ±1 (±10% of its size when
    larger), none gets [0, 1]."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    if math.isclose(lo, hi):  # flat (up to float noise): the value sits in the middle
        half = max(1.0, abs(lo) * 0.1)
        return lo - half, hi + half
    span = hi - lo
    return lo - span * pad, hi + span * pad


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round values (steps of 1, 2, 2.5 or 5 × 10ⁿ) within [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo or count < 2:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / (count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    value = first
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 10) + 0.0)  # + 0.0 turns -0.0 into 0.0
        value = first + step * len(ticks)
    return ticks


def date_ticks(start: date, end: date, limit: int = MAX_DATE_TICKS) -> list[date]:
    """Dates to label on the time axis of a cycle from ``start`` to ``end`` (inclusive):
    the first day of each month (of each quarter when there are more than ``limit``);
    the start and end dates when the cycle is shorter than two months."""
    months = []
    year, month = start.year, start.month
    while True:
        first = date(year, month, 1)
        if first > end:
            break
        if first >= start:
            months.append(first)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if len(months) > limit:
        months = [d for d in months if (d.month - 1) % 3 == 0]
    if len(months) > limit:
        months = [d for d in months if d.month == 1]
    if len(months) < 2:
        return [start, end] if start != end else [start]
    return months


def clip_segment(segment: Segment, top: float, bottom: float) -> Segment | None:
    """``segment`` cut to the horizontal strip top ≤ y ≤ bottom; None when it lies outside."""
    x1, y1, x2, y2 = segment.x1, segment.y1, segment.x2, segment.y2
    t0, t1 = 0.0, 1.0
    dy = y2 - y1
    for p, q in ((-dy, y1 - top), (dy, bottom - y1)):
        if p == 0:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None
    dx = x2 - x1
    return Segment(*(round(v, 2) for v in (x1 + t0 * dx, y1 + t0 * dy, x1 + t1 * dx, y1 + t1 * dy)))


def _decimals(value: float, limit: int = 3) -> int:
    """How many decimals ``value`` needs (at most ``limit``): 2 → 0, 2.5 → 1, 0.25 → 2."""
    for decimals in range(limit + 1):
        if abs(round(value, decimals) - value) < 1e-9:
            return decimals
    return limit


def _epoch(moment: datetime) -> float:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("Chart times must be timezone-aware.")
    return moment.timestamp()


def _value_axis(
    kind: str,
    *,
    start: float | None,
    target: float | None,
    low: float | None,
    high: float | None,
    values: Sequence[float],
    forecast: float | None,
) -> tuple[float, float]:
    if kind == scoring.MILESTONE:
        return -0.1, 1.1
    anchors = [v for v in (start, target, low, high) if v is not None]
    lo, hi = value_range([*values, *anchors])
    if forecast is not None and math.isfinite(forecast) and not lo <= forecast <= hi:
        span = hi - lo
        lo = max(min(lo, forecast), lo - span * FORECAST_OVERSHOOT)
        hi = min(max(hi, forecast), hi + span * FORECAST_OVERSHOOT)
    return lo, hi


def key_result_chart(
    *,
    kind: str,
    start: float | None,
    target: float | None,
    low: float | None = None,
    high: float | None = None,
    points: Sequence[tuple[datetime, float]],
    forecast: float | None,
    cycle_start: date,
    cycle_end: date,
    tz: str,
    now: datetime | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> KeyResultChart:
    """Everything needed to draw one KR's chart.

    ``points`` are the KR's effective check-ins (corrections already in place of what
    they correct) as aware (time, value), oldest first. The cycle runs from local
    midnight of ``cycle_start`` to local midnight after ``cycle_end`` in ``tz`` (the
    organisation's zone, as everywhere else). The time axis covers the cycle and any
    check-in outside it."""
    begin, finish = scoring.cycle_bounds(cycle_start, cycle_end, tz)
    points = sorted(points, key=lambda p: _epoch(p[0]))
    x_lo = min([_epoch(begin), *(_epoch(at) for at, _ in points[:1])])
    x_hi = max([_epoch(finish), *(_epoch(at) for at, _ in points[-1:])])
    values = [float(v) for _, v in points]
    y_lo, y_hi = _value_axis(
        kind, start=start, target=target, low=low, high=high, values=values, forecast=forecast
    )
    left, right = float(MARGIN_LEFT), float(width - MARGIN_RIGHT)
    top, bottom = float(MARGIN_TOP), float(height - MARGIN_BOTTOM)

    def x_of(epoch: float) -> float:
        return round(scale(epoch, x_lo, x_hi, left, right), 2)

    def y_of(value: float) -> float:
        return round(scale(value, y_lo, y_hi, bottom, top), 2)

    chart_points = tuple(
        ChartPoint(x=x_of(_epoch(at)), y=y_of(float(value)), at=at, value=float(value))
        for at, value in points
    )
    pace = None
    if kind in (scoring.INCREASE, scoring.DECREASE) and start is not None and target is not None:
        pace = Segment(x_of(_epoch(begin)), y_of(start), x_of(_epoch(finish)), y_of(target))
    forecast_line = None
    if (
        forecast is not None
        and math.isfinite(forecast)
        and kind != scoring.MILESTONE
        and chart_points
        and _epoch(points[-1][0]) < _epoch(finish)
    ):
        last = chart_points[-1]
        forecast_line = clip_segment(
            Segment(last.x, last.y, x_of(_epoch(finish)), y_of(forecast)), top, bottom
        )
    thresholds: tuple[Segment, ...] = ()
    band = None
    if kind in (scoring.STAY_ABOVE, scoring.STAY_BELOW) and target is not None:
        thresholds = (Segment(left, y_of(target), right, y_of(target)),)
    elif kind == scoring.STAY_BETWEEN and low is not None and high is not None:
        band = Band(y_top=y_of(high), y_bottom=y_of(low))
        thresholds = (
            Segment(left, y_of(high), right, y_of(high)),
            Segment(left, y_of(low), right, y_of(low)),
        )
    now_x = None
    if now is not None and _epoch(begin) <= _epoch(now) <= _epoch(finish):
        now_x = x_of(_epoch(now))
    x_ticks = tuple(
        Tick(position=x_of(_epoch(scoring.cycle_bounds(day, day, tz)[0])), value=day)
        for day in date_ticks(cycle_start, cycle_end)
    )
    y_values = [0.0, 1.0] if kind == scoring.MILESTONE else nice_ticks(y_lo, y_hi)
    y_ticks = tuple(Tick(position=y_of(value), value=value) for value in y_values)
    y_decimals = max((_decimals(value) for value in y_values), default=0)
    return KeyResultChart(
        width=width,
        height=height,
        left=left,
        right=right,
        top=top,
        bottom=bottom,
        points=chart_points,
        pace=pace,
        forecast=forecast_line,
        thresholds=thresholds,
        band=band,
        now_x=now_x,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        y_min=y_lo,
        y_max=y_hi,
        y_decimals=y_decimals,
    )
