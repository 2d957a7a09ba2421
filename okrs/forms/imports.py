"""The OKR import upload form: the cycle (one that is not closed) and the file. The
import service (``okrs.imports.okrs_import``) checks everything in the file."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts.forms_imports import ImportUploadForm
from okrs.forms.objectives import InstanceChoiceField
from okrs.imports import MAX_ROWS


class OkrImportForm(ImportUploadForm):
    cycle = InstanceChoiceField(
        label=_("Cycle"), help_text=_("The objectives are created in this cycle (it must not be closed).")
    )
    field_order = ["cycle", "file"]

    def __init__(self, *args, cycles, **kwargs):
        super().__init__(*args, max_rows=MAX_ROWS, **kwargs)
        self.fields["cycle"].set_objects(cycles, label=lambda c: f"{c.name} ({c.get_state_display()})")
