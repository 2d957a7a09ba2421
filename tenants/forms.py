import zoneinfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tenants.models import Organization
from tenants.services import organization_validate

TIMEZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]


class OrganizationProvisionForm(forms.ModelForm):
    """Admin "add organisation" form; saving it calls organization_provision."""

    admin_email = forms.EmailField(
        label=_("First org admin's e-mail"),
        help_text=_("They receive a link to choose their password."),
    )
    admin_name = forms.CharField(label=_("First org admin's name"), required=False, max_length=150)

    class Meta:
        model = Organization
        fields = ["name", "slug", "status", "timezone", "language"]
        help_texts = {
            "slug": _("The organisation's address will be <slug>.%(domain)s")
            % {"domain": settings.BASE_DOMAIN},
        }
        widgets = {
            "timezone": forms.Select(choices=TIMEZONE_CHOICES),
            "language": forms.Select(choices=settings.LANGUAGES),
        }

    def validate_unique(self):
        # organization_validate checks the slug, with a clearer message.
        pass

    def clean(self):
        data = super().clean()
        try:
            organization_validate(
                name=data.get("name", ""), slug=(data.get("slug") or "").strip().lower(),
                admin_email=data.get("admin_email", ""), timezone=data.get("timezone", ""),
                language=data.get("language", ""),
            )  # fmt: skip
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                if field in self.fields and field not in self.errors:
                    self.add_error(field, errors)
        return data
