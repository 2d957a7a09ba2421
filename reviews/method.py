"""The review side of a method pack (tenant schemas only): the prompts the self-review
form shows. ``okrs.method`` applies the pack; this module adds the review settings as one
more target (okrs never imports reviews), and ``method_apply`` here applies the whole
method, so callers (``tenants.method_packs``) call one function."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from okrs import method as okr_method
from reviews.models import ReviewSettings
from reviews.selectors import review_settings


def _values(content: dict) -> dict[str, Any]:
    if content.get("review_prompts") is None:  # absent or empty in YAML: not the pack's say
        return {}
    return {"review_prompts": [str(prompt).strip() for prompt in content["review_prompts"]]}


def _load() -> ReviewSettings:
    return ReviewSettings.objects.select_for_update().filter(pk=1).first() or review_settings()


REVIEW_SETTINGS = okr_method.SettingsTarget(load=_load, values=_values)


def method_apply(
    *, content: dict, pack_slug: str, pack_name: str, version: int, applied_by: str, now: datetime
) -> dict:
    """``okrs.method.method_apply`` with the review prompts (same transaction, same rules)."""
    return okr_method.method_apply(
        content=content,
        pack_slug=pack_slug,
        pack_name=pack_name,
        version=version,
        applied_by=applied_by,
        now=now,
        extra_settings=(REVIEW_SETTINGS,),
    )
