"""The onboarding wizard's form: the shape of the input (types, sizes, the uploaded file);
the rules are ``tenants.onboarding``'s, whose errors come back onto these fields."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.imports_csv import MAX_FILE_BYTES, decode_upload
from accounts.models import User
from accounts.ui import FastSelect
from okrs.models import Cycle
from tenants.forms import TIMEZONE_CHOICES
from tenants.models import MethodPackVersion, Organization
from tenants.onboarding import ONBOARDING_STATUSES, PLAN_ANNUAL_AND_QUARTER, PLAN_CUSTOM, ClientSpec
from tenants.validators import SLUG_MAX

# What browsers send for a .csv file: Excel on Windows says vnd.ms-excel, some say plain text.
CSV_CONTENT_TYPES = frozenset(
    {"text/csv", "application/csv", "text/plain", "application/vnd.ms-excel", "text/comma-separated-values"}
)
CYCLE_PLAN_CHOICES = [
    (PLAN_ANNUAL_AND_QUARTER, _("This year and its current quarter (an annual and a quarterly cycle)")),
    (PLAN_CUSTOM, _("A range of my choosing")),
]
CYCLE_KIND_CHOICES = [
    (Cycle.Kind.QUARTER, Cycle.Kind.QUARTER.label),
    (Cycle.Kind.CUSTOM, Cycle.Kind.CUSTOM.label),
]


class DateInput(forms.DateInput):
    input_type = "date"


class OnboardForm(forms.Form):
    # 1. Organisation
    name = forms.CharField(label=_("Organisation name"), max_length=200)
    slug = forms.CharField(
        label=_("Subdomain"),
        max_length=SLUG_MAX,
        help_text=_(
            "Lowercase letters, digits and hyphens, for example “acme-china”. It cannot be changed later."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    timezone = forms.ChoiceField(
        label=_("Time zone"),
        choices=TIMEZONE_CHOICES,
        widget=FastSelect,
        help_text=_("Cycles, due dates and reminders follow it."),
    )
    language = forms.ChoiceField(label=_("Default language"), choices=settings.LANGUAGES)
    status = forms.ChoiceField(
        label=_("Start as"),
        choices=[(s, Organization.Status(s).label) for s in ONBOARDING_STATUSES],
        initial=Organization.Status.PILOT,
        required=False,
        help_text=_("A pilot shows as such in your portfolio; a platform admin makes it active later."),
    )
    # 2. First cycle
    cycle_plan = forms.ChoiceField(
        label=_("First cycle"),
        choices=CYCLE_PLAN_CHOICES,
        initial=PLAN_ANNUAL_AND_QUARTER,
        widget=forms.RadioSelect,
    )
    cycle_name = forms.CharField(label=_("Cycle name"), max_length=120, required=False)
    cycle_start = forms.DateField(label=_("Starts on"), required=False, widget=DateInput)
    cycle_end = forms.DateField(label=_("Ends on"), required=False, widget=DateInput)
    cycle_kind = forms.ChoiceField(
        label=_("Kind"), choices=CYCLE_KIND_CHOICES, initial=Cycle.Kind.CUSTOM, required=False
    )
    # 3. People
    admin_email = forms.EmailField(
        label=_("Org admin's e-mail"), help_text=_("They receive an invitation to choose their password.")
    )
    admin_name = forms.CharField(label=_("Org admin's name"), max_length=150, required=False)
    people_csv = forms.FileField(
        label=_("People (CSV file)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    # 4. Method
    pack_version = forms.TypedChoiceField(
        label=_("Method pack"), coerce=int, required=False, empty_value=None
    )
    consultants = forms.MultipleChoiceField(
        label=_("Also assign these consultants"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, actor: User, **kwargs):
        kwargs.setdefault(
            "initial",
            {"timezone": actor.timezone or settings.TIME_ZONE, "language": settings.LANGUAGE_CODE},
        )
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["people_csv"].help_text = gettext(
            "The people importer's columns: email (required), name, team, manager_email, role. "
            "UTF-8, at most %(mb)d MB. Everyone in it is invited by e-mail."
        ) % {"mb": MAX_FILE_BYTES // (1024 * 1024)}
        self.versions = {
            version.pk: version
            for version in MethodPackVersion.objects.select_related("pack").order_by("pack__name", "-number")
        }
        self.fields["pack_version"].choices = [("", gettext("No method pack")), *self._version_groups()]
        # Loaded once (the choices are rendered and checked without asking again).
        self.other_consultants = {
            str(user.pk): user
            for user in User.objects.filter(role=User.Role.CONSULTANT, is_active=True)
            .exclude(pk=actor.pk)
            .order_by("email")
        }
        self.fields["consultants"].choices = [
            (pk, f"{user.full_name} ({user.email})" if user.full_name else user.email)
            for pk, user in self.other_consultants.items()
        ]

    def _version_groups(self) -> list[tuple[str, list[tuple[int, str]]]]:
        groups: dict[int, tuple[str, list]] = {}
        for version in self.versions.values():
            name, options = groups.setdefault(version.pack_id, (version.pack.name, []))
            label = gettext("v%(n)d") % {"n": version.number}
            if not options:
                label = gettext("v%(n)d (latest)") % {"n": version.number}
            options.append((version.pk, f"{name} — {label}"))
        return list(groups.values())

    def clean_pack_version(self) -> MethodPackVersion | None:
        number = self.cleaned_data.get("pack_version")
        return None if number is None else self.versions[number]

    def clean_consultants(self) -> list[User]:
        return [self.other_consultants[pk] for pk in self.cleaned_data.get("consultants", [])]

    def clean_people_csv(self) -> str | None:
        upload = self.cleaned_data.get("people_csv")
        if not upload:
            return None
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                gettext("The file is larger than %(mb)d MB.") % {"mb": MAX_FILE_BYTES // (1024 * 1024)}
            )
        content_type = (getattr(upload, "content_type", "") or "").split(";")[0].strip().lower()
        if not upload.name.lower().endswith(".csv") and content_type not in CSV_CONTENT_TYPES:
            raise forms.ValidationError(gettext("Upload a CSV file (.csv)."))
        text, problem = decode_upload(upload)
        if text is None:
            raise forms.ValidationError(problem)
        return text

    def clean_status(self) -> str:
        return self.cleaned_data.get("status") or Organization.Status.PILOT

    def spec(self) -> ClientSpec:
        data = self.cleaned_data
        return ClientSpec(
            name=data["name"], slug=data["slug"], timezone=data["timezone"], language=data["language"],
            admin_email=data["admin_email"], admin_name=data["admin_name"], cycle_plan=data["cycle_plan"],
            cycle_name=data["cycle_name"], cycle_start=data["cycle_start"], cycle_end=data["cycle_end"],
            cycle_kind=data["cycle_kind"] or Cycle.Kind.CUSTOM, people_csv=data["people_csv"],
            pack_version=data["pack_version"], consultants=data["consultants"], status=data["status"],
        )  # fmt: skip
