"""Platform administration of method packs: the library (a pack with its versions, read
only) and the applications to organisations (read only). Adding a pack or a version
goes through the same services as the portal (``tenants.method_packs``): the content is
edited as YAML, and a changed content is published as the next version."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.http import HttpResponseRedirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from tenants.admin_platform import ReadOnlyAdmin
from tenants.method_packs import (
    MAX_TEXT_LENGTH,
    method_pack_create,
    method_pack_publish,
    method_pack_update,
    method_pack_validate,
)
from tenants.models import MethodPack, MethodPackApplication, MethodPackVersion
from tenants.pack_content import STARTER_CONTENT, PackContentField, pack_content_to_yaml


class MethodPackAdminForm(forms.ModelForm):
    content = PackContentField()
    notes = forms.CharField(
        label=_("What changed"), required=False, max_length=MAX_TEXT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For a new version: shown in the version history."),
    )  # fmt: skip

    class Meta:
        model = MethodPack
        fields = ["slug", "name", "description", "owner"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.latest = None
        if self.instance.pk:
            self.latest = self.instance.versions.order_by("-number").first()
        content = self.latest.content if self.latest else STARTER_CONTENT
        self.fields["content"].initial = pack_content_to_yaml(content)
        if "owner" in self.fields:
            self.fields["owner"].queryset = User.objects.filter(is_active=True).filter(
                role=User.Role.CONSULTANT
            ) | User.objects.filter(is_active=True, is_staff=True)
            self.fields["owner"].help_text = _("The consultant who publishes new versions.")

    def clean(self):
        data = super().clean()
        adding = self.instance.pk is None
        try:
            method_pack_validate(
                slug=data.get("slug", "") if adding else None,
                name=data.get("name", ""),
                description=data.get("description", ""),
                owner=data.get("owner"),
                notes=data.get("notes", ""),
                check_content=False,  # the content field checked it
            )
        except ValidationError as error:
            for field, messages_ in error.message_dict.items():
                if field in self.fields and field not in self.errors:
                    self.add_error(field, messages_)
        return data

    def validate_unique(self):
        # method_pack_validate checks the short name, with a clearer message.
        pass

    @property
    def content_changed(self) -> bool:
        return self.latest is None or self.cleaned_data.get("content") != self.latest.content


@admin.register(MethodPack)
class MethodPackAdmin(admin.ModelAdmin):
    form = MethodPackAdminForm
    list_display = ["name", "slug", "owner", "latest_version", "updated_at"]
    list_select_related = ["owner"]
    search_fields = ["name", "slug", "description"]
    ordering = ["name"]

    class VersionInline(admin.TabularInline):
        model = MethodPackVersion
        extra = 0
        fields = ["number", "created_at", "created_by", "notes", "templates"]
        readonly_fields = fields
        can_delete = False
        ordering = ["-number"]
        show_change_link = False

        def has_add_permission(self, request, obj=None):
            return False

        def has_change_permission(self, request, obj=None):
            return False

        def get_queryset(self, request):
            return super().get_queryset(request).select_related("created_by")

        @admin.display(description=_("templates"))
        def templates(self, version):
            return len(version.content.get("templates") or []) if isinstance(version.content, dict) else 0

    inlines = [VersionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(latest=Max("versions__number"))

    @admin.display(description=_("latest version"), ordering="latest")
    def latest_version(self, pack):
        return pack.latest

    def get_readonly_fields(self, request, obj=None):
        return ["slug"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        # Applications point at versions (PROTECT); a pack in use is never deleted.
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            pack = method_pack_create(
                slug=data["slug"],
                name=data["name"],
                description=data["description"],
                content=data["content"],
                owner=data["owner"],
                actor=request.user,
                notes=data["notes"],
            )
            obj.pk = pack.pk
            obj.refresh_from_db()
            return
        method_pack_update(
            pack=obj,
            name=data["name"],
            description=data["description"],
            owner=data["owner"],
            actor=request.user,
        )
        if form.content_changed:
            version = method_pack_publish(
                pack=obj, content=data["content"], notes=data["notes"], actor=request.user
            )
            messages.success(request, gettext("Version %(number)d published.") % {"number": version.number})
        obj.refresh_from_db()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The form checked everything; the services check again inside their transaction,
        # and a refusal there (a short name taken a moment ago, the same content published
        # meanwhile) is shown as an error, with nothing saved, rather than a server error.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(MethodPackApplication)
class MethodPackApplicationAdmin(ReadOnlyAdmin):
    list_display = ["applied_at", "organization", "version", "applied_by", "summary"]
    list_select_related = ["organization", "version__pack"]
    list_filter = ["version__pack"]
    search_fields = ["organization__name", "organization__slug", "version__pack__name", "applied_by"]
    date_hierarchy = "applied_at"
    readonly_fields = ["organization", "version", "applied_at", "applied_by", "result"]

    @admin.display(description=_("result"))
    def summary(self, application):
        result = application.result or {}
        return gettext(
            "%(added)d added, %(updated)d updated, %(unchanged)d unchanged, %(kept)d kept, "
            "%(removed)d removed"
        ) % {name: result.get(name, 0) for name in ("added", "updated", "unchanged", "kept", "removed")}
