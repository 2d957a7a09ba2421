"""Forms for objectives, key results, initiatives and alignment proposals.

They shape the input only: the services (``okrs.services.objectives``,
``okrs.services.alignment``) enforce every rule and their errors are shown on these
forms. Choices come from lists loaded once per page (see ``okrs.selectors.editing``),
so a page with ten key result rows still loads the people once.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.ui import FastSelect
from okrs import scoring
from okrs.models import Cycle, KeyResult, Objective
from okrs.models_method import ObjectiveTemplate
from okrs.selectors.editing import alignment_target, parse_parent_token
from okrs.services.common import differing

MAX_KEY_RESULT_ROWS = 10

# The fields each key result type uses besides title, type, weight, owner and due date.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    scoring.INCREASE: ("start", "target"),
    scoring.DECREASE: ("start", "target"),
    scoring.STAY_ABOVE: ("start", "target"),
    scoring.STAY_BELOW: ("start", "target"),
    scoring.STAY_BETWEEN: ("low", "high"),
    scoring.MILESTONE: (),
}
NUMBER_FIELDS = ("start", "target", "low", "high")

KIND_HELP = {
    scoring.INCREASE: _(
        "Raise a number from where it is to a target — e.g. weekly active users from 1,200 to 2,000."
    ),
    scoring.DECREASE: _(
        "Bring a number down from where it is to a target — e.g. p95 checkout latency from 900 to 300 ms."
    ),
    scoring.STAY_ABOVE: _(
        "A guard rail: keep a number at or above a floor all cycle long — e.g. gross margin stays above 20%."
    ),
    scoring.STAY_BELOW: _(
        "A guard rail: keep a number at or below a ceiling — e.g. monthly downtime stays below 20 minutes."
    ),
    scoring.STAY_BETWEEN: _(
        "A guard rail: keep a number inside a band — e.g. error budget burn stays between 20% and 80%."
    ),
    scoring.MILESTONE: _(
        "Reached or not, nothing in between — e.g. runbooks for the top 20 alerts published. "
        "Prefer a number that moves when you can."
    ),
}

# Labels of the number fields for the chosen type.
NUMBER_LABELS = {
    "start": {
        "default": _("Start value"),
        scoring.STAY_ABOVE: _("Value now"),
        scoring.STAY_BELOW: _("Value now"),
    },
    "target": {
        "default": _("Target value"),
        scoring.STAY_ABOVE: _("Floor (stay at or above)"),
        scoring.STAY_BELOW: _("Ceiling (stay at or below)"),
    },
    "low": {"default": _("Lower bound")},
    "high": {"default": _("Upper bound")},
}

OBJECTIVE_KIND_HELP = {
    Objective.Kind.COMMITTED: _("We will reach this in full: a score of 1.0 is expected."),
    Objective.Kind.ASPIRATIONAL: _(
        "A stretch we may not fully reach: a score of 0.7 already counts as success."
    ),
}


class InstanceChoiceField(forms.ChoiceField):
    """A choice among objects loaded beforehand: rendering never queries, however many
    forms on the page offer the same list. Cleans to the chosen object (or None)."""

    widget = FastSelect  # lists of people can be long

    def __init__(self, *, empty_label: str | None = None, **kwargs):
        self.empty_label = empty_label
        self.objects: dict[str, object] = {}
        super().__init__(**kwargs)

    def set_objects(self, objects: Iterable, label=str) -> None:
        objects = list(objects)
        self.objects = {str(obj.pk): obj for obj in objects}
        choices = [(str(obj.pk), label(obj)) for obj in objects]
        if self.empty_label is not None or not self.required:
            choices.insert(0, ("", self.empty_label or "—"))
        self.choices = choices

    def clean(self, value):
        value = super().clean(value)
        return self.objects.get(str(value)) if value else None

    def prepare_value(self, value):
        return str(value.pk) if hasattr(value, "pk") else value


def _person_label(person: User) -> str:
    return f"{person.get_full_name()} · {person.team}" if person.team_id else person.get_full_name()


def raw_initial(form: forms.BaseForm) -> dict:
    """What was typed into a bound form, as initial values for an unbound copy: re-rendering
    (one more row, another type) keeps the input without reporting errors yet."""
    return {name: form[name].data for name in form.fields}


class ObjectiveForm(forms.Form):
    title = forms.CharField(
        label=_("Objective"),
        max_length=200,
        help_text=_("One short, inspiring sentence: what do you want to achieve?"),
    )
    description = forms.CharField(
        label=_("Why it matters (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    cycle = InstanceChoiceField(label=_("Cycle"))
    owner = InstanceChoiceField(
        label=_("Owner"), help_text=_("Exactly one person is accountable for an objective.")
    )
    team = InstanceChoiceField(label=_("Team"), required=False, empty_label=_("No team"))
    level = forms.ChoiceField(label=_("Level"), choices=Objective.Level.choices, initial=Objective.Level.TEAM)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (value, format_lazy("{} — {}", label, OBJECTIVE_KIND_HELP[value]))
            for value, label in Objective.Kind.choices
        ],
        initial=Objective.Kind.COMMITTED,
        widget=forms.RadioSelect,
    )
    health_dimension = forms.ChoiceField(
        label=_("Health dimension"),
        choices=Objective.HealthDimension.choices,
        initial=Objective.HealthDimension.CUSTOMER_VALUE,
        help_text=_("The value this objective serves, shown on the health dashboard."),
    )
    visibility = forms.ChoiceField(
        label=_("Who can see it"),
        choices=Objective.Visibility.choices,
        initial=Objective.Visibility.ORGANIZATION,
        help_text=_("Private: only the owner, their managers, the team and org admins."),
    )
    state = forms.ChoiceField(
        label=_("State"),
        choices=[(Objective.State.DRAFT, _("Draft")), (Objective.State.ACTIVE, _("Active"))],
        initial=Objective.State.DRAFT,
        help_text=_("Keep it a draft while you shape it with your team; make it active when you commit."),
    )

    def __init__(self, *args, cycles, owners, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cycle"].set_objects(cycles, label=_cycle_label)
        self.fields["owner"].set_objects(owners, label=_person_label)
        self.fields["team"].set_objects(teams)


def _cycle_label(cycle: Cycle) -> str:
    return f"{cycle.name} ({cycle.get_state_display()})"


class ObjectiveEditForm(forms.Form):
    """The fields ``objective_update`` accepts (cycle and owner do not change here)."""

    title = ObjectiveForm.base_fields["title"]
    description = ObjectiveForm.base_fields["description"]
    team = InstanceChoiceField(label=_("Team"), required=False, empty_label=_("No team"))
    level = ObjectiveForm.base_fields["level"]
    kind = ObjectiveForm.base_fields["kind"]
    health_dimension = ObjectiveForm.base_fields["health_dimension"]
    visibility = ObjectiveForm.base_fields["visibility"]
    state = forms.ChoiceField(
        label=_("State"),
        choices=Objective.State.choices,
        help_text=_("Archived objectives are left out of progress, counts and the dashboards."),
    )
    closing_note = forms.CharField(
        label=_("Closing note (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("When you close or archive it: what happened and why."),
    )

    def __init__(self, *args, objective: Objective, teams, **kwargs):
        kwargs.setdefault(
            "initial", {name: getattr(objective, name) for name in self.base_fields if name != "team"}
        )
        kwargs["initial"].setdefault("team", objective.team_id and str(objective.team_id))
        super().__init__(*args, **kwargs)
        self.objective = objective
        self.fields["team"].set_objects(teams)

    def changes(self) -> dict:
        return differing(self.objective, self.cleaned_data)


class KeyResultDefinitionForm(forms.Form):
    """What a key result measures: shared by the objective form's KR rows and the KR rows
    of an objective template (okrs.forms.templates)."""

    title = forms.CharField(
        label=_("Key result"),
        max_length=200,
        help_text=_("An outcome from X to Y, not an activity."),
    )
    kind = forms.ChoiceField(label=_("Type"), choices=KeyResult.Kind.choices, initial=scoring.INCREASE)
    unit = forms.ChoiceField(label=_("Unit"), choices=KeyResult.Unit.choices, initial=KeyResult.Unit.NUMBER)
    currency_code = forms.CharField(
        label=_("Currency"),
        max_length=3,
        required=False,
        help_text=_("Three letters, e.g. EUR or CNY."),
        widget=forms.TextInput(attrs={"size": 4, "autocomplete": "off"}),
    )
    unit_label = forms.CharField(
        label=_("What is counted"),
        max_length=40,
        required=False,
        help_text=_("e.g. customers, tickets, minutes."),
    )
    start = forms.FloatField(label=_("Start value"), required=False, localize=True)
    target = forms.FloatField(label=_("Target value"), required=False, localize=True)
    low = forms.FloatField(label=_("Lower bound"), required=False, localize=True)
    high = forms.FloatField(label=_("Upper bound"), required=False, localize=True)


class KeyResultForm(KeyResultDefinitionForm):
    weight = forms.FloatField(
        label=_("Weight"),
        initial=1.0,
        localize=True,
        help_text=_("How much it counts in the objective's progress (1 = as much as the others)."),
    )
    owner = InstanceChoiceField(label=_("Owner"), required=False)
    due_date = forms.DateField(
        label=_("Target date (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, people, owner_label: str | None = None, row_url: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        owner.empty_label = owner_label or _("The objective's owner")
        owner.set_objects(people, label=_person_label)
        kind = self.current_kind
        for name, labels in NUMBER_LABELS.items():
            self.fields[name].label = labels.get(kind, labels["default"])
        self.fields["kind"].help_text = KIND_HELP.get(kind, "")
        self.fields["kind"].widget.attrs["class"] = "kr-kind"
        self.fields["unit"].widget.attrs["class"] = "kr-unit"
        if row_url:
            # With HTMX the row comes back with the fields (and labels) of the chosen type.
            swap = {
                "hx-post": f"{row_url}?kr_row={self.prefix}",
                "hx-trigger": "change",
                "hx-target": "closest .kr-row",
                "hx-swap": "outerHTML",
            }
            self.fields["kind"].widget.attrs.update(swap)
            self.fields["unit"].widget.attrs.update(swap)

    def _raw(self, name: str):
        # Read without creating the bound field, whose label and help are fixed once created.
        if self.is_bound:
            return self.data.get(self.add_prefix(name))
        return self.initial.get(name, self.fields[name].initial)

    @property
    def current_kind(self) -> str:
        value = self._raw("kind")
        return value if value in KIND_FIELDS else scoring.INCREASE

    @property
    def current_unit(self) -> str:
        value = self._raw("unit")
        return value if value in KeyResult.Unit.values else KeyResult.Unit.NUMBER

    @property
    def kind_explanations(self) -> list[tuple[str, str, str, bool]]:
        """(type, its name, explanation, is the chosen one) for every type, in the order of the choices."""
        kind = self.current_kind
        return [(value, label, KIND_HELP[value], value == kind) for value, label in KeyResult.Kind.choices]

    def used_fields(self) -> set[str]:
        """The fields the chosen type (and unit) use; the others are hidden and not saved."""
        kind = self.current_kind
        used = {"title", "kind", "weight", "owner", "due_date", *KIND_FIELDS[kind]}
        if kind != scoring.MILESTONE:
            used |= {"unit", "unit_label"}
            if self.current_unit == KeyResult.Unit.CURRENCY:
                used.add("currency_code")
        return used

    def clean(self):
        cleaned = super().clean()
        if self.errors or "kind" not in cleaned:
            return cleaned
        # The definition rules of the type (scoring's own check, as the service applies it), so
        # every row reports them even when another part of the page is not valid yet.
        values = self.service_kwargs()
        errors = scoring.key_result_errors(
            values["kind"], start=values.get("start"), target=values.get("target"),
            low=values.get("low"), high=values.get("high"), weight=values.get("weight"),
        )  # fmt: skip
        for field, message in errors.items():
            self.add_error(field if field in self.fields else None, message)
        return cleaned

    def service_kwargs(self) -> dict:
        """The cleaned values for ``key_result_create`` / ``key_result_update``, with the
        fields the chosen type does not use cleared (a hidden start value is not kept)."""
        data = dict(self.cleaned_data)
        kind = data.get("kind") or scoring.INCREASE
        for name in NUMBER_FIELDS:
            if name not in KIND_FIELDS.get(kind, ()):
                data[name] = None
        if kind == scoring.MILESTONE:
            data.update(unit=KeyResult.Unit.NUMBER, unit_label="", currency_code="")
        elif data.get("unit") != KeyResult.Unit.CURRENCY:
            data["currency_code"] = ""
        return data

    def changes(self, key_result: KeyResult) -> dict:
        """What differs from the saved ``key_result`` (no owner chosen: the objective's owner)."""
        values = self.service_kwargs()
        values["owner"] = values.get("owner") or key_result.objective.owner
        return differing(key_result, values)


class KeyResultFormSetBase(forms.BaseFormSet):
    """Rows can start from what was typed before (``rows``) without being validated."""

    def __init__(self, *args, rows: list[dict] | None = None, **kwargs):
        self.rows = rows or []
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        if index is not None and index < len(self.rows):
            kwargs["initial"] = self.rows[index]
        return kwargs

    def filled_forms(self) -> list[KeyResultForm]:
        """The rows with something in them: untouched rows are skipped, wherever they are."""
        return [form for form in self.forms if form.has_changed() and form.cleaned_data]

    def clean(self):
        if any(self.errors):
            return
        if not self.filled_forms():
            raise forms.ValidationError(
                _("Add at least one key result: 2–3 outcomes that show the objective is achieved."),
                code="no_key_results",
            )

    def with_rows(self, add: int = 0) -> KeyResultFormSetBase:
        """An unbound copy holding what was typed, plus ``add`` empty rows, nothing validated."""
        rows = [raw_initial(form) for form in self.forms]
        copy = type(self)(prefix=self.prefix, rows=rows, form_kwargs=self.form_kwargs)
        copy.extra = len(rows) + add
        return copy


KeyResultFormSet = forms.formset_factory(
    KeyResultForm,
    formset=KeyResultFormSetBase,
    extra=2,
    max_num=MAX_KEY_RESULT_ROWS,
    validate_max=True,
    absolute_max=MAX_KEY_RESULT_ROWS,
)


def key_result_initial(key_result: KeyResult) -> dict:
    initial = {name: getattr(key_result, name) for name in KeyResultForm.base_fields if name != "owner"}
    initial["owner"] = str(key_result.owner_id)
    return initial


# --- Starting from one of the organisation's objective templates --------------------------------------


class TemplatePickForm(forms.Form):
    """Start from a template: a GET form above the objective form (it reloads the page with
    ``?template=<id>``; with JavaScript, choosing one submits it at once)."""

    template = forms.ChoiceField(label=_("Start from a template"), required=False)

    def __init__(self, *args, groups, **kwargs):
        """``groups``: the templates grouped by function (``okrs.selectors.templates``)."""
        super().__init__(*args, **kwargs)
        field = self.fields["template"]
        field.choices = [("", _("— A blank objective —"))] + [
            (group.label, [(str(template.pk), template.title) for template in group.templates])
            for group in groups
        ]
        field.widget.attrs.update({"data-autosubmit": "", "data-testid": "template-select"})
        field.help_text = _("Prefills the objective and its key results; change anything before you save.")


def template_prefill(template: ObjectiveTemplate) -> tuple[dict, list[dict]]:
    """The objective form's initial title and description, and the initial key result rows
    (no owner: the objective's owner, as when a row is left without one)."""
    rows = []
    saved = template.key_results if isinstance(template.key_results, list) else []
    for row in saved[:MAX_KEY_RESULT_ROWS]:
        if not isinstance(row, dict):
            continue
        initial = {name: row.get(name) for name in ("title", "kind", "unit", "currency_code", "unit_label")}
        initial.update({name: row.get(name) for name in NUMBER_FIELDS})
        initial["weight"] = row.get("weight") if row.get("weight") is not None else 1.0
        rows.append({name: "" if value is None else value for name, value in initial.items()})
    return {"title": template.title, "description": template.description}, rows


class AlignmentForm(forms.Form):
    """The parent an objective contributes to, chosen in the alignment picker."""

    q = forms.CharField(
        label=_("Search objectives and key results"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    parent = forms.CharField(label=_("Contributes to"), required=False)
    message = forms.CharField(
        label=_("Why this contributes (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Tell the parent's owner how your objective moves theirs; they accept or push back."),
    )

    def __init__(self, *args, user: User, require_parent: bool = False, **kwargs):
        kwargs.setdefault("prefix", "align")
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["parent"].required = require_parent

    def clean_parent(self):
        token = self.cleaned_data.get("parent") or ""
        if not token:
            return None
        target = alignment_target(self.user, token)
        if target is None:
            raise forms.ValidationError(_("Choose an objective or key result from the search results."))
        return target

    def service_kwargs(self) -> dict:
        parent = self.cleaned_data.get("parent")
        if parent is None:
            return {}
        key = "parent_key_result" if isinstance(parent, KeyResult) else "parent_objective"
        return {key: parent, "message": self.cleaned_data.get("message") or ""}


class AcceptForm(forms.Form):
    response = forms.CharField(
        label=_("Comment (optional)"), required=False, max_length=2000, widget=forms.Textarea
    )


class DeclineForm(forms.Form):
    response = forms.CharField(
        label=_("Why not? The owner sees this and can adjust the objective."),
        required=False,  # the service says what is missing, in its own words
        max_length=2000,
        widget=forms.Textarea,
    )


class InitiativeForm(forms.Form):
    title = forms.CharField(
        label=_("New initiative"),
        max_length=200,
        help_text=_("An activity that moves this key result (tracked, not scored)."),
    )

    def __init__(self, data=None, *, key_result: KeyResult):
        super().__init__(data, prefix=f"kr{key_result.pk}")


# --- The live quality check: what is typed so far, as unsaved instances --------------------------------

_LENIENT_NUMBER = forms.FloatField(required=False, localize=True)
_LENIENT_DATE = forms.DateField(required=False)


def _lenient(field: forms.Field, value):
    try:
        return field.clean(value)
    except forms.ValidationError:
        return None


def int_or_none(value) -> int | None:
    """A database id typed into a form or a query string; None when it is not one."""
    value = (value or "").strip() if isinstance(value, str) else ""
    return int(value) if value.isdigit() and len(value) < 19 else None


def _choice(value, choices, default: str) -> str:
    return value if value in choices else default


def unsaved_key_results(data, *, owner_id: int | None, prefix: str = "kr") -> list[KeyResult]:
    """The key result rows typed so far (empty rows skipped), never saved. Half-typed
    numbers or dates count as not given yet."""
    total = int_or_none(data.get(f"{prefix}-TOTAL_FORMS")) or 0
    key_results = []
    for index in range(min(total, MAX_KEY_RESULT_ROWS)):
        row = f"{prefix}-{index}-"
        numbers = {name: _lenient(_LENIENT_NUMBER, data.get(row + name)) for name in NUMBER_FIELDS}
        title = (data.get(row + "title") or "").strip()
        if not title and all(value is None for value in numbers.values()):
            continue
        kind = _choice(data.get(row + "kind"), KIND_FIELDS, scoring.INCREASE)
        for name in NUMBER_FIELDS:
            if name not in KIND_FIELDS[kind]:
                numbers[name] = None
        key_results.append(
            KeyResult(
                title=title[:200],
                kind=kind,
                unit=_choice(data.get(row + "unit"), KeyResult.Unit.values, KeyResult.Unit.NUMBER),
                currency_code=(data.get(row + "currency_code") or "")[:3],
                unit_label=(data.get(row + "unit_label") or "")[:40],
                owner_id=int_or_none(data.get(row + "owner")) or owner_id,
                due_date=_lenient(_LENIENT_DATE, data.get(row + "due_date")),
                position=index,
                **numbers,
            )
        )
    return key_results


def unsaved_objective(data, *, cycle: Cycle | None, base: Objective | None = None) -> Objective:
    """The objective as typed so far (on top of ``base`` when editing), never saved."""
    objective = base or Objective()
    if cycle is not None:
        objective.cycle = cycle
    if "title" in data:
        objective.title = (data.get("title") or "")[:300]
    if base is None:
        objective.owner_id = int_or_none(data.get("owner"))
    objective.level = _choice(data.get("level"), Objective.Level.values, objective.level)
    objective.state = _choice(data.get("state"), Objective.State.values, objective.state)
    if "align-parent" in data:
        parsed = parse_parent_token(data.get("align-parent"))
        objective.parent_objective_id = parsed[1] if parsed and parsed[0] == "objective" else None
        objective.parent_key_result_id = parsed[1] if parsed and parsed[0] == "key_result" else None
    return objective
