"""Platform admin, continued: organisation archives (restore, delete the file), the platform
event log with its "consultant access log" preset, health snapshots and consultant accounts.
All read-only here: changes are the actions, which call the services (and so are recorded)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from tenants.models import (
    ConsultantAssignment,
    HealthSnapshot,
    Organization,
    OrganizationArchive,
    PlatformEvent,
    TaskFailure,
)
from tenants.offboarding import archive_delete, organization_restore
from tenants.permissions import can_manage_organization_data


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the services: viewed here, never edited or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ArchiveStateFilter(admin.SimpleListFilter):
    title = _("file")
    parameter_name = "file"

    def lookups(self, request, model_admin):
        return [("kept", _("Kept")), ("deleted", _("Deleted"))]

    def queryset(self, request, queryset):
        if self.value() == "kept":
            return queryset.filter(deleted_at__isnull=True)
        if self.value() == "deleted":
            return queryset.filter(deleted_at__isnull=False)
        return queryset


@admin.register(OrganizationArchive)
class OrganizationArchiveAdmin(ReadOnlyAdmin):
    list_display = [
        "organization_slug",
        "organization",
        "reason",
        "size_display",
        "created_at",
        "created_by",
        "kept",
    ]
    list_filter = ["reason", ArchiveStateFilter]
    list_select_related = ["organization"]
    search_fields = ["organization_slug", "organization__name", "path"]
    date_hierarchy = "created_at"
    actions = ["restore", "delete_file"]
    fields = [
        "organization", "organization_slug", "reason", "path", "size", "sha256", "created_at", "created_by",
        "deleted_at",
    ]  # fmt: skip

    def has_organization_data_permission(self, request):
        return can_manage_organization_data(request.user)

    @admin.display(description=_("size"), ordering="size")
    def size_display(self, obj):
        return filesizeformat(obj.size)

    @admin.display(description=_("file kept"), boolean=True)
    def kept(self, obj):
        return obj.deleted_at is None

    @admin.action(
        description=_("Restore the offboarded organisation from the selected archive"),
        permissions=["organization_data"],
    )
    def restore(self, request, queryset):
        for archive in queryset.select_related("organization"):
            try:
                organization = organization_restore(archive=archive, actor=request.user)
            except ValidationError as exc:
                self.message_user(
                    request, f"{archive.organization_slug}: {' '.join(exc.messages)}", messages.ERROR
                )
                continue
            self.message_user(
                request,
                _("%(org)s is restored from %(file)s and is %(status)s again.")
                % {
                    "org": organization.name,
                    "file": archive.path,
                    "status": organization.get_status_display().lower(),
                },
                messages.SUCCESS,
            )

    @admin.action(description=_("Delete the selected archive files…"), permissions=["organization_data"])
    def delete_file(self, request, queryset):
        archives = list(queryset.select_related("organization"))
        kept = [a for a in archives if a.deleted_at is None]
        if len(kept) < len(archives):
            self.message_user(request, gettext("Files already deleted are left out."), messages.WARNING)
        if not kept:
            return None
        if request.POST.get("post") == "yes":
            deleted = 0
            for archive in kept:
                try:
                    archive_delete(archive=archive, actor=request.user)
                except ValidationError as exc:
                    self.message_user(
                        request, f"{archive.organization_slug}: {' '.join(exc.messages)}", messages.ERROR
                    )
                else:
                    deleted += 1
            self.message_user(
                request,
                ngettext("%(n)d archive file deleted.", "%(n)d archive files deleted.", deleted)
                % {"n": deleted},
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Delete archive files"),
            "opts": self.model._meta,
            "rows": [{"archive": a, "last_for_offboarded": _last_restorable(a, kept)} for a in kept],
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/tenants/organizationarchive/delete_file_confirmation.html", context
        )


def _last_restorable(archive: OrganizationArchive, deleting: list[OrganizationArchive]) -> bool:
    """Deleting these files leaves this offboarded organisation with no archive to restore from."""
    organization = archive.organization
    if organization is None or organization.status != Organization.Status.OFFBOARDED:
        return False
    others = OrganizationArchive.objects.filter(organization=organization, deleted_at__isnull=True).exclude(
        pk__in=[a.pk for a in deleting]
    )
    return not others.exists()


class EventLogFilter(admin.SimpleListFilter):
    """Presets over the event log; "access" is the consultant access log."""

    title = _("log")
    parameter_name = "log"

    def lookups(self, request, model_admin):
        return [("access", _("Consultant access log")), ("organisations", _("Organisation changes"))]

    def queryset(self, request, queryset):
        if self.value() == "access":
            return queryset.filter(action__in=PlatformEvent.ACCESS_ACTIONS)
        if self.value() == "organisations":
            return queryset.exclude(action__in=PlatformEvent.ACCESS_ACTIONS)
        return queryset


@admin.register(PlatformEvent)
class PlatformEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "organization_slug", "actor_email", "consultant", "ip", "details"]
    list_filter = [EventLogFilter, "action", ("organization", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["consultant"]
    search_fields = ["organization_slug", "actor_email", "consultant__email"]
    date_hierarchy = "at"
    fields = [
        "at",
        "action",
        "organization",
        "organization_slug",
        "actor_email",
        "consultant",
        "ip",
        "detail",
    ]

    @admin.display(description=_("detail"))
    def details(self, obj):
        return ", ".join(f"{key}: {value}" for key, value in sorted((obj.detail or {}).items())) or "—"


@admin.register(HealthSnapshot)
class HealthSnapshotAdmin(ReadOnlyAdmin):
    list_display = [
        "organization", "taken_at", "cycle_kind", "days_to_cycle_end", "objectives_in_cycle",
        "key_results_in_cycle", "kr_on_track", "kr_at_risk", "kr_off_track", "discipline",
        "escalations", "reviews_overdue",
    ]  # fmt: skip
    list_filter = [("organization", admin.RelatedOnlyFieldListFilter), "cycle_kind"]
    list_select_related = ["organization"]
    date_hierarchy = "taken_at"

    @admin.display(description=_("check-in discipline"), ordering="checkin_discipline")
    def discipline(self, obj):
        return "—" if obj.checkin_discipline is None else f"{round(obj.checkin_discipline * 100)}%"

    @admin.display(description=_("open escalations"))
    def escalations(self, obj):
        return obj.escalations_open


def consultant_accounts_view(request):
    """Consultant accounts (public users with the consultant role) and their clients. The
    accounts themselves are edited in the users admin (two queries, whatever the number)."""
    if not request.user.has_perm("accounts.view_user"):
        raise PermissionDenied
    assignments = ConsultantAssignment.objects.select_related("organization").order_by("organization__name")
    consultants = (
        User.objects.filter(role=User.Role.CONSULTANT)
        .order_by("-is_active", "email")
        .prefetch_related(Prefetch("client_assignments", queryset=assignments))
    )
    rows = []
    for consultant in consultants:
        clients = list(consultant.client_assignments.all())
        rows.append(
            {
                "user": consultant,
                "active_clients": [a.organization for a in clients if a.revoked_at is None],
                "revoked_clients": [a.organization for a in clients if a.revoked_at is not None],
            }
        )
    context = {
        **admin.site.each_context(request),
        "title": gettext("Consultant accounts"),
        "rows": rows,
        "opts": Organization._meta,
    }
    return TemplateResponse(request, "admin/tenants/consultant_accounts.html", context)


@admin.register(TaskFailure)
class TaskFailureAdmin(ReadOnlyAdmin):
    """Celery tasks that failed for good (``tenants.task_failures``), newest first; the admin's
    home page shows how many in the last 24 hours."""

    list_display = ["occurred_at", "task_name", "schema_name", "exception_class", "short_message", "retries"]
    list_filter = ["task_name", "schema_name", "exception_class"]
    search_fields = ["task_name", "task_id", "schema_name", "exception_class", "message"]
    date_hierarchy = "occurred_at"
    fields = [
        "occurred_at", "task_name", "task_id", "schema_name", "retries", "exception_class", "message",
        "arguments", "traceback",
    ]  # fmt: skip

    @admin.display(description=_("message"))
    def short_message(self, obj):
        return obj.message if len(obj.message) <= 120 else obj.message[:119] + "…"
