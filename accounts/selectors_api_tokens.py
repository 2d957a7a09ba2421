"""Reads on API tokens."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import ApiToken, User
from accounts.permissions import can_list_all_api_tokens


def api_tokens_visible_to(user: User) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.select_related("user")
    return tokens if can_list_all_api_tokens(user) else tokens.filter(user=user)
