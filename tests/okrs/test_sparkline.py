"""Sparklines (okrs/sparkline.py) and KPI value formatting (okr_sparkline template tags)."""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import pytest
from django.template import Context, Template
from django.utils import translation

from okrs.sparkline import HEIGHT, PAD, WIDTH, sparkline_points, sparkline_svg
from okrs.templatetags.okr_sparkline import kpi_value, trend_label


def test_points_span_the_width_and_put_the_highest_value_on_top():
    points = sparkline_points([1, 3, 2])
    assert [x for x, _ in points] == [PAD, WIDTH / 2, WIDTH - PAD]
    assert points[1][1] == PAD  # the highest value at the top
    assert points[0][1] == HEIGHT - PAD  # the lowest at the bottom
    assert points[2][1] == pytest.approx(HEIGHT / 2)


def test_flat_and_single_values_sit_in_the_middle():
    assert {y for _, y in sparkline_points([5, 5, 5])} == {HEIGHT / 2}
    assert sparkline_points([7]) == [(WIDTH / 2, HEIGHT / 2)]
    assert {y for _, y in sparkline_points([2.4, 2.4 + 1e-12])} == {HEIGHT / 2}  # float noise is flat
    assert sparkline_points([]) == []


def test_missing_and_non_finite_values_are_skipped():
    assert len(sparkline_points([1, None, math.nan, math.inf, 2])) == 2


def test_thresholds_widen_the_scale_and_are_drawn():
    without = sparkline_points([4, 5])
    with_thresholds = sparkline_points([4, 5], extra=[0, 10])
    assert without[0][1] == HEIGHT - PAD
    assert HEIGHT - PAD > with_thresholds[0][1] > with_thresholds[1][1] > PAD
    svg = sparkline_svg([4, 5], label="Trend", thresholds=[("red", 0), ("green", 10), ("none", None)])
    assert '<line class="spark-threshold threshold-red" x1="0" x2="120" y1="29" y2="29">' in svg
    assert '<line class="spark-threshold threshold-green" x1="0" x2="120" y1="3" y2="3">' in svg
    assert svg.count("spark-threshold") == 2


def test_svg_is_an_accessible_image_without_inline_styles():
    svg = sparkline_svg([1, 2, 3], label="Trend: 3 readings from 1 to 3", tone="green")
    assert svg.startswith('<svg class="sparkline tone-green"')
    assert 'role="img"' in svg
    assert 'aria-label="Trend: 3 readings from 1 to 3"' in svg
    assert "<title>Trend: 3 readings from 1 to 3</title>" in svg
    assert 'data-points="3"' in svg
    assert "<polyline" in svg
    assert "<circle" in svg
    assert "style=" not in svg
    # Coordinates use a dot whatever the language.
    assert re.search(r'points="3,29 60,16(\.0)? 117,3"', svg)


def test_svg_without_readings_has_no_line():
    svg = sparkline_svg([], label="Trend: no readings yet")
    assert 'data-points="0"' in svg
    assert "<polyline" not in svg
    assert "<circle" not in svg


def test_one_reading_is_a_dot():
    svg = sparkline_svg([3], label="x")
    assert "<polyline" not in svg
    assert svg.count("<circle") == 1


def test_label_is_escaped():
    svg = sparkline_svg([1, 2], label='<script>alert("x")</script>')
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (2.4, "%", "2.4%"),
        (2.40001, "%", "2.4%"),
        (105.04, "%", "105%"),
        (104.96, "%", "105%"),
        (5.25, "tickets", "5.25 tickets"),
        (1250, "orders", "1,250 orders"),
        (12.0, "", "12"),
        (None, "%", "—"),
    ],
)
def test_kpi_value_is_localised_with_its_unit(value, unit, shown):
    with translation.override("en"):
        assert kpi_value(value, unit) == shown


def test_kpi_value_follows_the_language():
    with translation.override("de"):
        assert kpi_value(1250.5, "€") == "1.250,5 €"


def test_trend_label():
    with translation.override("en"):
        assert trend_label([]) == "Trend: no readings yet"
        assert trend_label([2.4], "%") == "Trend: one reading, 2.4%"
        assert trend_label([2.4, 2.1, 1.9], "%") == "Trend: 3 readings from 2.4% to 1.9%"


def test_template_tag_draws_a_kpi_trend():
    readings = [SimpleNamespace(value=v) for v in (3.0, 2.5, 2.0)]
    kpi = SimpleNamespace(trend=readings, health="amber", unit="%", green_threshold=1.5, red_threshold=3.0)
    with translation.override("en"):
        html = Template("{% load okr_sparkline %}{% kpi_sparkline kpi %}").render(Context({"kpi": kpi}))
    assert 'class="sparkline tone-amber"' in html
    assert 'aria-label="Trend: 3 readings from 3% to 2%"' in html
    assert html.count('class="spark-threshold threshold-') == 2
