"""The inbox: a person's notifications, newest first, 25 a page. Marking one read updates
it in place (HTMX) along with the navigation badge; without JavaScript, the page reloads."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.inbox import inbox_mark_read
from accounts.models import InboxItem
from accounts.ui import is_htmx

PER_PAGE = 25

# What each kind of notification is about, shown as a chip next to its title.
KIND_LABELS = {
    "checkin_due": gettext_lazy("Check-in due"),
    "review_due": gettext_lazy("Self-review due"),
    "calibration_due": gettext_lazy("Calibration due"),
    "feedback_requested": gettext_lazy("Feedback requested"),
    "digest": gettext_lazy("Weekly digest"),
    "escalation": gettext_lazy("Escalation"),
    "alignment_proposed": gettext_lazy("Alignment proposed"),
    "alignment_decided": gettext_lazy("Alignment decided"),
    "webhook_disabled": gettext_lazy("Webhook turned off"),
}


def _safe_link(link: str) -> str:
    """Entries link to pages of this site only (a path), never elsewhere or to a script."""
    return link if link.startswith("/") and not link.startswith("//") and "\\" not in link else ""


def _page_number(request) -> int:
    raw = request.POST.get("page") or request.GET.get("page") or "1"
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 else 1


def _shown(item: InboxItem) -> InboxItem:
    item.href = _safe_link(item.link)
    item.kind_label = KIND_LABELS.get(item.kind, "")
    return item


@login_required
def inbox(request):
    items = InboxItem.objects.filter(user=request.user).order_by("-created_at", "-id")
    page = Paginator(items, PER_PAGE).get_page(_page_number(request))
    context = {
        "page": page,
        "page_number": page.number,
        "items": [_shown(item) for item in page.object_list],
        "now": timezone.now(),
    }
    return render(request, "accounts/inbox.html", context)


def _back(request) -> HttpResponseRedirect:
    page = _page_number(request)
    query = f"?{urlencode({'page': page})}" if page > 1 else ""
    return HttpResponseRedirect(reverse("inbox") + query)


@login_required
@require_POST
def mark_read(request, pk: int):
    inbox_mark_read(user=request.user, item_ids=[pk])  # someone else's entry is left as it is...
    item = get_object_or_404(InboxItem, pk=pk, user=request.user)  # ...and is a 404
    if not is_htmx(request):
        return _back(request)
    context = {"item": _shown(item), "page_number": _page_number(request), "now": timezone.now()}
    return render(request, "accounts/inbox_read.html", context)


@login_required
@require_POST
def mark_all_read(request):
    count = inbox_mark_read(user=request.user)
    if count:
        messages.success(request, _("All notifications are marked read."))
    return _back(request)


urlpatterns = [
    path("inbox/", inbox, name="inbox"),
    path("inbox/<int:pk>/read/", mark_read, name="inbox_mark_read"),
    path("inbox/read-all/", mark_all_read, name="inbox_mark_all_read"),
]
