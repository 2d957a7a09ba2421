"""People import over the API: ``POST /api/v1/imports/people/`` (multipart: ``file``, ``dry_run``).

The same service as the Import settings page (``accounts.imports.people_import``): org
admins only, every row checked first, all or nothing. Answers 200 with the report for a
clean dry run, 201 when the people were imported, and 400 with the envelope when the file
has problems: ``fields.rows`` lists each as ``{"row", "column", "message"}`` (row 1 is the
header; ``row`` is null for a problem of the whole file, such as its encoding or size).
Nothing is written unless the answer is 201."""

from __future__ import annotations

from django.urls import path
from django.utils.translation import ngettext
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import StrictInputSerializer
from accounts.imports import MAX_ROWS, people_import, people_import_check
from accounts.imports_csv import MAX_FILE_BYTES


def import_file_field(max_rows: int) -> serializers.FileField:
    return serializers.FileField(
        help_text=f"A UTF-8 CSV file (a byte order mark is fine), at most {MAX_FILE_BYTES // 2**20} MB and "
        f"{max_rows:,} rows below the header; the first row names the columns."
    )


class ImportInputSerializer(StrictInputSerializer):
    file = import_file_field(MAX_ROWS)
    dry_run = serializers.BooleanField(
        default=False, help_text="Check the file and report what would happen, writing nothing."
    )


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        allow_null=True, help_text="The spreadsheet row (the header is row 1); null: the whole file."
    )
    column = serializers.CharField(
        allow_blank=True, help_text="The column, as named in the header; may be empty."
    )
    message = serializers.CharField()


class PeopleImportReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    applied = serializers.BooleanField(help_text="True when the changes were saved.")
    rows_read = serializers.IntegerField(help_text="Rows below the header that are not blank.")
    to_create = serializers.ListField(child=serializers.EmailField(), help_text="E-mails of people invited.")
    to_update = serializers.ListField(child=serializers.EmailField(), help_text="E-mails of people updated.")
    unchanged = serializers.ListField(
        child=serializers.EmailField(), help_text="E-mails of people the file leaves as they are."
    )
    teams_to_create = serializers.ListField(
        child=serializers.CharField(), help_text="Full paths of the teams created, parents first."
    )
    errors = RowErrorSerializer(many=True, help_text="Always empty in a 200 or 201 answer.")


def report_response(report) -> Response:
    """200 (clean dry run), 201 (imported) or 400 with the rows' errors in the envelope."""
    if report.errors:
        count = len(report.errors)
        detail = ngettext(
            "The file has %(count)d problem; nothing was imported.",
            "The file has %(count)d problems; nothing was imported.",
            count,
        ) % {"count": count}
        fields = {"rows": [error.as_dict() for error in report.errors]}
        return Response(
            {"detail": detail, "code": "invalid", "fields": fields}, status=status.HTTP_400_BAD_REQUEST
        )
    return Response(
        report.as_dict(), status=status.HTTP_200_OK if report.dry_run else status.HTTP_201_CREATED
    )


IMPORT_ERROR_EXAMPLE = OpenApiExample(
    "Rows with problems",
    value={
        "detail": "The file has 1 problem; nothing was imported.",
        "code": "invalid",
        "fields": {
            "rows": [{"row": 3, "column": "email", "message": "“bob@” is not a valid e-mail address."}]
        },
    },
    response_only=True,
    status_codes=["400"],
)


class PeopleImportView(APIView):
    """Invite and update people from a CSV file (org admins).

    Columns: `email` (required), `name`, `team` (a path like `Product & Engineering / Platform`;
    missing teams are created), `manager_email` (someone in the organisation or on another row)
    and `role` (`org_admin`, `manager`, `member`, `viewer`). Someone whose e-mail already
    belongs to a person is updated; empty cells keep their current values. Send `dry_run=true`
    first to see what would happen. Invitations are e-mailed once the import is saved."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="imports_people_create",
        request={"multipart/form-data": ImportInputSerializer},
        responses={
            200: OpenApiResponse(
                PeopleImportReportSerializer, description="Dry run: the file is fine; what would happen."
            ),
            201: OpenApiResponse(PeopleImportReportSerializer, description="Imported: what happened."),
        },
        examples=[IMPORT_ERROR_EXAMPLE],
    )
    def post(self, request):
        people_import_check(request.user)  # refused whatever was sent: before the input
        data = ImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = people_import(
            actor=request.user, file=data.validated_data["file"], dry_run=data.validated_data["dry_run"]
        )
        return report_response(report)


urlpatterns = [path("imports/people/", PeopleImportView.as_view(), name="api-imports-people")]
