"""OKR import over the API: ``POST /api/v1/imports/okrs/`` (multipart: ``cycle``, ``file``, ``dry_run``).

The same service as the Import settings page (``okrs.imports.okrs_import``): org admins
only, every row checked first, all or nothing; the answers are those of the people import
(``accounts.api.imports``): 200 clean dry run, 201 imported, 400 with ``fields.rows``."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.views import APIView

from accounts.api.imports import (
    IMPORT_ERROR_EXAMPLE,
    ImportInputSerializer,
    RowErrorSerializer,
    import_file_field,
    report_response,
)
from okrs.imports import MAX_ROWS, okrs_import, okrs_import_check
from okrs.models import Cycle


class OkrImportInputSerializer(ImportInputSerializer):
    file = import_file_field(MAX_ROWS)
    cycle = serializers.PrimaryKeyRelatedField(
        queryset=Cycle.objects.all(),
        help_text="The id of the cycle the objectives are created in (not closed).",
    )


class PlannedObjectiveSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The row where the objective first appears.")
    title = serializers.CharField()
    owner_email = serializers.CharField()
    key_results = serializers.IntegerField()
    parent = serializers.CharField(
        allow_blank=True, help_text="The title of what it is aligned to, if anything."
    )


class OkrImportReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    applied = serializers.BooleanField(help_text="True when the OKRs were saved.")
    cycle = serializers.CharField(help_text="The cycle's name.")
    rows_read = serializers.IntegerField(help_text="Rows below the header that are not blank.")
    objectives_to_create = PlannedObjectiveSerializer(many=True)
    key_results_to_create = serializers.IntegerField()
    alignments_to_create = serializers.IntegerField()
    errors = RowErrorSerializer(many=True, help_text="Always empty in a 200 or 201 answer.")


class OkrImportView(APIView):
    """Create objectives, key results and alignments in a cycle from a CSV file (org admins).

    One row per key result (an objective without key results: a row with the key result cells
    empty). Columns: `objective` and `objective_owner_email` (required), `objective_ref`,
    `description`, `team`, `level`, `kind`, `health_dimension`, `visibility`, `state`, `parent`,
    `kr`, `kr_owner_email`, `kr_type`, `unit`, `currency`, `unit_label`, `start`, `target`,
    `low`, `high`, `weight`, `due_date`. The CSV template on the Import settings page shows them
    with an example. Send `dry_run=true` first to see what would be created."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="imports_okrs_create",
        request={"multipart/form-data": OkrImportInputSerializer},
        responses={
            200: OpenApiResponse(
                OkrImportReportSerializer, description="Dry run: the file is fine; what would be created."
            ),
            201: OpenApiResponse(OkrImportReportSerializer, description="Imported: what was created."),
        },
        examples=[IMPORT_ERROR_EXAMPLE],
    )
    def post(self, request):
        okrs_import_check(request.user)  # refused whatever was sent: before the input
        data = OkrImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        report = okrs_import(
            actor=request.user, cycle=values["cycle"], file=values["file"], dry_run=values["dry_run"]
        )
        return report_response(report)


urlpatterns = [path("imports/okrs/", OkrImportView.as_view(), name="api-imports-okrs")]
