"""OKR quality check (SMARTER = SMART + Ethical + Reviewable, see docs/okr-method.md section 2).

:func:`objective_findings` is a pure function of an objective and its key results: it reads plain
attributes only and never touches the database, so it works on unsaved instances (e.g. a form preview).
:func:`objective_quality` loads what it needs for a saved objective in exactly two queries.

Findings are advice, not validation: the definition rules (kinds, bounds, weights) live in
``okrs.scoring.key_result_errors``. Order: objective-level findings first, then per key result
findings in key result order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext

from okrs import scoring

__all__ = [
    "ERROR",
    "INFO",
    "MAX_KEY_RESULTS",
    "MAX_OBJECTIVES_PER_OWNER",
    "MAX_TITLE_LENGTH",
    "MIN_KEY_RESULTS",
    "SANDBAGGING_CONFIDENCE",
    "WARNING",
    "Finding",
    "is_activity_title",
    "objective_findings",
    "objective_quality",
]

ERROR, WARNING, INFO = "error", "warning", "info"

MIN_KEY_RESULTS = 2
MAX_KEY_RESULTS = 5
MAX_OBJECTIVES_PER_OWNER = 5
MAX_TITLE_LENGTH = 120
SANDBAGGING_CONFIDENCE = 9  # on the 0-10 check-in scale; flagged when the average is above it

_ACTIVITY_VERBS = (
    "launch", "implement", "build", "hire", "create", "release", "ship", "deploy", "run", "hold",
    "organise", "organize", "write", "complete", "finish", "start", "introduce", "migrate", "set up",
    "roll out", "develop", "design", "publish", "host",
)  # fmt: skip
# A whole word at the start: "Run a workshop" but not "Runway ...", "Roll-out" as well as "roll out".
_ACTIVITY_ALTERNATIVES = "|".join(r"[\s-]+".join(map(re.escape, verb.split())) for verb in _ACTIVITY_VERBS)
_ACTIVITY_RE = re.compile(rf"^(?:{_ACTIVITY_ALTERNATIVES})(?!\w)", re.IGNORECASE)
# Chinese has no word boundaries: a plain prefix.
_ACTIVITY_PREFIXES_ZH = ("上线", "发布", "完成", "推出", "招聘", "实施", "开发", "建立")


@dataclass(frozen=True)
class Finding:
    code: str  # stable machine code, e.g. "too_few_key_results"
    severity: str  # "error" | "warning" | "info"
    message: str  # human, translated
    key_result_id: int | None = None  # set when the finding is about one key result


def is_activity_title(title: str | None) -> bool:
    """True when a key result title starts with an activity verb ("Launch ...", "上线...")."""
    text = (title or "").strip()
    return bool(_ACTIVITY_RE.match(text)) or text.startswith(_ACTIVITY_PREFIXES_ZH)


def objective_findings(objective, key_results: Sequence, *, owner_objectives_in_cycle: int) -> list[Finding]:
    """The quality findings for ``objective`` with ``key_results`` (in display order).

    ``owner_objectives_in_cycle`` is how many non-archived objectives the owner has in the cycle
    (this one included when it is saved). No database access: ``objective.cycle`` must be loaded
    (or unset) and the key results are read as given.
    """
    findings = _objective_level(objective, key_results, owner_objectives_in_cycle)
    cycle = _cycle_of(objective) if any(kr.due_date is not None for kr in key_results) else None
    for kr in key_results:
        findings.extend(_key_result_level(kr, cycle))
    return findings


def objective_quality(objective) -> list[Finding]:
    """Load the key results and the owner's objective count (2 queries) and check ``objective``.

    ``objective`` must be saved. When its cycle is not loaded yet it comes with the key results
    (a join), so the query count stays at two.
    """
    from okrs.models import Objective

    key_results = objective.key_results.order_by("position", "id")
    cycle_field = Objective._meta.get_field("cycle")
    if not cycle_field.is_cached(objective):
        key_results = key_results.select_related("objective__cycle")
    key_results = list(key_results)
    if key_results and not cycle_field.is_cached(objective):
        cycle_field.set_cached_value(objective, key_results[0].objective.cycle)
    owner_objectives_in_cycle = (
        Objective.objects.filter(cycle_id=objective.cycle_id, owner_id=objective.owner_id)
        .exclude(state=Objective.State.ARCHIVED)
        .count()
    )
    return objective_findings(objective, key_results, owner_objectives_in_cycle=owner_objectives_in_cycle)


# --- Objective level ------------------------------------------------------------------------------------


def _objective_level(objective, key_results: Sequence, owner_objectives_in_cycle: int) -> list[Finding]:
    findings: list[Finding] = []
    count = len(key_results)
    if count == 0:
        findings.append(
            Finding(
                "no_key_results",
                ERROR,
                gettext(
                    "This objective has no key results yet. Add 2–3 key results that show, from X to Y, "
                    "that the objective is achieved."
                ),
            )
        )
    elif count < MIN_KEY_RESULTS:
        findings.append(
            Finding(
                "too_few_key_results",
                WARNING,
                gettext(
                    "Only one key result. Add another so that 2–3 key results together show "
                    "that the objective is achieved."
                ),
            )
        )
    if count > MAX_KEY_RESULTS:
        findings.append(
            Finding(
                "too_many_key_results",
                WARNING,
                gettext(
                    "%(count)d key results are too many to focus on. Keep at most %(max)d: "
                    "the 2–3 that matter most."
                )
                % {"count": count, "max": MAX_KEY_RESULTS},
            )
        )
    if objective.owner_id is None:
        findings.append(
            Finding(
                "no_owner",
                ERROR,
                gettext("This objective has no owner. Every objective needs exactly one owner."),
            )
        )
    if owner_objectives_in_cycle > MAX_OBJECTIVES_PER_OWNER:
        findings.append(
            Finding(
                "owner_overloaded",
                WARNING,
                gettext(
                    "The owner has %(count)d objectives in this cycle, more than %(max)d: focus on fewer."
                )
                % {"count": owner_objectives_in_cycle, "max": MAX_OBJECTIVES_PER_OWNER},
            )
        )
    if (
        objective.level != "company"
        and objective.parent_objective_id is None
        and objective.parent_key_result_id is None
    ):
        findings.append(
            Finding(
                "not_aligned",
                WARNING,
                gettext(
                    "This objective is not aligned. Propose a parent objective or key result "
                    "it contributes to."
                ),
            )
        )
    confidences = [kr.confidence for kr in key_results if kr.confidence is not None]
    if objective.state == "draft" and confidences:
        average = sum(confidences) / len(confidences)
        if average > SANDBAGGING_CONFIDENCE:
            findings.append(
                Finding(
                    "sandbagging",
                    WARNING,
                    gettext(
                        "The average confidence of the key results is %(average).1f out of 10 before the "
                        "cycle starts: these targets may be too safe. Stretch them."
                    )
                    % {"average": average},
                )
            )
    title = (objective.title or "").strip()
    if not title:
        findings.append(
            Finding(
                "unfocused_title",
                INFO,
                gettext("The objective has no title. Say in a short sentence what you want to achieve."),
            )
        )
    elif len(title) > MAX_TITLE_LENGTH:
        findings.append(
            Finding(
                "unfocused_title",
                INFO,
                gettext(
                    "The objective title has %(length)d characters, more than %(max)d. Keep it to one "
                    "short, inspiring sentence and put the details in the description."
                )
                % {"length": len(title), "max": MAX_TITLE_LENGTH},
            )
        )
    return findings


# --- Key result level -----------------------------------------------------------------------------------


def _cycle_of(objective):
    try:
        return objective.cycle
    except ObjectDoesNotExist:  # an unsaved objective without a cycle
        return None


def _key_result_level(kr, cycle) -> list[Finding]:
    findings: list[Finding] = []
    title = (kr.title or "").strip()

    def add(code: str, severity: str, message: str) -> None:
        findings.append(Finding(code, severity, message, key_result_id=kr.id))

    if is_activity_title(title):
        add(
            "activity_key_result",
            WARNING,
            gettext(
                "“%(title)s” reads like an activity. Make it an initiative and measure the outcome "
                "it should change, from X to Y."
            )
            % {"title": title},
        )
    if (
        kr.kind in (scoring.INCREASE, scoring.DECREASE)
        and kr.start is not None
        and kr.target is not None
        and kr.start == kr.target
    ):
        add(
            "start_equals_target",
            ERROR,
            gettext(
                "“%(title)s” starts where it should end (%(value)s): progress cannot be measured. "
                "Set a target different from the start value."
            )
            % {"title": title, "value": f"{kr.start:g}"},
        )
    if kr.kind != scoring.MILESTONE:
        if kr.unit == "number" and not (kr.unit_label or "").strip():
            add(
                "no_unit",
                WARNING,
                gettext("“%(title)s” has no unit. Say what is counted (e.g. customers, tickets, minutes).")
                % {"title": title},
            )
        elif kr.unit == "currency" and not (kr.currency_code or "").strip():
            add(
                "no_unit",
                WARNING,
                gettext("“%(title)s” is an amount of money without a currency. Choose the currency.")
                % {"title": title},
            )
    due = kr.due_date
    if due is not None and cycle is not None and not cycle.start_date <= due <= cycle.end_date:
        add(
            "due_outside_cycle",
            ERROR,
            gettext(
                "“%(title)s” is due on %(due)s, outside the cycle (%(start)s – %(end)s). "
                "Move the date into the cycle or the key result into another cycle."
            )
            % {
                "title": title,
                "due": due.isoformat(),
                "start": cycle.start_date.isoformat(),
                "end": cycle.end_date.isoformat(),
            },
        )
    if kr.owner_id is None:
        add(
            "no_owner",
            ERROR,
            gettext("“%(title)s” has no owner. Someone must check in on it.") % {"title": title},
        )
    return findings
