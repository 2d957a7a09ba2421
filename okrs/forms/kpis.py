"""The KPI board's form: a new reading. ``okrs.services.kpis.kpi_reading_record``
enforces every rule; this form shapes the input."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from okrs.models import Kpi


class KpiReadingForm(forms.Form):
    value = forms.FloatField(label=gettext_lazy("New reading"), localize=True)
    at = forms.DateTimeField(
        label=gettext_lazy("Measured at (optional)"),
        required=False,
        help_text=gettext_lazy("Leave empty to record it as of now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args, kpi: Kpi, **kwargs):
        super().__init__(*args, prefix=f"kpi-{kpi.pk}", **kwargs)
        self.kpi = kpi
        if kpi.unit:
            self.fields["value"].help_text = _("In %(unit)s.") % {"unit": kpi.unit}
