"""Writes on the organisation's review settings (settings pages, org admins)."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import can_manage_organization_settings
from okrs.services.common import require
from okrs.services.settings import guidance_lines_clean
from reviews.models import ReviewSettings

logger = logging.getLogger(__name__)


@transaction.atomic
def review_settings_update(
    *,
    actor: User,
    review_scores_feed_appraisal: bool,
    auto_schedule: bool,
    consultants_see_private_reviews: bool | None = None,
) -> ReviewSettings:
    """Whether review scores may be used in people's appraisals (method §6: off unless
    the organisation decides otherwise), whether review cycles are scheduled
    automatically when an OKR cycle is created or activated, and whether consultants may
    read reviews of private objectives (None: unchanged)."""
    require(can_manage_organization_settings(actor), _("Only org admins change the review settings."))
    settings, _created = ReviewSettings.objects.select_for_update().get_or_create(pk=1)
    settings.review_scores_feed_appraisal = bool(review_scores_feed_appraisal)
    settings.auto_schedule = bool(auto_schedule)
    if consultants_see_private_reviews is not None:
        settings.consultants_see_private_reviews = bool(consultants_see_private_reviews)
    settings.full_clean()
    settings.save()
    logger.info("review settings changed by %s", actor.pk)
    return settings


@transaction.atomic
def review_prompts_update(*, actor: User, review_prompts: list[str]) -> ReviewSettings:
    """The prompts the self-review form shows as guidance (a method pack may have written
    them; what the org admin sets here is kept when a newer version is applied)."""
    require(can_manage_organization_settings(actor), _("Only org admins change the review settings."))
    prompts, problem = guidance_lines_clean(review_prompts)
    if problem:
        raise ValidationError({"review_prompts": [problem]})
    settings, _created = ReviewSettings.objects.select_for_update().get_or_create(pk=1)
    settings.review_prompts = prompts
    settings.full_clean()
    settings.save(update_fields=["review_prompts"])
    return settings
