"""Forms of the objective templates (Method settings page). They shape the input; the
services (``okrs.services.templates``) enforce every rule."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from okrs import scoring
from okrs.forms.objectives import KIND_FIELDS, KIND_HELP, NUMBER_FIELDS, KeyResultDefinitionForm, raw_initial
from okrs.method import MAX_DESCRIPTION_LENGTH, MAX_TEMPLATE_KEY_RESULTS
from okrs.models import KeyResult
from okrs.models_method import ObjectiveTemplate

BLANK_ROWS = 2  # empty rows offered below a template's key results


class TemplateForm(forms.Form):
    function = forms.ChoiceField(
        label=_("Function"),
        choices=ObjectiveTemplate.Function.choices,
        help_text=_("People pick templates by function when they create an objective."),
    )
    title = forms.CharField(
        label=_("Objective"),
        max_length=200,
        help_text=_("One short, inspiring sentence: what should the team achieve?"),
    )
    description = forms.CharField(
        label=_("Why it matters"),
        required=False,
        max_length=MAX_DESCRIPTION_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, template: ObjectiveTemplate | None = None, **kwargs):
        if template is not None:
            kwargs.setdefault(
                "initial",
                {"function": template.function, "title": template.title, "description": template.description},
            )
        super().__init__(*args, **kwargs)


class TemplateKeyResultForm(KeyResultDefinitionForm):
    """One suggested key result: the definition only (no owner, weight or due date, which
    belong to the objective made from the template)."""

    target = forms.FloatField(label=_("Target value (or floor / ceiling)"), required=False, localize=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].widget.attrs.update(
            {"class": "kr-kind", "aria-describedby": f"id_{self.add_prefix('kind')}_helptext"}
        )
        self.fields["unit"].widget.attrs["class"] = "kr-unit"

    @property
    def kind_explanations(self) -> list[tuple[str, str, str]]:
        return [(value, label, KIND_HELP[value]) for value, label in KeyResult.Kind.choices]

    @property
    def is_saved_row(self) -> bool:
        """A row showing a key result the template has (it can be removed)."""
        return bool(self.initial.get("title"))

    def clean(self):
        cleaned = super().clean()
        if self.errors or "kind" not in cleaned:
            return cleaned
        row = self.row()
        # The definition rules of the type, as a key result made from it will face them.
        errors = scoring.key_result_errors(
            row["kind"],
            start=row["start"],
            target=row["target"],
            low=row["low"],
            high=row["high"],
            weight=1.0,
        )
        if row["unit"] == KeyResult.Unit.CURRENCY and not (
            len(row["currency_code"]) == 3 and row["currency_code"].isalpha()
        ):
            errors["currency_code"] = _("Give the three-letter currency code, for example EUR or CNY.")
        for field, message in errors.items():
            self.add_error(field if field in self.fields else None, message)
        return cleaned

    def row(self) -> dict:
        """The row as the service takes it, with the values the type does not use cleared."""
        data = self.cleaned_data
        kind = data.get("kind") or scoring.INCREASE
        row = {
            "title": data.get("title") or "",
            "kind": kind,
            "unit": data.get("unit") or KeyResult.Unit.NUMBER,
            "currency_code": (data.get("currency_code") or "").upper(),
            "unit_label": data.get("unit_label") or "",
            **{name: data.get(name) if name in KIND_FIELDS.get(kind, ()) else None for name in NUMBER_FIELDS},
        }
        if kind == scoring.MILESTONE:
            row.update(unit=KeyResult.Unit.NUMBER, unit_label="", currency_code="")
        elif row["unit"] != KeyResult.Unit.CURRENCY:
            row["currency_code"] = ""
        return row


class TemplateRowsFormSetBase(forms.BaseFormSet):
    """Key result rows that start from a template's (``rows``) without being "initial"
    forms: on a POST every row is compared with a blank one, so untouched empty rows are
    skipped and a row is removed with its "Remove" box."""

    def __init__(self, *args, rows: list[dict] | None = None, **kwargs):
        self.rows = rows or []
        super().__init__(*args, **kwargs)

    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields["DELETE"].label = _("Remove this key result")

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        if index is not None and index < len(self.rows):
            kwargs["initial"] = self.rows[index]
        return kwargs

    def kept_forms(self) -> list[TemplateKeyResultForm]:
        return [
            form
            for form in self.forms
            if form.has_changed() and not self._should_delete_form(form) and form.cleaned_data
        ]

    def key_results(self) -> list[dict]:
        """The rows to save, in order (after ``is_valid``)."""
        return [form.row() for form in self.kept_forms()]

    def with_rows(self, add: int = 0) -> TemplateRowsFormSetBase:
        """An unbound copy holding what was typed, plus ``add`` empty rows, nothing validated."""
        rows = [raw_initial(form) for form in self.forms]
        copy = type(self)(prefix=self.prefix, rows=rows)
        copy.extra = min(len(rows) + add, MAX_TEMPLATE_KEY_RESULTS)
        return copy


TemplateKeyResultFormSet = forms.formset_factory(
    TemplateKeyResultForm,
    formset=TemplateRowsFormSetBase,
    extra=BLANK_ROWS + 1,
    max_num=MAX_TEMPLATE_KEY_RESULTS,
    validate_max=True,
    absolute_max=MAX_TEMPLATE_KEY_RESULTS,
    can_delete=True,
)


def template_rows_formset(data=None, *, template: ObjectiveTemplate | None = None) -> TemplateRowsFormSetBase:
    """The rows of a template (unbound: its key results plus empty rows; bound: as posted)."""
    if data is not None:
        return TemplateKeyResultFormSet(data, prefix="kr")
    rows = [dict(row) for row in (template.key_results if template else []) if isinstance(row, dict)]
    formset = TemplateKeyResultFormSet(prefix="kr", rows=rows)
    formset.extra = min(len(rows) + BLANK_ROWS, MAX_TEMPLATE_KEY_RESULTS) if rows else BLANK_ROWS + 1
    return formset
