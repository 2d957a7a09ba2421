"""Platform administration on the public host: organisations (with their domains and
consultants, list figures from the health snapshots, suspend / reactivate / export /
offboard). Archives, platform events, snapshots and consultant accounts are in
``tenants.admin_platform``. Every change goes through the services, which record it."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_tenants.admin import TenantAdminMixin

from accounts.models import User
from tenants.assignments import consultant_assign, consultant_unassign
from tenants.forms import OrganizationProvisionForm
from tenants.models import ConsultantAssignment, Domain, Organization
from tenants.offboarding import organization_export_archive, organization_offboard
from tenants.permissions import can_manage_organization_data
from tenants.selectors import organization_user_counts
from tenants.selectors_health import latest_snapshots
from tenants.services import (
    organization_provision,
    organization_set_status,
    organization_update,
    organization_url,
)

OFFBOARDED = Organization.Status.OFFBOARDED

# The home page adds links to the platform pages that are not a model list.
admin.site.index_template = "admin/tenants/index.html"


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary"]
    readonly_fields = ["domain", "is_primary"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ConsultantAssignmentForm(forms.ModelForm):
    """A new row picks an active consultant; an existing row's consultant is fixed (remove
    the row and add another instead)."""

    class Meta:
        model = ConsultantAssignment
        fields = ["consultant"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["consultant"]
        if self.instance.pk:
            field.queryset = User.objects.filter(pk=self.instance.consultant_id)
            field.disabled = True
        else:
            field.queryset = User.objects.filter(role=User.Role.CONSULTANT, is_active=True).order_by("email")


class ConsultantAssignmentInline(admin.TabularInline):
    """Add or remove consultants (through tenants.assignments, recorded in the access log).
    Revoking and restoring access is the client's decision, made on their own host."""

    model = ConsultantAssignment
    form = ConsultantAssignmentForm
    extra = 0
    fields = ["consultant", "assigned_at", "assigned_by", "revoked_at", "revoked_by"]
    readonly_fields = ["assigned_at", "assigned_by", "revoked_at", "revoked_by"]
    verbose_name_plural = _("consultants")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("consultant")


class OrganizationChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        # People live in each organisation's schema: count the whole page at once; the
        # other figures come from each organisation's latest health snapshot (one query).
        counts = organization_user_counts(self.result_list)
        snapshots = latest_snapshots(o.pk for o in self.result_list)
        for organization in self.result_list:
            organization.user_count = counts.get(organization.pk, 0)
            organization.snapshot = snapshots.get(organization.pk)


def health_level(on_track: float | None, discipline: float | None) -> str:
    """green / amber / red by the weaker of the two shares; unknown without either."""
    known = [share for share in (on_track, discipline) if share is not None]
    if not known:
        return "unknown"
    weakest = min(known)
    return "green" if weakest >= 0.7 else "amber" if weakest >= 0.4 else "red"


def percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100)}%"


