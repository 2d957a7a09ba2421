"""Writes on the organisation's notification settings (settings pages, org admins)."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import permissions
from accounts.models import NotificationSettings, User

logger = logging.getLogger(__name__)

MAX_REMINDERS_PER_WEEK = 20
WEEKDAYS = frozenset(NotificationSettings.Weekday.values)
# Also the form's validator, so the rule and its message are written once.
webhook_url_validator = URLValidator(
    schemes=["http", "https"],
    message=gettext_lazy("Give the webhook's full address, starting with https:// or http://."),
)


@transaction.atomic
def notification_settings_update(
    *,
    actor: User,
    checkin_day: int,
    digest_day: int,
    max_reminders_per_week: int,
    chat_webhook_url: str = "",
) -> NotificationSettings:
    """Set when check-in reminders and the weekly digest go out, how many reminders a
    person gets per week at most (escalations and digests don't count) and where chat
    messages are posted (an http(s) incoming-webhook address; empty: no chat)."""
    if not permissions.can_manage_organization_settings(actor):
        raise PermissionDenied(_("Only org admins change the notification settings."))
    errors: dict[str, list[str]] = {}
    if checkin_day not in WEEKDAYS:
        errors["checkin_day"] = [_("Choose a day of the week.")]
    if digest_day not in WEEKDAYS:
        errors["digest_day"] = [_("Choose a day of the week.")]
    if (
        isinstance(max_reminders_per_week, bool)
        or not isinstance(max_reminders_per_week, int)
        or not 0 <= max_reminders_per_week <= MAX_REMINDERS_PER_WEEK
    ):
        errors["max_reminders_per_week"] = [
            _("Give a number from 0 to %(max)d.") % {"max": MAX_REMINDERS_PER_WEEK}
        ]
    chat_webhook_url = (chat_webhook_url or "").strip()
    if chat_webhook_url:
        try:
            webhook_url_validator(chat_webhook_url)
        except ValidationError as error:
            errors["chat_webhook_url"] = error.messages
    if errors:
        raise ValidationError(errors)
    settings, _created = NotificationSettings.objects.select_for_update().get_or_create(pk=1)
    settings.checkin_day, settings.digest_day = checkin_day, digest_day
    settings.max_reminders_per_week = max_reminders_per_week
    settings.chat_webhook_url = chat_webhook_url
    settings.full_clean()
    settings.save()
    logger.info("notification settings changed by %s", actor.pk)
    return settings
