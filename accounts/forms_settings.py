"""Forms of the people, teams and notification settings pages. They shape the input;
the services (``accounts.services``, ``accounts.services_settings``) enforce every rule.

Teams and managers are offered from lists the view has already loaded (in tree order,
with their full path), so rendering a form costs no query per option, and long lists
render without a template per option (``FastSelect``)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import NotificationSettings, Team, User
from accounts.selectors_settings import PERSON_STATUSES
from accounts.services import ASSIGNABLE_ROLES
from accounts.services_settings import MAX_REMINDERS_PER_WEEK, webhook_url_validator
from accounts.ui import FastSelect

ROLE_CHOICES = [(role.value, role.label) for role in User.Role if role in ASSIGNABLE_ROLES]
ROLE_HELP = _(
    "Org admins manage people, teams, cycles and settings. Managers see and calibrate their reports' "
    "OKRs. Members own and check in on OKRs. Viewers only read."
)
TIMEZONE_CHOICES = [("", _("The organisation's time zone"))] + [
    (zone, zone) for zone in sorted(zoneinfo.available_timezones())
]


class SelectWithDisabled(forms.Select):
    """A select whose options in ``disabled_values`` cannot be picked (e.g. a team's own
    sub-teams as its new parent). The service still refuses them if posted by hand."""

    disabled_values: frozenset[str] = frozenset()

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):  # noqa: PLR0917 - Django's signature
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        if str(value) in self.disabled_values:
            option["attrs"]["disabled"] = True
        return option


class ObjectChoiceField(forms.ChoiceField):
    """A choice among objects already loaded; cleans to the object (or None)."""

    widget = FastSelect  # lists of people can be long

    def set_objects(self, objects: Iterable, label: Callable[[object], str], empty_label: str) -> None:
        self.objects_by_id = {str(obj.pk): obj for obj in objects}
        self.choices = [("", empty_label)] + [(key, label(obj)) for key, obj in self.objects_by_id.items()]

    def clean(self, value):
        value = super().clean(value)
        return self.objects_by_id.get(str(value)) if value not in self.empty_values else None


def _person_label(person: User) -> str:
    return f"{person.full_name} ({person.email})" if person.full_name else person.email


class PeopleFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search by name or e-mail"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Name or e-mail")}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Everyone")),
            *zip(
                PERSON_STATUSES, [_("Active"), _("Invited (no password yet)"), _("Deactivated")], strict=True
            ),
        ],
    )


class _PersonForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    role = forms.ChoiceField(
        label=_("Role"), choices=ROLE_CHOICES, initial=User.Role.MEMBER, help_text=ROLE_HELP
    )
    team = ObjectChoiceField(label=_("Team"), required=False)
    manager = ObjectChoiceField(label=_("Manager"), required=False)

    def __init__(self, *args, teams: list[Team], managers: Iterable[User], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].set_objects(teams, lambda team: team.path_label, _("No team"))
        self.fields["manager"].set_objects(managers, _person_label, _("No manager"))


class PersonInviteForm(_PersonForm):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("They receive an e-mail with a link to choose their password."),
    )
    field_order = ["full_name", "email", "role", "team", "manager"]


class PersonEditForm(_PersonForm):
    timezone = forms.ChoiceField(label=_("Time zone"), choices=TIMEZONE_CHOICES, required=False)

    def __init__(self, *args, person: User, managers: Iterable[User], **kwargs):
        # Nobody manages themselves; a deactivated current manager stays selectable.
        managers = [m for m in managers if m.pk != person.pk]
        if person.manager is not None and person.manager_id not in {m.pk for m in managers}:
            managers.append(person.manager)
        kwargs.setdefault(
            "initial",
            {
                "full_name": person.full_name,
                "role": person.role,
                "team": person.team_id,
                "manager": person.manager_id,
                "timezone": person.timezone,
            },
        )
        super().__init__(*args, managers=managers, **kwargs)
        if person.role == User.Role.CONSULTANT:
            self.fields["role"].choices = [(User.Role.CONSULTANT.value, User.Role.CONSULTANT.label)]


class TeamCreateForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=120)
    parent = ObjectChoiceField(label=_("Part of"), required=False)

    def __init__(self, *args, teams: list[Team], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].set_objects(
            teams, lambda team: team.path_label, _("Top level (no parent team)")
        )


class TeamRenameForm(forms.Form):
    name = forms.CharField(label=_("New name"), max_length=120)


class TeamMoveForm(forms.Form):
    parent = ObjectChoiceField(
        label=_("Move under"),
        required=False,
        help_text=_("Its sub-teams and members move with it."),
        widget=SelectWithDisabled,
    )

    def __init__(self, *args, team: Team, teams: list[Team], **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["parent"]
        field.set_objects(
            [t for t in teams if t.pk != team.pk], lambda t: t.path_label, _("Top level (no parent team)")
        )
        field.widget.disabled_values = frozenset(str(pk) for pk in team.descendant_ids)
        self.initial.setdefault("parent", team.parent_id)


class NotificationSettingsForm(forms.Form):
    checkin_day = forms.TypedChoiceField(
        label=_("Check-in day"),
        choices=NotificationSettings.Weekday.choices,
        coerce=int,
        help_text=_("People are reminded to check in on this day, from 09:00 in their time zone."),
    )
    digest_day = forms.TypedChoiceField(
        label=_("Weekly digest day"),
        choices=NotificationSettings.Weekday.choices,
        coerce=int,
        help_text=_("The weekly summary of progress and what is due goes out on this day."),
    )
    max_reminders_per_week = forms.IntegerField(
        label=_("Reminders per person per week, at most"),
        min_value=0,
        max_value=MAX_REMINDERS_PER_WEEK,
        help_text=_("Escalations and the digest don't count towards this limit. 0 turns reminders off."),
    )
    chat_webhook_url = forms.CharField(
        label=_("Chat webhook address (Slack-compatible)"),
        required=False,
        max_length=200,
        validators=[webhook_url_validator],
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.slack.com/services/…"}),
        help_text=_("Reminders are also posted here for people who chose chat. Leave empty for no chat."),
    )
