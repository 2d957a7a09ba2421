"""The shared OKR pieces of markup (okrs/templatetags/okr_ui.py)."""

from __future__ import annotations

import pytest
from django.template import engines
from django.utils import translation

from okrs.templatetags.okr_ui import percent, progress_bar


def bar(value, status="", label="") -> str:
    return (
        engines["django"]
        .from_string("{% load okr_ui %}{% progress_bar v s l %}")
        .render({"v": value, "s": status, "l": label})
    )


def test_a_progress_bar_says_its_value_in_text_and_to_screen_readers():
    assert bar(0.425, "at_risk", "Grow") == (
        '<div class="progress"><div class="bar status-at_risk" role="progressbar" aria-valuemin="0"'
        ' aria-valuemax="100" aria-valuenow="43" aria-label="Grow"><svg width="42.5%" height="100%"'
        ' aria-hidden="true" focusable="false"></svg></div><span class="pct">42%</span></div>\n'
    )


@pytest.mark.parametrize(
    ("value", "width", "now"), [(None, "0.0", "0"), (-0.5, "0.0", "0"), (1.7, "100.0", "100")]
)
def test_a_progress_bar_stays_between_0_and_100(value, width, now):
    html = bar(value)
    assert f'<svg width="{width}%"' in html
    assert f'aria-valuenow="{now}"' in html
    assert "aria-label" not in html  # none without a label


def test_a_progress_bar_escapes_its_label_and_status():
    html = bar(0.5, '"><script>', 'Grow <b>"fast"</b> & far')
    assert "<script>" not in html
    assert 'aria-label="Grow &lt;b&gt;&quot;fast&quot;&lt;/b&gt; &amp; far"' in html
    assert str(progress_bar(0.5, "", "x")) == bar(0.5, "", "x")


def test_percent_uses_the_languages_digits():
    with translation.override("zh-hans"):
        assert percent(0.4245) == "42%"
    assert percent(None) == "—"
