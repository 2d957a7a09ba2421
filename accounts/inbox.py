"""Writes on a person's inbox: marking entries read. Only the person's own entries are
ever touched; reading the inbox is ``InboxItem.objects.filter(user=...)``."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from accounts.models import InboxItem, User


@transaction.atomic
def inbox_mark_read(*, user: User, item_ids: Iterable[int] | None = None) -> int:
    """Mark ``user``'s unread entries read: those named by ``item_ids``, or all of them.
    Ids of other people's entries are ignored. Returns how many entries changed; marking
    an entry that is already read changes nothing (its first read time is kept)."""
    unread = InboxItem.objects.filter(user=user, read_at__isnull=True)
    if item_ids is not None:
        unread = unread.filter(pk__in=list(item_ids))
    return unread.update(read_at=timezone.now())
