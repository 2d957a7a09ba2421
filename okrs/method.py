"""The organisation's method as a consultant's method pack sets it (tenant schemas only).

A method pack (public schema, ``tenants.method_packs``) carries objective templates,
check-in questions, status thresholds and a check-in cadence (and review prompts, which
``reviews.method`` writes). Applying a version copies it into the current schema without
overwriting what the client changed since the pack last wrote it:

- a template remembers the SHA-256 of what the pack wrote (``applied_hash``): while its
  content still hashes to that, a newer version may update or remove it; once the client
  edits it, it is kept as the client left it; one the client deleted is not written again;
- a setting is written while it still holds what the pack wrote last time (or, for one
  the pack never wrote, the model's default); otherwise the client's value is kept.

This module never imports ``tenants`` (import direction: accounts <- okrs <- reviews <- tenants).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from numbers import Real
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from okrs import scoring
from okrs.models import KeyResult, OkrSettings
from okrs.models_method import AppliedMethodPack, ObjectiveTemplate
from okrs.recalculation import Clock, recalculate_all
from okrs.selectors import okr_settings
from okrs.services.objectives import _key_result_errors

MAX_TEMPLATE_KEY_RESULTS = 10
MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2000
MAX_UNIT_LABEL_LENGTH = 40

# The fields of a template's key result row (the same names as KeyResult's fields).
ROW_TEXT_FIELDS = ("title", "kind", "unit", "currency_code", "unit_label")
ROW_NUMBER_FIELDS = ("start", "target", "low", "high", "weight")
ROW_FIELDS = ROW_TEXT_FIELDS + ROW_NUMBER_FIELDS


# --- Validation of template key result rows ---------------------------------------------------------------


def is_finite_number(value: object) -> bool:
    """A real number PostgreSQL can store as a float (not a bool, not inf/nan, not too big)."""
    if not isinstance(value, Real) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float (YAML accepts any size)
        return False


def _row_errors(row: object) -> list[str]:
    """What is wrong with one key result row (messages without the row number)."""
    if not isinstance(row, dict):
        return [_("Give it as a mapping with a title, a kind and its values.")]
    unknown = sorted(str(name) for name in row if name not in ROW_FIELDS)
    if unknown:
        return [
            _("Unknown field(s) %(fields)s; the fields are: %(known)s.")
            % {"fields": ", ".join(f"“{name}”" for name in unknown), "known": ", ".join(ROW_FIELDS)}
        ]
    errors: list[str] = []
    title = row.get("title")
    if not isinstance(title, str) or not title.strip():
        errors.append(_("A title is required."))
    elif len(title.strip()) > MAX_TITLE_LENGTH:
        errors.append(_("The title is longer than %(max)d characters.") % {"max": MAX_TITLE_LENGTH})
    kind = row.get("kind")
    if not isinstance(kind, str) or kind not in scoring.KINDS:
        errors.append(_("Choose the kind among: %(kinds)s.") % {"kinds": ", ".join(scoring.KINDS)})
    unit = row.get("unit", KeyResult.Unit.NUMBER)
    if not isinstance(unit, str) or unit not in KeyResult.Unit.values:
        errors.append(_("Choose the unit among: %(units)s.") % {"units": ", ".join(KeyResult.Unit.values)})
    for name in ("unit_label", "currency_code"):
        if row.get(name) is not None and not isinstance(row[name], str):
            errors.append(_("“%(field)s” must be text.") % {"field": name})
    if isinstance(row.get("unit_label"), str) and len(row["unit_label"]) > MAX_UNIT_LABEL_LENGTH:
        errors.append(_("The unit label is longer than %(max)d characters.") % {"max": MAX_UNIT_LABEL_LENGTH})
    for name in ROW_NUMBER_FIELDS:
        value = row.get(name)
        if value is not None and not is_finite_number(value):
            errors.append(_("“%(field)s” must be a number.") % {"field": name})
    if errors:
        return errors
    # The same rules as a key result created in the workspace.
    canonical = canonical_key_result_row(row)
    weight = canonical["weight"]
    key_result = KeyResult(
        title=canonical["title"],
        kind=canonical["kind"],
        unit=canonical["unit"],
        currency_code=canonical["currency_code"],
        unit_label=canonical["unit_label"],
        start=0.0 if kind == scoring.MILESTONE else canonical["start"],
        target=1.0 if kind == scoring.MILESTONE else canonical["target"],
        low=canonical["low"],
        high=canonical["high"],
        weight=weight,
    )
    return [str(message) for message in _key_result_errors(key_result).values()]


def key_result_rows_errors(rows: list) -> list[str]:
    """Validate the key results a template suggests: ``[]`` when valid, else messages such
    as "Key result 2: Give a target value.". Rows are mappings with ``title``, ``kind``
    (KeyResult.Kind), optional ``unit`` (KeyResult.Unit, default number), ``unit_label``,
    ``currency_code`` (required for a currency), ``start``/``target`` (increase, decrease,
    stay above/below), ``low``/``high`` (stay between) and ``weight`` (default 1)."""
    if not isinstance(rows, list):
        return [_("The key results must be a list.")]
    errors: list[str] = []
    if len(rows) > MAX_TEMPLATE_KEY_RESULTS:
        errors.append(
            _("A template suggests at most %(max)d key results.") % {"max": MAX_TEMPLATE_KEY_RESULTS}
        )
    for number, row in enumerate(rows, start=1):
        errors.extend(
            _("Key result %(number)d: %(message)s") % {"number": number, "message": message}
            for message in _row_errors(row)
        )
    return errors


def template_errors(
    *, function: object, title: object, description: object, key_results: object
) -> list[str]:
    """Validate a whole template (function, title, description, key results)."""
    errors: list[str] = []
    if not isinstance(function, str) or function not in ObjectiveTemplate.Function.values:
        errors.append(
            _("Choose the function among: %(functions)s.")
            % {"functions": ", ".join(ObjectiveTemplate.Function.values)}
        )
    if not isinstance(title, str) or not title.strip():
        errors.append(_("Give the objective a title."))
    elif len(title.strip()) > MAX_TITLE_LENGTH:
        errors.append(_("The title is longer than %(max)d characters.") % {"max": MAX_TITLE_LENGTH})
    if description is not None and not isinstance(description, str):
        errors.append(_("The description must be text."))
    elif description and len(description) > MAX_DESCRIPTION_LENGTH:
        errors.append(
            _("The description is longer than %(max)d characters.") % {"max": MAX_DESCRIPTION_LENGTH}
        )
    errors.extend(key_result_rows_errors(key_results if key_results is not None else []))
    return errors


# --- Canonical content and its hash -------------------------------------------------------------------


def _number_or_none(value: object) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Real):
        return float(value)
    return value  # not a number: left as is (validation reports it)


def _text(value: object) -> Any:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else value


def canonical_key_result_row(row: dict) -> dict:
    """One key result row with every field, numbers as floats, and only the values its
    kind uses (so two rows that mean the same key result are equal)."""
    kind = _text(row.get("kind"))
    unit = _text(row.get("unit")) or KeyResult.Unit.NUMBER
    canonical = {
        "title": _text(row.get("title")),
        "kind": kind,
        "unit": unit,
        "currency_code": _text(row.get("currency_code")).upper()
        if unit == KeyResult.Unit.CURRENCY and isinstance(row.get("currency_code"), str)
        else "",
        "unit_label": _text(row.get("unit_label")),
        "start": _number_or_none(row.get("start")),
        "target": _number_or_none(row.get("target")),
        "low": _number_or_none(row.get("low")),
        "high": _number_or_none(row.get("high")),
        "weight": _number_or_none(row.get("weight")) if row.get("weight") is not None else 1.0,
    }
    if kind == scoring.STAY_BETWEEN:
        canonical["start"] = canonical["target"] = None
    elif kind == scoring.MILESTONE:
        canonical["start"] = canonical["target"] = canonical["low"] = canonical["high"] = None
    elif kind in scoring.KINDS:
        canonical["low"] = canonical["high"] = None
    return canonical


def canonical_key_result_rows(rows: Sequence) -> list[dict]:
    return [canonical_key_result_row(row) if isinstance(row, dict) else row for row in rows or []]


def template_content_hash(function: str, title: str, description: str, key_results: list) -> str:
    """SHA-256 (hex) of a template's content in canonical JSON: equal for equal meaning,
    whatever the order of keys, ``100`` vs ``100.0`` or a trailing space."""
    payload = {
        "function": _text(function),
        "title": _text(title),
        "description": _text(description),
        "key_results": canonical_key_result_rows(key_results),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def template_hash_of(template: ObjectiveTemplate) -> str:
    """The hash of a stored template's current content (compare with ``applied_hash``)."""
    return template_content_hash(
        template.function, template.title, template.description, template.key_results
    )


