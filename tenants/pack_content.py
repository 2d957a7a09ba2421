"""The content of a method pack version: its shape, the YAML a consultant edits, and the
built-in starter pack.

Content (``MethodPackVersion.content``), every part optional but at least one given::

    templates:            # objective templates by function, each with a key unique in the pack
      - key: sales-pipeline
        function: sales   # okrs.models_method.ObjectiveTemplate.Function
        title: ...
        description: ...
        key_results:      # checked by okrs.method.key_result_rows_errors
          - {title: ..., kind: increase, unit: number, start: 0, target: 100}
    checkin_questions: [...]
    review_prompts: [...]
    thresholds: {at_risk_gap: 0.15, off_track_gap: 0.3}
    cadence: weekly | biweekly | monthly
"""

from __future__ import annotations

import re

import yaml
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from okrs.method import ROW_FIELDS, is_finite_number, template_errors
from okrs.models import Cycle
from okrs.models_method import ObjectiveTemplate

PARTS = ("templates", "checkin_questions", "review_prompts", "thresholds", "cadence")
TEMPLATE_FIELDS = ("key", "function", "title", "description", "key_results")
MAX_TEMPLATES = 100
MAX_TEXTS = 20
MAX_TEXT_LENGTH = 500
MAX_KEY_LENGTH = 80
MAX_YAML_LENGTH = 200_000
KEY_PATTERN = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")


# --- Validation ---------------------------------------------------------------------------------------


def _has_nul(value: object) -> bool:
    """PostgreSQL stores no NUL character (YAML can write one as "\\0")."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _template_errors(number: int, entry: object, seen: set[str]) -> list[str]:
    if not isinstance(entry, dict):
        return [
            _("Template %(number)d: give it as a mapping (key, function, title, …).") % {"number": number}
        ]
    key = entry.get("key")
    label = (
        _("Template %(number)d (%(key)s)") % {"number": number, "key": key}
        if isinstance(key, str) and key
        else _("Template %(number)d") % {"number": number}
    )
    unknown = sorted(str(name) for name in entry if name not in TEMPLATE_FIELDS)
    if unknown:
        return [
            _("%(template)s: unknown field(s) %(fields)s; the fields are: %(known)s.")
            % {
                "template": label,
                "fields": ", ".join(f"“{name}”" for name in unknown),
                "known": ", ".join(TEMPLATE_FIELDS),
            }
        ]
    messages: list[str] = []
    if not isinstance(key, str) or not KEY_PATTERN.match(key) or len(key) > MAX_KEY_LENGTH:
        messages.append(
            _(
                "Give a key of lowercase letters, digits and hyphens (at most %(max)d characters), "
                "for example “sales-pipeline”."
            )
            % {"max": MAX_KEY_LENGTH}
        )
    elif key in seen:
        messages.append(_("The key “%(key)s” is used by another template.") % {"key": key})
    else:
        seen.add(key)
    messages.extend(
        template_errors(
            function=entry.get("function"),
            title=entry.get("title"),
            description=entry.get("description"),
            key_results=entry.get("key_results"),
        )
    )
    return [f"{label}: {message}" for message in messages]


def _templates_errors(templates: object) -> list[str]:
    if not isinstance(templates, list):
        return [_("Templates: give a list.")]
    errors = []
    if len(templates) > MAX_TEMPLATES:
        errors.append(_("Templates: at most %(max)d.") % {"max": MAX_TEMPLATES})
    seen: set[str] = set()
    for number, entry in enumerate(templates, start=1):
        errors.extend(_template_errors(number, entry, seen))
    return errors


def _texts_errors(label: str, value: object) -> list[str]:
    if not isinstance(value, list):
        return [_("%(part)s: give a list of texts.") % {"part": label}]
    errors = []
    if len(value) > MAX_TEXTS:
        errors.append(_("%(part)s: at most %(max)d.") % {"part": label, "max": MAX_TEXTS})
    for number, text in enumerate(value, start=1):
        if not isinstance(text, str) or not text.strip():
            errors.append(_("%(part)s %(number)d: give a text.") % {"part": label, "number": number})
        elif len(text.strip()) > MAX_TEXT_LENGTH:
            errors.append(
                _("%(part)s %(number)d: at most %(max)d characters.")
                % {"part": label, "number": number, "max": MAX_TEXT_LENGTH}
            )
    return errors


def _thresholds_errors(value: object) -> list[str]:
    if not isinstance(value, dict) or set(value) != {"at_risk_gap", "off_track_gap"}:
        return [_("Thresholds: give both at_risk_gap and off_track_gap (and nothing else).")]
    at_risk, off_track = value["at_risk_gap"], value["off_track_gap"]
    if not (is_finite_number(at_risk) and is_finite_number(off_track)):
        return [_("Thresholds: both must be numbers (fractions, e.g. 0.15).")]
    if not 0 < at_risk < off_track <= 1:
        return [_("Thresholds: they must satisfy 0 < at_risk_gap < off_track_gap ≤ 1.")]
    return []


def pack_content_errors(content: object) -> list[str]:
    """Everything wrong with a pack version's content (``[]`` when valid)."""
    if not isinstance(content, dict):
        return [_("The content must be a mapping with some of: %(parts)s.") % {"parts": ", ".join(PARTS)}]
    unknown = sorted(str(name) for name in content if name not in PARTS)
    if unknown:
        return [
            _("Unknown part(s) %(parts)s; the parts are: %(known)s.")
            % {"parts": ", ".join(f"“{name}”" for name in unknown), "known": ", ".join(PARTS)}
        ]
    if _has_nul(content):
        return [_("The content contains a NUL character; remove it.")]
    if not any(content.get(part) not in (None, [], {}, "") for part in PARTS):
        return [_("The pack is empty: give at least templates, questions, prompts, thresholds or a cadence.")]
    errors: list[str] = []
    if content.get("templates") is not None:
        errors.extend(_templates_errors(content["templates"]))
    if content.get("checkin_questions") is not None:
        errors.extend(_texts_errors(_("Check-in question"), content["checkin_questions"]))
    if content.get("review_prompts") is not None:
        errors.extend(_texts_errors(_("Review prompt"), content["review_prompts"]))
    if content.get("thresholds") is not None:
        errors.extend(_thresholds_errors(content["thresholds"]))
    cadence = content.get("cadence")
    if cadence is not None and cadence not in Cycle.Cadence.values:
        errors.append(_("Cadence: choose one of %(choices)s.") % {"choices": ", ".join(Cycle.Cadence.values)})
    return errors


