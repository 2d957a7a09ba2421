"""My inbox over the API: the notifications the platform sent me (reminders, feedback
requests, escalations, digests …), newest first, and marking them read. Only the
signed-in person's own entries exist here; anyone else's entry is a 404."""

from __future__ import annotations

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.api.filters import StrictBooleanFilter
from accounts.api.serializers_people import InboxItemSerializer, MarkedReadSerializer, refuse_input
from accounts.api.views import VisibleViewSet, api_router
from accounts.inbox import inbox_mark_read
from accounts.models import InboxItem


class InboxFilter(filters.FilterSet):
    unread = StrictBooleanFilter(
        field_name="read_at", lookup_expr="isnull", help_text="true: unread entries only; false: read ones."
    )
    kind = filters.CharFilter(max_length=32, help_text="e.g. checkin_due, review_due, feedback_requested.")

    class Meta:
        model = InboxItem
        fields = ["unread", "kind"]


class InboxViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, VisibleViewSet):
    """Your inbox: every notification sent to you, newest first (``unread=true`` for what
    is still unread). Marking an entry read keeps the time it was first read."""

    queryset = InboxItem.objects.none()
    serializer_class = InboxItemSerializer
    filterset_class = InboxFilter
    ordering_fields = ["id", "created_at"]
    allow_viewer_writes = True  # marking your own notifications read changes nothing else

    def visible_queryset(self, user):
        return InboxItem.objects.filter(user=user)

    @extend_schema(request=None, responses=InboxItemSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark one of your entries read (already read: nothing changes)."""
        item = self.get_object()
        refuse_input(request)
        inbox_mark_read(user=request.user, item_ids=[item.pk])
        item.refresh_from_db()
        return Response(InboxItemSerializer(item).data)

    @extend_schema(request=None, responses=MarkedReadSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """Mark all your unread entries read; answers how many changed."""
        refuse_input(request)
        return Response({"marked_read": inbox_mark_read(user=request.user)})


router = api_router()
router.register("inbox", InboxViewSet, basename="api-inbox")
urlpatterns = router.urls