def template_is_edited(template: ObjectiveTemplate) -> bool:
    """A pack's template the client has changed since the pack wrote it."""
    return bool(template.applied_hash) and template_hash_of(template) != template.applied_hash


# --- Settings a pack writes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsTarget:
    """A settings row a pack writes into.

    ``load`` returns the row locked for update (or the unsaved defaults while none exists);
    ``values`` picks from the pack's content the settings it gives, by field name;
    ``together`` names groups of fields written all or none (the thresholds must stay
    ordered, so a client change to one keeps both); ``after_save`` runs when something
    was written (the OKR thresholds recalculate the cached statuses)."""

    load: Callable[[], models.Model]
    values: Callable[[dict], dict[str, Any]]
    together: tuple[tuple[str, ...], ...] = ()
    after_save: Callable[[models.Model, set[str], datetime], None] | None = None


def _okr_values(content: dict) -> dict[str, Any]:
    values: dict[str, Any] = {}
    thresholds = content.get("thresholds")
    if isinstance(thresholds, dict):
        for name in ("at_risk_gap", "off_track_gap"):
            if name in thresholds:
                values[name] = float(thresholds[name])
    if content.get("cadence"):
        values["default_cadence"] = content["cadence"]
    if content.get("checkin_questions") is not None:  # absent or empty in YAML: not the pack's say
        values["checkin_questions"] = [str(q).strip() for q in content["checkin_questions"]]
    return values


