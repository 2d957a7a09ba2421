"""Platform administration on the public host."""

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_tenants.admin import TenantAdminMixin

from tenants.forms import OrganizationProvisionForm
from tenants.models import Domain, Organization
from tenants.selectors import organization_user_counts
from tenants.services import organization_provision, organization_set_status, organization_url


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0
    fields = ["domain", "is_primary"]
    readonly_fields = ["domain", "is_primary"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class OrganizationChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        # People live in each organisation's schema: count the whole page at once.
        counts = organization_user_counts(self.result_list)
        for organization in self.result_list:
            organization.user_count = counts.get(organization.pk, 0)


@admin.register(Organization)
class OrganizationAdmin(TenantAdminMixin, admin.ModelAdmin):
    list_display = ["name", "slug", "primary_domain", "status", "people", "timezone", "created_at"]
    list_filter = ["status", "language", "created_at"]
    search_fields = ["name", "slug", "domains__domain"]
    ordering = ["name"]
    date_hierarchy = "created_at"
    actions = ["suspend", "reactivate"]
    inlines = [DomainInline]
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

    def get_queryset(self, request):
        return super().get_queryset(request).clients().prefetch_related("domains")

    def get_changelist(self, request, **kwargs):
        return OrganizationChangeList

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
        return [] if obj is None else self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    @admin.display(description=_("domain"))
    def primary_domain(self, obj):
        domains = [d for d in obj.domains.all() if d.is_primary]
        return domains[0].domain if domains else "—"

    @admin.display(description=_("people"))
    def people(self, obj):
        return getattr(obj, "user_count", "—")

    @admin.display(description=_("address"))
    def site(self, obj):
        url = organization_url(obj)
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, url)

    def save_model(self, request, obj, form, change):
        if change:
            # Status changes go through the service (logged, validated); the rest is plain data.
            new_status, obj.status = obj.status, form.initial["status"]
            obj.save(update_fields=["name", "timezone", "language", "updated_at"])
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

    def _changeform_view(self, request, object_id, form_url, extra_context):
        try:
            return super()._changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            # Errors from the service (e.g. a slug taken a moment ago): show, change nothing.
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    @admin.action(description=_("Suspend selected organisations"))
    def suspend(self, request, queryset):
        self._set_status(request, queryset, Organization.Status.SUSPENDED)

    @admin.action(description=_("Reactivate selected organisations"))
    def reactivate(self, request, queryset):
        self._set_status(request, queryset, Organization.Status.ACTIVE)

    def _set_status(self, request, queryset, status):
        changed = 0
        for organization in queryset:
            if organization.status != status:
                organization_set_status(organization=organization, status=status, actor=request.user)
                changed += 1
        self.message_user(
            request,
            ngettext("%(n)d organisation is now %(s)s.", "%(n)d organisations are now %(s)s.", changed)
            % {"n": changed, "s": Organization.Status(status).label.lower()},
            messages.SUCCESS,
        )
