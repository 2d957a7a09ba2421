"""Writes on the organisation's review settings (settings pages, org admins)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import can_manage_organization_settings
from okrs.services.common import require
from reviews.models import ReviewSettings

logger = logging.getLogger(__name__)


@transaction.atomic
def review_settings_update(
    *, actor: User, review_scores_feed_appraisal: bool, auto_schedule: bool
) -> ReviewSettings:
    """Whether review scores may be used in people's appraisals (method §6: off unless
    the organisation decides otherwise) and whether review cycles are scheduled
    automatically when an OKR cycle is created or activated."""
    require(can_manage_organization_settings(actor), _("Only org admins change the review settings."))
    settings, _created = ReviewSettings.objects.select_for_update().get_or_create(pk=1)
    settings.review_scores_feed_appraisal = bool(review_scores_feed_appraisal)
    settings.auto_schedule = bool(auto_schedule)
    settings.full_clean()
    settings.save()
    logger.info("review settings changed by %s", actor.pk)
    return settings
