"""Forms of the Import settings page: the upload (shape only: a file was sent; the import
services check everything in it) and the confirmation of a checked file."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.imports_csv import MAX_FILE_BYTES
from accounts.uploads import csv_upload_validate


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        validators=[csv_upload_validate],  # size and content before the import reads it
    )

    def __init__(self, *args, max_rows: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = gettext(
            "A CSV file in UTF-8 (in Excel: “CSV UTF-8 (comma delimited)”), at most %(mb)d MB and %(rows)s "
            "rows. Nothing is imported yet: you see what would happen first."
        ) % {"mb": MAX_FILE_BYTES // (1024 * 1024), "rows": f"{max_rows:,}"}


class ImportConfirmForm(forms.Form):
    """Confirms the file checked a moment ago (kept in the session under this token)."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