def _okr_load() -> OkrSettings:
    return OkrSettings.objects.select_for_update().filter(pk=1).first() or okr_settings()


def _okr_after_save(row: models.Model, written: set[str], now: datetime) -> None:
    if written & {"at_risk_gap", "off_track_gap"}:
        # Statuses are cached (D6): new thresholds take effect at once, as on the settings page.
        recalculate_all(Clock.current(now=now, settings=row))


OKR_SETTINGS = SettingsTarget(
    load=_okr_load,
    values=_okr_values,
    together=(("at_risk_gap", "off_track_gap"),),
    after_save=_okr_after_save,
)


@dataclass
class ApplyResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0
    removed: int = 0
    kept_items: list[str] = field(default_factory=list)

    def keep(self, item: str) -> None:
        self.kept += 1
        self.kept_items.append(item)

    def as_dict(self) -> dict:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "kept": self.kept,
            "removed": self.removed,
            "kept_items": list(self.kept_items),
        }


def _field_default(row: models.Model, name: str) -> Any:
    return type(row)._meta.get_field(name).get_default()


def _settings_decisions(target: SettingsTarget, row: models.Model, values: dict, previous: dict) -> dict:
    """For each setting the pack gives: may it be written (the client has not changed it)?"""
    decisions = {
        name: getattr(row, name) == (previous[name] if name in previous else _field_default(row, name))
        for name in values
    }
    for group in target.together:
        present = [name for name in group if name in decisions]
        if not all(decisions[name] for name in present):
            decisions.update(dict.fromkeys(present, False))
    return decisions


def _apply_settings(
    target: SettingsTarget,
    *,
    content: dict,
    previous: dict,
    written: dict,
    result: ApplyResult,
    now: datetime,
) -> None:
    """Write one target's settings; record in ``written`` what the pack now stands behind
    (entries for settings kept as the client set them stay as the pack last wrote them)."""
    values = target.values(content)
    if not values:
        return
    row = target.load()
    decisions = _settings_decisions(target, row, values, previous)
    changed: set[str] = set()
    for name, value in values.items():
        if not decisions[name]:
            result.keep(f"setting {name}")
            continue
        written[name] = value
        if getattr(row, name) == value:
            result.unchanged += 1
            continue
        if name in previous:
            result.updated += 1
        else:
            result.added += 1
        setattr(row, name, value)
        changed.add(name)
    if not changed:
        return
    try:
        row.full_clean()
    except ValidationError as error:
        raise ValidationError(
            _("The method pack's settings are not valid here: %(errors)s")
            % {"errors": "; ".join(error.messages)}
        ) from error
    row.save()
    if target.after_save is not None:
        target.after_save(row, changed, now)


# --- Applying a pack version ----------------------------------------------------------------------------


