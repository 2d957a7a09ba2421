"""Cycle export over the API: ``GET /api/v1/cycles/{id}/export/?file_format=csv|xlsx``.

The file the explorer's export buttons give (``okrs.exports.cycle_export``): the cycle's
objectives, key results and check-ins that the caller may see. The query parameter is
``file_format`` because ``format`` is DRF's own (response format override)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from okrs.exports import CONTENT_TYPES, CSV, FORMATS, XLSX, cycle_export
from okrs.models import Cycle

FILE = "The file, as an attachment (Content-Disposition names it): CSV or XLSX as asked."


class ExportQuerySerializer(serializers.Serializer):
    file_format = serializers.ChoiceField(choices=FORMATS, default=CSV)


class CycleExportView(APIView):
    """Download a cycle's objectives, key results and check-ins that you may see.

    `file_format=csv` (the default): one flat UTF-8 CSV, one row per check-in with its key
    result's and objective's columns (key results without check-ins and objectives without key
    results get a row too). `file_format=xlsx`: a workbook with three sheets (Objectives, Key
    results, Check-ins) linked by ids. Times are in the organisation's time zone, named in the
    column headers; text that a spreadsheet would run as a formula starts with an apostrophe."""

    queryset = Cycle.objects.none()  # names the model of {id} (schema, route checks); every cycle is visible

    def perform_content_negotiation(self, request, force=False):
        # The file is the answer whatever the Accept header says; errors are JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="cycles_export",
        parameters=[
            OpenApiParameter(
                "file_format", str, enum=list(FORMATS), default=CSV, description="csv (default) or xlsx."
            )
        ],
        responses={
            (200, CONTENT_TYPES[CSV].split(";")[0]): OpenApiResponse(OpenApiTypes.BINARY, description=FILE),
            (200, CONTENT_TYPES[XLSX]): OpenApiResponse(OpenApiTypes.BINARY, description=FILE),
        },
    )
    def get(self, request, pk: int):
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        cycle = get_object_or_404(Cycle.objects.all(), pk=pk)
        filename, content_type, content = cycle_export(
            actor=request.user, cycle=cycle, fmt=query.validated_data["file_format"]
        )
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


urlpatterns = [path("cycles/<int:pk>/export/", CycleExportView.as_view(), name="api-cycle-export")]