def pack_content_validate(content: object, *, field: str = "content") -> dict:
    """The content, or a ValidationError keyed by ``field`` listing every problem."""
    errors = pack_content_errors(content)
    if errors:
        raise ValidationError({field: errors})
    return content


# --- YAML ---------------------------------------------------------------------------------------------


class _NoAliasSafeLoader(yaml.SafeLoader):
    """safe_load without anchors and aliases: a pack never needs them, and refusing them
    rules out "billion laughs" expansion."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in a method pack", event.start_mark
            )
        return super().compose_node(parent, index)


def _yaml_message(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is None:
        return _("The YAML could not be read: %(problem)s.") % {"problem": problem}
    return _("YAML error on line %(line)d, column %(column)d: %(problem)s.") % {
        "line": mark.line + 1,
        "column": mark.column + 1,
        "problem": problem,
    }


def pack_content_from_yaml(text: str, *, field: str = "content") -> dict:
    """Parse a pack's YAML (safe loader, no aliases). A syntax error raises a
    ValidationError keyed by ``field`` naming the line; the shape is not checked here
    (``pack_content_errors``)."""
    if len(text) > MAX_YAML_LENGTH:
        raise ValidationError(
            {field: [_("The content is longer than %(max)d characters.") % {"max": MAX_YAML_LENGTH}]}
        )
    if "\x00" in text:
        raise ValidationError({field: [_("The content contains a NUL character.")]})
    try:
        content = yaml.load(text, Loader=_NoAliasSafeLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as error:
        raise ValidationError({field: [_yaml_message(error)]}) from error
    if content is None:
        raise ValidationError({field: [_("The content is empty.")]})
    return content


def pack_content_parse(text: str, *, field: str = "content") -> dict:
    """YAML text to valid content, or a ValidationError keyed by ``field`` (the syntax
    error with its line, or every problem of the shape)."""
    return pack_content_validate(pack_content_from_yaml(text, field=field), field=field)


def _in_order(mapping: object, order: tuple[str, ...]) -> object:
    if not isinstance(mapping, dict):
        return mapping
    ordered = {name: mapping[name] for name in order if name in mapping}
    ordered.update({name: value for name, value in mapping.items() if name not in ordered})
    return ordered


def pack_content_to_yaml(content: dict) -> str:
    """YAML for editing: parts and fields in their usual order (the database stores JSON
    objects with their keys sorted), text as written (unicode)."""
    ordered = _in_order(content, PARTS)
    if isinstance(ordered.get("templates"), list):
        ordered["templates"] = [
            _in_order(
                {**entry, "key_results": [_in_order(row, ROW_FIELDS) for row in entry["key_results"]]}
                if isinstance(entry, dict) and isinstance(entry.get("key_results"), list)
                else entry,
                TEMPLATE_FIELDS,
            )
            for entry in ordered["templates"]
        ]
    if isinstance(ordered.get("thresholds"), dict):
        ordered["thresholds"] = _in_order(ordered["thresholds"], ("at_risk_gap", "off_track_gap"))
    return yaml.safe_dump(ordered, allow_unicode=True, sort_keys=False, width=100, default_flow_style=False)


class PackContentField(forms.CharField):
    """A form field for the portal and the admin: YAML text in, valid content out (the
    errors: the YAML line, or every problem of the shape)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", gettext_lazy("Content (YAML)"))
        kwargs.setdefault(
            "help_text",
            gettext_lazy(
                "YAML with any of: templates (key, function, title, description, key_results), "
                "checkin_questions, review_prompts, thresholds (at_risk_gap, off_track_gap) and cadence "
                "(weekly, biweekly, monthly)."
            ),
        )
        kwargs.setdefault("max_length", MAX_YAML_LENGTH)
        kwargs.setdefault("strip", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}))
        super().__init__(**kwargs)

    def clean(self, value):
        text = super().clean(value)
        try:
            return pack_content_parse(text)
        except ValidationError as error:
            raise ValidationError(error.message_dict["content"]) from error