def _template_values(template: dict) -> dict[str, Any]:
    return {
        "function": template["function"],
        "title": template["title"].strip(),
        "description": (template.get("description") or "").strip(),
        "key_results": canonical_key_result_rows(template.get("key_results") or []),
    }


def _templates_errors(templates: list) -> list[str]:
    """Checked when the version was published (tenants.pack_content); checked again here
    because a template that could not be used must never reach the client."""
    problems: list[str] = []
    for number, entry in enumerate(templates, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str) or not entry["key"]:
            problems.append(_("template %(number)d has no key") % {"number": number})
            continue
        problems.extend(
            f"{entry['key']}: {message}"
            for message in template_errors(
                function=entry.get("function"),
                title=entry.get("title"),
                description=entry.get("description"),
                key_results=entry.get("key_results"),
            )
        )
    return problems


def _apply_templates(
    templates: list, *, pack_slug: str, version: int, previous_keys: set[str], result: ApplyResult
) -> list[str]:
    """Create, update, keep or remove the pack's templates; returns the keys to remember."""
    existing = {
        template.pack_key: template
        for template in ObjectiveTemplate.objects.select_for_update()
        .filter(pack_slug=pack_slug)
        .exclude(pack_key="")
    }
    new_keys = {entry["key"] for entry in templates}
    for entry in templates:
        key = entry["key"]
        values = _template_values(entry)
        new_hash = template_content_hash(**values)
        template = existing.get(key)
        if template is None:
            if key in previous_keys:  # the pack wrote it before and the client deleted it
                result.keep(f"template {key}")
                continue
            ObjectiveTemplate.objects.create(
                **values, pack_slug=pack_slug, pack_key=key, pack_version=version, applied_hash=new_hash
            )
            result.added += 1
            continue
        current_hash = template_hash_of(template)
        if current_hash == new_hash:  # as this version has it (possibly the client made it so)
            result.unchanged += 1
        elif current_hash != template.applied_hash:  # changed by the client
            result.keep(f"template {key}")
            continue
        else:
            result.updated += 1
            for name, value in values.items():
                setattr(template, name, value)
        template.pack_version = version
        template.applied_hash = new_hash
        template.save()

    removed: set[str] = set()
    for key in sorted(set(existing) - new_keys):
        template = existing[key]
        if template_hash_of(template) != template.applied_hash:
            result.keep(f"template {key}")
        else:
            template.delete()
            removed.add(key)
            result.removed += 1
    return sorted((previous_keys | new_keys | set(existing)) - removed)


@transaction.atomic
def method_apply(
    *,
    content: dict,
    pack_slug: str,
    pack_name: str,
    version: int,
    applied_by: str,
    now: datetime,
    extra_settings: Sequence[SettingsTarget] = (),
) -> dict:
    """Apply a method pack version's ``content`` in the current schema (one transaction).

    Templates are matched by (pack, key): a new key is created; one the client left as
    the pack wrote it is updated to this version (or removed when this version drops it);
    one the client changed is kept; one the client deleted is not created again. Settings
    (this module's OKR settings, plus ``extra_settings`` such as ``reviews.method``'s) are
    written unless the client changed them. Returns the counts ``added``, ``updated``,
    ``unchanged``, ``kept``, ``removed`` and ``kept_items`` (``"template <key>"``,
    ``"setting <name>"``)."""
    templates = content.get("templates") or []
    problems = _templates_errors(templates)
    if problems:
        raise ValidationError(
            _("The method pack's templates are not valid: %(errors)s") % {"errors": "; ".join(problems)}
        )
    record = AppliedMethodPack.objects.select_for_update().filter(pack_slug=pack_slug).first()
    previous_settings = dict(record.settings_written) if record else {}
    result = ApplyResult()
    remembered = _apply_templates(
        templates,
        pack_slug=pack_slug,
        version=version,
        previous_keys=set(record.template_keys) if record else set(),
        result=result,
    )
    written = dict(previous_settings)
    for target in (OKR_SETTINGS, *extra_settings):
        _apply_settings(
            target, content=content, previous=previous_settings, written=written, result=result, now=now
        )
    AppliedMethodPack.objects.update_or_create(
        pack_slug=pack_slug,
        defaults={
            "pack_name": pack_name,
            "version": version,
            "applied_at": now,
            "applied_by": applied_by,
            "settings_written": written,
            "template_keys": remembered,
        },
    )
    return result.as_dict()
