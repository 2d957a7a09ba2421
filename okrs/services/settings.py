"""Writes on the organisation's OKR settings (settings pages, org admins): the status and
escalation rules, and the method's check-in questions and default cadence."""

from __future__ import annotations

import math
from numbers import Real

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import can_manage_organization_settings
from okrs.models import Cycle, OkrSettings
from okrs.recalculation import Clock, recalculate_all
from okrs.services.common import raise_if, require

MAX_ESCALATION_THRESHOLD = 10
# Guidance texts (check-in questions, review prompts): a short list people actually read.
MAX_GUIDANCE_LINES = 20
MAX_GUIDANCE_LENGTH = 500


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


@transaction.atomic
def okr_settings_update(
    *,
    actor: User,
    at_risk_gap: float,
    off_track_gap: float,
    escalation_threshold: int,
    rollup_aligned_children: bool,
) -> OkrSettings:
    """Change the status thresholds (how far behind the expected progress a key result
    may be before it is at risk / off track, as fractions), the escalation threshold and
    whether aligned child objectives count in a parent's progress.

    Statuses and roll-ups are cached (D6): when a threshold or the roll-up rule changes,
    every cached value is recalculated in the same transaction, so pages show the new
    rule at once rather than after the nightly run."""
    require(can_manage_organization_settings(actor), _("Only org admins change the OKR settings."))
    errors = {}
    if not _is_number(at_risk_gap) or not 0 < at_risk_gap < 1:
        errors["at_risk_gap"] = _("Give a percentage above 0 and below 100.")
    if not _is_number(off_track_gap) or not 0 < off_track_gap <= 1:
        errors["off_track_gap"] = _("Give a percentage above 0, at most 100.")
    elif "at_risk_gap" not in errors and off_track_gap <= at_risk_gap:
        errors["off_track_gap"] = _("“Off track” must start further behind than “at risk”.")
    if (
        isinstance(escalation_threshold, bool)
        or not isinstance(escalation_threshold, int)
        or not 1 <= escalation_threshold <= MAX_ESCALATION_THRESHOLD
    ):
        errors["escalation_threshold"] = _("Give a number of check-ins from 1 to %(max)d.") % {
            "max": MAX_ESCALATION_THRESHOLD
        }
    raise_if(errors)
    settings, _created = OkrSettings.objects.select_for_update().get_or_create(pk=1)
    rules_changed = (settings.at_risk_gap, settings.off_track_gap, settings.rollup_aligned_children) != (
        at_risk_gap,
        off_track_gap,
        bool(rollup_aligned_children),
    )
    settings.at_risk_gap, settings.off_track_gap = float(at_risk_gap), float(off_track_gap)
    settings.escalation_threshold = escalation_threshold
    settings.rollup_aligned_children = bool(rollup_aligned_children)
    settings.full_clean()
    settings.save()
    if rules_changed:
        recalculate_all(Clock.current(settings=settings))
    return settings


def guidance_lines_clean(lines: object) -> tuple[list[str], str | None]:
    """Check-in questions or review prompts as given (a list of texts): the non-blank ones,
    stripped, and the first problem found (None when there is none). Shared by the OKR and
    the review settings services."""
    if not isinstance(lines, list | tuple) or not all(isinstance(line, str) for line in lines):
        return [], _("Give a list of texts.")
    cleaned = [line.strip() for line in lines if line.strip()]
    if len(cleaned) > MAX_GUIDANCE_LINES:
        return cleaned, _("Give at most %(max)d, one per line (there are %(count)d).") % {
            "max": MAX_GUIDANCE_LINES,
            "count": len(cleaned),
        }
    for number, line in enumerate(cleaned, start=1):
        if len(line) > MAX_GUIDANCE_LENGTH:
            return cleaned, _("Line %(number)d is longer than %(max)d characters.") % {
                "number": number,
                "max": MAX_GUIDANCE_LENGTH,
            }
        if "\x00" in line:
            return cleaned, _("Line %(number)d contains a character that is not allowed.") % {
                "number": number
            }
    return cleaned, None


@transaction.atomic
def okr_method_settings_update(
    *, actor: User, checkin_questions: list[str], default_cadence: str
) -> OkrSettings:
    """The organisation's own method: the questions the check-in form shows as guidance and
    the check-in cadence new cycles start with. A method pack may have written them; what
    the org admin sets here is kept when a newer version of the pack is applied
    (``okrs.method.method_apply`` compares with what the pack wrote)."""
    require(can_manage_organization_settings(actor), _("Only org admins change the OKR settings."))
    questions, problem = guidance_lines_clean(checkin_questions)
    errors = {}
    if problem:
        errors["checkin_questions"] = problem
    if default_cadence not in Cycle.Cadence.values:
        errors["default_cadence"] = _("Choose weekly, every two weeks or monthly.")
    raise_if(errors)
    settings, _created = OkrSettings.objects.select_for_update().get_or_create(pk=1)
    settings.checkin_questions = questions
    settings.default_cadence = default_cadence
    settings.full_clean()
    settings.save(update_fields=["checkin_questions", "default_cadence"])
    return settings