# --- Reading a version --------------------------------------------------------------------------------


def templates_by_function(content: dict) -> list[tuple[str, list[dict]]]:
    """The templates grouped by function in the model's order: [(label, [template, ...])]."""
    groups: dict[str, list[dict]] = {}
    for template in content.get("templates") or []:
        groups.setdefault(template.get("function"), []).append(template)
    return [(label, groups[value]) for value, label in ObjectiveTemplate.Function.choices if value in groups]


# --- The starter pack ---------------------------------------------------------------------------------


def _kr(title: str, kind: str, *, unit: str = "number", unit_label: str = "", **values) -> dict:
    row = {"title": title, "kind": kind, "unit": unit, **values}
    if unit_label:
        row["unit_label"] = unit_label
    return row


STARTER_CONTENT: dict = {
    "templates": [
        {
            "key": "sales-pipeline",
            "function": "sales",
            "title": "Build a pipeline that makes the quarter predictable",
            "description": "Enough qualified opportunities early in the quarter that the target never "
            "depends on one deal.",
            "key_results": [
                _kr("Qualified pipeline at 3× the quarterly target", "increase", unit="percent",
                    start=150, target=300),
                _kr("New qualified opportunities per month", "increase", start=20, target=35,
                    unit_label="opportunities"),
                _kr("Median days from first call to proposal", "decrease", start=30, target=18,
                    unit_label="days"),
            ],
        },
        {
            "key": "sales-new-segment",
            "function": "sales",
            "title": "Win our first customers in the mid-market segment",
            "description": "Prove we can sell to 200–1,000 employee companies before hiring for it.",
            "key_results": [
                _kr("Signed mid-market customers", "increase", start=0, target=5, unit_label="customers"),
                _kr("Win rate on mid-market proposals", "increase", unit="percent", start=10, target=25),
                _kr("Repeatable mid-market playbook published", "milestone"),
            ],
        },
        {
            "key": "engineering-delivery",
            "function": "engineering",
            "title": "Ship small changes safely and often",
            "description": "Shorter lead times and fewer incidents mean customers get value sooner.",
            "key_results": [
                _kr("Deployments to production per week", "increase", start=3, target=15,
                    unit_label="deployments"),
                _kr("Median lead time from merge to production", "decrease", start=48, target=4,
                    unit_label="hours"),
                _kr("Change failure rate stays below", "stay_below", unit="percent", start=12, target=15),
            ],
        },
        {
            "key": "engineering-reliability",
            "function": "engineering",
            "title": "Make the product reliable enough that customers stop noticing outages",
            "description": "",
            "key_results": [
                _kr("Monthly availability of the core service", "stay_above", unit="percent",
                    start=99.95, target=99.9),
                _kr("P1 incidents per month", "decrease", start=4, target=1, unit_label="incidents"),
            ],
        },
        {
            "key": "customer-success-retention",
            "function": "customer_success",
            "title": "Keep the customers we have",
            "description": "Retention compounds: every point of churn we avoid is revenue we keep "
            "every year.",
            "key_results": [
                _kr("Net revenue retention", "increase", unit="percent", start=98, target=108),
                _kr("Logo churn per quarter", "decrease", unit="percent", start=4, target=2),
                _kr("Accounts with a success plan reviewed this quarter", "increase", unit="percent",
                    start=30, target=90),
            ],
        },
        {
            "key": "customer-success-onboarding",
            "function": "customer_success",
            "title": "Get every new customer to value in their first month",
            "description": "",
            "key_results": [
                _kr("Median days to first value", "decrease", start=45, target=21, unit_label="days"),
                _kr("New customers fully onboarded within 30 days", "increase", unit="percent",
                    start=40, target=80),
            ],
        },
        {
            "key": "operations-cost",
            "function": "operations",
            "title": "Run the business leaner without slowing it down",
            "description": "",
            "key_results": [
                _kr("Cost to serve per customer per month", "decrease", unit="currency",
                    currency_code="EUR", start=120, target=95),
                _kr("Orders fulfilled within two days", "increase", unit="percent", start=70, target=92),
                _kr("Inventory turns per year stay within the healthy band", "stay_between", low=6, high=10),
            ],
        },
        {
            "key": "operations-processes",
            "function": "operations",
            "title": "Make our core processes measurable and owned",
            "description": "",
            "key_results": [
                _kr("Core processes with a named owner and a documented standard", "increase", start=2,
                    target=10, unit_label="processes"),
                _kr("Weekly operations review running with a dashboard", "milestone"),
            ],
        },
        {
            "key": "hr-hiring",
            "function": "hr",
            "title": "Hire the people the plan needs, on time",
            "description": "",
            "key_results": [
                _kr("Median days from opening to accepted offer", "decrease", start=60, target=40,
                    unit_label="days"),
                _kr("Offer acceptance rate", "increase", unit="percent", start=65, target=85),
                _kr("New hires rating their onboarding 4/5 or better", "increase", unit="percent",
                    start=60, target=90),
            ],
        },
        {
            "key": "hr-engagement",
            "function": "hr",
            "title": "Make this a place people want to stay",
            "description": "",
            "key_results": [
                _kr("Engagement survey score", "increase", start=6.8, target=7.8, unit_label="/ 10"),
                _kr("Regretted attrition over the last 12 months stays below", "stay_below",
                    unit="percent", start=6, target=8),
            ],
        },
        {
            "key": "general-focus",
            "function": "general",
            "title": "Focus the company on the few things that matter most",
            "description": "Fewer, clearer priorities that every team can connect its work to.",
            "key_results": [
                _kr("Teams whose OKRs align to a company objective", "increase", unit="percent",
                    start=50, target=100),
                _kr("Key results checked in on time", "increase", unit="percent", start=55, target=90),
            ],
        },
        {
            "key": "general-customer-voice",
            "function": "general",
            "title": "Bring the customer's voice into every team's decisions",
            "description": "",
            "key_results": [
                _kr("Net promoter score", "increase", start=20, target=40),
                _kr("Employees who spoke with a customer this quarter", "increase", unit="percent",
                    start=25, target=75),
                _kr("Customer advisory board launched", "milestone"),
            ],
        },
    ],
    "checkin_questions": [
        "What moved since the last check-in, and why?",
        "How confident are you that we reach the target, and what changed your confidence?",
        "What is blocking progress, and who can help remove it?",
        "What is the one next step you will take before the next check-in?",
    ],
    "review_prompts": [
        "What did we learn this cycle that we did not know at the start?",
        "Which key results did we set too high or too low, and what will we do differently?",
        "What helped progress most, and how do we keep it?",
        "What should we stop doing next cycle?",
    ],
    "thresholds": {"at_risk_gap": 0.15, "off_track_gap": 0.3},
    "cadence": "weekly",
}  # fmt: skip
