from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import require  # noqa: F401 - the OKR services' import point


def save_validated(instance, actor: User | None, **clean_kwargs) -> None:
    """full_clean, then save with the actor recorded in the audit history."""
    instance.full_clean(**clean_kwargs)
    instance._history_user = actor
    instance.save()


def raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationError({field: [message] for field, message in errors.items()})


def reject_unknown_fields(changes: dict, allowed: frozenset[str]) -> None:
    """Edits name their fields; anything computed or not editable is refused, never ignored."""
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed here: %(f)s.") % {"f": ", ".join(sorted(unknown))}
        )


def differing(instance, changes: dict) -> dict:
    """Of ``changes``, only the values that differ from the saved ``instance``: an edit that
    changes nothing saves nothing (and leaves no empty entry in the audit history)."""
    return {name: value for name, value in changes.items() if value != getattr(instance, name)}