@admin.register(Organization)
class OrganizationAdmin(TenantAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "primary_domain",
        "status",
        "people",
        "objectives_this_cycle",
        "last_activity",
        "health",
        "created_at",
    ]
    list_filter = ["status", "language"]
    search_fields = ["name", "slug", "domains__domain"]
    ordering = ["name"]
    date_hierarchy = "created_at"
    actions = ["suspend", "reactivate", "export_archive", "offboard"]
    inlines = [DomainInline, ConsultantAssignmentInline]
    readonly_fields = ["slug", "schema_name", "site", "created_at", "updated_at"]
    fields = [
        "name",
        "slug",
        "site",
        "schema_name",
        "status",
        "timezone",
        "language",
        "created_at",
        "updated_at",
    ]

    class Media:
        css = {"all": ["tenants/admin.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).clients().prefetch_related("domains")

    def get_changelist(self, request, **kwargs):
        return OrganizationChangeList

    def get_urls(self):
        from tenants.admin_platform import consultant_accounts_view

        return [
            path(
                "consultants/",
                self.admin_site.admin_view(consultant_accounts_view),
                name="tenants_consultant_accounts",
            ),
            *super().get_urls(),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = OrganizationProvisionForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return [*OrganizationProvisionForm.Meta.fields, "admin_email", "admin_name"]
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if obj.status == OFFBOARDED:  # offboarding and restoring have their own actions
            return [*self.readonly_fields, "status"]
        return self.readonly_fields

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status":
            kwargs["choices"] = [(v, label) for v, label in Organization.Status.choices if v != OFFBOARDED]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        # An organisation leaves through offboarding (archive kept, restorable), never a delete.
        return False

    # --- columns ---------------------------------------------------------------------------

    @admin.display(description=_("domain"))
    def primary_domain(self, obj):
        domains = [d for d in obj.domains.all() if d.is_primary]
        return domains[0].domain if domains else "—"

    @admin.display(description=_("people"))
    def people(self, obj):
        return getattr(obj, "user_count", "—")

    @admin.display(description=_("objectives this cycle"))
    def objectives_this_cycle(self, obj):
        snapshot = getattr(obj, "snapshot", None)
        return "—" if snapshot is None else snapshot.objectives_in_cycle

    @admin.display(description=_("last activity"))
    def last_activity(self, obj):
        snapshot = getattr(obj, "snapshot", None)
        return None if snapshot is None else snapshot.last_activity_at

    @admin.display(description=_("health"))
    def health(self, obj):
        snapshot = getattr(obj, "snapshot", None)
        if snapshot is None:
            return "—"
        on_track = None
        if snapshot.key_results_in_cycle:
            on_track = (snapshot.kr_on_track + snapshot.kr_done) / snapshot.key_results_in_cycle
        discipline = snapshot.checkin_discipline
        level = health_level(on_track, discipline)
        text = gettext("%(on_track)s on track · discipline %(discipline)s") % {
            "on_track": percent(on_track),
            "discipline": percent(discipline),
        }
        title = gettext("Key results on track or done, and check-in discipline; snapshot of %(when)s") % {
            "when": snapshot.taken_at.strftime("%Y-%m-%d %H:%M UTC")
        }
        return format_html(
            '<span class="org-health org-health-{}" title="{}" data-health="{}">{}</span>',
            level, title, level, text,
        )  # fmt: skip

    @admin.display(description=_("address"))
    def site(self, obj):
        url = organization_url(obj)
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    # --- saving ----------------------------------------------------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            # Errors from a service (a slug taken a moment ago, a refused status change):
            # the admin's transaction has rolled back, so nothing changed. Say so.
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        if change:
            # Status changes go through the service (validated, recorded); the rest is plain data.
            previous, new_status = form.initial.get("status", obj.status), obj.status
            stored = Organization.objects.get(pk=obj.pk)
            organization_update(
                organization=stored, actor=request.user, name=obj.name, timezone=obj.timezone,
                language=obj.language,
            )  # fmt: skip
            obj.status = previous
            if new_status != previous:
                organization_set_status(organization=obj, status=new_status, actor=request.user)
            return
        data = form.cleaned_data
        result = organization_provision(
            name=data["name"], slug=data["slug"], admin_email=data["admin_email"],
            admin_name=data.get("admin_name", ""), timezone=data["timezone"],
            language=data["language"], status=data["status"], actor=request.user,
        )  # fmt: skip
        form.instance = obj = result.organization
        self.message_user(
            request,
            _("%(org)s is ready at %(url)s (%(method)s, %(s).1f s). Invitation sent to %(email)s.")
            % {
                "org": obj.name,
                "url": organization_url(obj),
                "method": result.method,
                "s": result.seconds,
                "email": result.admin.email,
            },
            messages.SUCCESS,
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is not ConsultantAssignment:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # fills new_objects / deleted_objects, writes nothing
        for assignment in formset.deleted_objects:
            consultant_unassign(
                organization=form.instance, consultant=assignment.consultant, actor=request.user
            )
        for assignment in formset.new_objects:
            consultant_assign(
                organization=form.instance, consultant=assignment.consultant, actor=request.user
            )
        return None

    # --- actions ---------------------------------------------------------------------------

    @admin.action(description=_("Suspend selected organisations"), permissions=["change"])
    def suspend(self, request, queryset):
        self._set_status(request, queryset, Organization.Status.SUSPENDED)

    @admin.action(description=_("Reactivate selected organisations"), permissions=["change"])
    def reactivate(self, request, queryset):
        self._set_status(request, queryset, Organization.Status.ACTIVE)

    def _set_status(self, request, queryset, status):
        changed = 0
        for organization in queryset:
            if organization.status == status:
                continue
            try:
                organization_set_status(organization=organization, status=status, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            else:
                changed += 1
        self.message_user(
            request,
            ngettext("%(n)d organisation is now %(s)s.", "%(n)d organisations are now %(s)s.", changed)
            % {"n": changed, "s": Organization.Status(status).label.lower()},
            messages.SUCCESS,
        )

    def has_organization_data_permission(self, request):
        return can_manage_organization_data(request.user)

    @admin.action(
        description=_("Export an archive of the selected organisations"),
        permissions=["organization_data"],
    )
    def export_archive(self, request, queryset):
        for organization in queryset:
            try:
                archive = organization_export_archive(organization=organization, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{organization.name}: {'; '.join(exc.messages)}", messages.ERROR)
                continue
            self.message_user(
                request,
                _("%(org)s: archive written to %(path)s (%(size)s).")
                % {"org": organization.name, "path": archive.path, "size": filesizeformat(archive.size)},
                messages.SUCCESS,
            )

    @admin.action(
        description=_("Offboard selected organisations (archive, then delete their data)…"),
        permissions=["organization_data"],
    )
    def offboard(self, request, queryset):
        selected = list(queryset)
        candidates = [o for o in selected if o.status != OFFBOARDED]
        if skipped := [o.name for o in selected if o.status == OFFBOARDED]:
            self.message_user(
                request,
                _("Already offboarded, left out: %(names)s.") % {"names": ", ".join(skipped)},
                messages.WARNING,
            )
        if not candidates:
            return None
        typed = {o.pk: request.POST.get(f"confirm-{o.pk}", "") for o in candidates}
        errors = {}
        if request.POST.get("post") == "yes":
            errors = {
                o.pk: gettext("Type “%(slug)s” exactly to offboard %(org)s.")
                % {"slug": o.slug, "org": o.name}
                for o in candidates
                if typed[o.pk] != o.slug
            }
            if not errors:
                self._offboard(request, candidates, typed)
                return None
            self.message_user(
                request,
                gettext("Nothing was offboarded: a subdomain was not typed exactly. Check the fields below."),
                messages.ERROR,
            )
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Offboard organisations"),
            "opts": self.model._meta,
            "rows": [
                {"organization": o, "typed": typed[o.pk] if o.pk in errors else "", "error": errors.get(o.pk)}
                for o in candidates
            ],
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/tenants/organization/offboard_confirmation.html", context)

    def _offboard(self, request, organizations, typed):
        for organization in organizations:
            try:
                archive = organization_offboard(
                    organization=organization, confirmation=typed[organization.pk], actor=request.user
                )
            except ValidationError as exc:
                self.message_user(request, f"{organization.name}: {'; '.join(exc.messages)}", messages.ERROR)
                continue
            self.message_user(
                request,
                _(
                    "%(org)s is offboarded: its schema is dropped and its archive is kept at %(path)s "
                    "(restore it from Organisation archives)."
                )
                % {"org": organization.name, "path": archive.path},
                messages.SUCCESS,
            )


# The other platform models; then (kept last) the method packs.
import tenants.admin_packs  # noqa: E402
import tenants.admin_platform  # noqa: E402, F401
