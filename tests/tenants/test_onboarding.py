"""client_onboard: one transaction from the wizard's input to a serving client — and on any
failure, nothing left behind (no organisation row, domain, schema, assignment, event or e-mail)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django_tenants.utils import schema_exists, tenant_context

from accounts.models import Team, User
from okrs.models import Cycle, OkrSettings
from tenants import onboarding
from tenants.models import (
    ConsultantAssignment,
    Domain,
    MethodPack,
    MethodPackApplication,
    MethodPackVersion,
    Organization,
    PlatformEvent,
)
from tenants.onboarding import (
    PLAN_CUSTOM,
    ClientSpec,
    OnboardingError,
    client_onboard,
    client_spec_errors,
)

pytestmark = pytest.mark.django_db

# 20:00 UTC on New Year's Eve is already 1 January in Shanghai.
NEW_YEARS_EVE = datetime(2025, 12, 31, 20, 0, tzinfo=UTC)
PEOPLE_CSV = (
    "email,name,team,manager_email,role\n"
    "lead@initech.example,Lena Lead,Engineering,,manager\n"
    "dev@initech.example,Dan Dev,Engineering / Platform,lead@initech.example,member\n"
)
PACK_CONTENT = {
    "templates": [
        {
            "key": "sales-pipeline",
            "function": "sales",
            "title": "Build a pipeline that carries the year",
            "description": "",
            "key_results": [
                {
                    "title": "Qualified opportunities",
                    "kind": "increase",
                    "unit": "number",
                    "start": 0,
                    "target": 40,
                }
            ],
        }
    ],
    "checkin_questions": ["What moved since last time?"],
    "cadence": "weekly",
}


@pytest.fixture
def coach(db) -> User:
    return User.objects.get(email="coach@platform.example")


@pytest.fixture
def second_coach(db) -> User:
    return User.objects.create_user("second@platform.example", role=User.Role.CONSULTANT)


@pytest.fixture
def pack_version(coach) -> MethodPackVersion:
    pack = MethodPack.objects.create(slug="onboarding-test", name="Onboarding test pack", owner=coach)
    return MethodPackVersion.objects.create(pack=pack, number=1, content=PACK_CONTENT, created_by=coach)


def make_spec(**overrides) -> ClientSpec:
    values = {
        "name": "Initech", "slug": "initech", "timezone": "Asia/Shanghai", "language": "en",
        "admin_email": "ceo@initech.example", "admin_name": "Bill Lumbergh",
    }  # fmt: skip
    values.update(overrides)
    return ClientSpec(**values)


def platform_state() -> dict:
    """What an onboarding could leave behind in the public schema (and the schema itself)."""
    return {
        "organizations": sorted(Organization.objects.values_list("slug", flat=True)),
        "domains": Domain.objects.count(),
        "assignments": ConsultantAssignment.objects.count(),
        "events": PlatformEvent.objects.count(),
        "applications": MethodPackApplication.objects.count(),
        "initech_schema": schema_exists("initech"),
    }


def assert_nothing_created(before: dict, callbacks) -> None:
    assert platform_state() == before
    assert before["initech_schema"] is False
    assert not Organization.objects.filter(slug="initech").exists()
    assert callbacks == []  # no invitation (or anything else) waits for a commit
    assert mail.outbox == []


def test_onboarding_creates_a_serving_client_with_cycles_people_and_consultants(
    coach, second_coach, django_capture_on_commit_callbacks
):
    steps = []
    with django_capture_on_commit_callbacks(execute=True):
        result = client_onboard(
            spec=make_spec(people_csv=PEOPLE_CSV, consultants=[second_coach]),
            actor=coach,
            now=NEW_YEARS_EVE,
            progress=lambda step, index, total: steps.append((step, index, total)),
            ip="203.0.113.9",
        )
        assert mail.outbox == []  # nothing leaves before the commit

    organization = Organization.objects.get(slug="initech")
    assert result.organization == organization
    assert (organization.name, organization.status, organization.timezone) == (
        "Initech", Organization.Status.PILOT, "Asia/Shanghai",
    )  # fmt: skip
    assert organization.is_serving
    assert schema_exists("initech")
    assert list(Domain.objects.filter(tenant=organization).values_list("domain", flat=True)) == [
        "initech.localhost"
    ]
    assert result.address == "http://initech.localhost/"
    assert result.set_password_url.startswith("http://initech.localhost/")
    assert [s.name for s in result.steps] == [
        "validate", "provision", "cycles", "people", "consultants", "record",
    ]  # fmt: skip
    assert all(s.seconds >= 0 for s in result.steps)
    assert steps == [
        ("validate", 0, 6), ("provision", 1, 6), ("cycles", 2, 6), ("people", 3, 6),
        ("consultants", 4, 6), ("record", 5, 6), ("done", 6, 6),
    ]  # fmt: skip

    with tenant_context(organization):
        cycles = {c.name: c for c in Cycle.objects.select_related("parent")}
        assert sorted(cycles) == ["FY2026", "Q1 2026"]  # the organisation's date, not UTC's
        year, quarter = cycles["FY2026"], cycles["Q1 2026"]
        assert (year.kind, year.start_date, year.end_date, year.state, year.parent) == (
            "annual", date(2026, 1, 1), date(2026, 12, 31), "active", None,
        )  # fmt: skip
        assert (quarter.kind, quarter.start_date, quarter.end_date, quarter.state, quarter.parent) == (
            "quarter", date(2026, 1, 1), date(2026, 3, 31), "active", year,
        )  # fmt: skip
        assert {c.cadence for c in cycles.values()} == {"biweekly"}
        people = {u.email: u for u in User.objects.select_related("manager", "team")}
        assert sorted(people) == ["ceo@initech.example", "dev@initech.example", "lead@initech.example"]
        assert people["ceo@initech.example"].role == User.Role.ORG_ADMIN
        assert people["ceo@initech.example"].full_name == "Bill Lumbergh"
        assert (people["dev@initech.example"].manager.email, people["dev@initech.example"].team.name) == (
            "lead@initech.example", "Platform",
        )  # fmt: skip
        assert people["lead@initech.example"].role == User.Role.MANAGER
        assert sorted(Team.objects.values_list("name", flat=True)) == ["Engineering", "Platform"]

    assert sorted(
        ConsultantAssignment.objects.filter(organization=organization).values_list(
            "consultant__email", "assigned_by"
        )
    ) == [
        ("coach@platform.example", "coach@platform.example"),
        ("second@platform.example", "coach@platform.example"),
    ]
    # The invitations left after the commit: the org admin's and the imported people's.
    assert sorted(message.to[0] for message in mail.outbox) == [
        "ceo@initech.example", "dev@initech.example", "lead@initech.example",
    ]  # fmt: skip
    invitation = next(m for m in mail.outbox if m.to == ["ceo@initech.example"])
    assert result.set_password_url in invitation.body

    events = list(PlatformEvent.objects.filter(organization=organization).order_by("id"))
    actions = [e.action for e in events if e.action != PlatformEvent.Action.PROVISIONED]
    assert actions == ["consultant_assigned", "consultant_assigned", "onboarded"]
    onboarded = events[-1]
    assert (onboarded.actor_email, onboarded.consultant, onboarded.ip) == (
        "coach@platform.example", coach, "203.0.113.9",
    )  # fmt: skip
    detail = dict(onboarded.detail)
    assert set(detail.pop("seconds")) == {"validate", "provision", "cycles", "people", "consultants"}
    assert detail == {
        "cycles": ["FY2026", "Q1 2026"], "people_invited": 2, "people_updated": 0, "pack": None,
        "consultants": ["coach@platform.example", "second@platform.example"],
        "admin_email": "ceo@initech.example",
    }  # fmt: skip
    assert connection.schema_name == "public"


def test_a_custom_range_makes_one_active_cycle(coach):
    spec = make_spec(
        cycle_plan=PLAN_CUSTOM, cycle_name="Pilot", cycle_start=date(2026, 2, 1),
        cycle_end=date(2026, 7, 31), cycle_kind="custom",
    )  # fmt: skip

    result = client_onboard(spec=spec, actor=coach, now=NEW_YEARS_EVE)

    with tenant_context(result.organization):
        assert list(
            Cycle.objects.values_list("name", "kind", "start_date", "end_date", "state", "parent")
        ) == [("Pilot", "custom", date(2026, 2, 1), date(2026, 7, 31), "active", None)]
    assert [s.name for s in result.steps] == ["validate", "provision", "cycles", "consultants", "record"]


def test_the_method_pack_is_applied_and_sets_the_cadence(coach, pack_version):
    result = client_onboard(spec=make_spec(pack_version=pack_version), actor=coach, now=NEW_YEARS_EVE)

    assert [s.name for s in result.steps] == [
        "validate",
        "provision",
        "cycles",
        "consultants",
        "pack",
        "record",
    ]
    application = MethodPackApplication.objects.get(organization=result.organization)
    assert result.pack_application == application
    assert application.version == pack_version
    with tenant_context(result.organization):
        assert set(Cycle.objects.values_list("cadence", flat=True)) == {"weekly"}
        assert OkrSettings.objects.get().checkin_questions == ["What moved since last time?"]
    onboarded = PlatformEvent.objects.get(organization=result.organization, action="onboarded")
    assert onboarded.detail["pack"] == {"slug": "onboarding-test", "version": 1}
    assert PlatformEvent.objects.filter(organization=result.organization, action="pack_applied").count() == 1


def test_a_platform_admin_onboards_without_being_assigned(second_coach):
    admin = User.objects.get(email="admin@platform.example")

    result = client_onboard(spec=make_spec(consultants=[second_coach]), actor=admin, now=NEW_YEARS_EVE)

    assert [a.consultant.email for a in result.assignments] == ["second@platform.example"]
    event = PlatformEvent.objects.get(organization=result.organization, action="onboarded")
    assert (event.actor_email, event.consultant) == ("admin@platform.example", None)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"slug": "Bad_Slug!"}, "slug", "Use lowercase letters a–z"),
        ({"slug": "acme"}, "slug", "The subdomain “acme” is already taken."),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "“Mars/Olympus_Mons” is not a known time zone"),
        ({"admin_email": "not-an-address"}, "admin_email", "Enter a valid email address."),
        ({"language": "fr"}, "language", "Language must be one of: en, zh-hans."),
        ({"cycle_plan": "monthly"}, "cycle_plan", "Choose the first cycle"),
        (
            {
                "cycle_plan": PLAN_CUSTOM,
                "cycle_name": "Pilot",
                "cycle_start": date(2026, 5, 1),
                "cycle_end": date(2026, 4, 1),
            },
            "cycle_end",
            "The cycle must end on or after its start date.",
        ),
        ({"cycle_plan": PLAN_CUSTOM, "cycle_start": date(2026, 5, 1)}, "cycle_name", "Give the cycle a name"),
        (
            {"people_csv": "email,shoe_size\nx@initech.example,42\n"},
            "people_csv",
            "The people file has problems",
        ),
    ],
)
def test_bad_input_is_refused_before_anything_is_created(
    coach, overrides, field, message, django_capture_on_commit_callbacks
):
    before = platform_state()

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(OnboardingError) as caught:
        client_onboard(spec=make_spec(**overrides), actor=coach, now=NEW_YEARS_EVE)

    assert caught.value.step == "validate"
    assert message in " ".join(caught.value.message_dict[field])
    assert_nothing_created(before, callbacks)


def test_the_file_shape_errors_come_with_their_row_and_column(coach):
    with pytest.raises(OnboardingError) as caught:
        client_onboard(
            spec=make_spec(people_csv="email,shoe_size\nx@initech.example,42\n"),
            actor=coach,
            now=NEW_YEARS_EVE,
        )

    assert [(e.row, e.column) for e in caught.value.row_errors] == [(1, "shoe_size")]


def test_bad_people_rows_roll_back_the_provisioned_organisation(coach, django_capture_on_commit_callbacks):
    """The file's shape is fine, so the organisation is provisioned; then the import finds
    rows it cannot take — and everything, the schema included, goes."""
    before = platform_state()
    csv_text = (
        "email,name,manager_email,role\n"
        "a@initech.example,Ann,nobody@initech.example,member\n"
        "b@initech.example,Bob,,wizard\n"
    )

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(OnboardingError) as caught:
        client_onboard(spec=make_spec(people_csv=csv_text), actor=coach, now=NEW_YEARS_EVE)

    assert caught.value.step == "people"
    assert [(e.row, e.column, e.message) for e in caught.value.row_errors] == [
        (2, "manager_email", "Nobody with the e-mail address nobody@initech.example is in the organisation "
         "or in this file."),
        (3, "role", "Unknown role “wizard”: use org_admin, manager, member or viewer."),
    ]  # fmt: skip
    assert caught.value.message_dict == {
        "people_csv": ["The people file has problems (listed by row); nothing was imported."]
    }
    assert_nothing_created(before, callbacks)
    assert connection.schema_name == "public"


def test_a_failing_pack_rolls_back_everything(
    coach, pack_version, monkeypatch, django_capture_on_commit_callbacks
):
    before = platform_state()

    def failing_apply(*, organization, version, actor):
        with tenant_context(organization):  # it got as far as writing in the new schema
            OkrSettings.objects.update_or_create(pk=1, defaults={"default_cadence": "monthly"})
        raise ValidationError({"content": ["Template 3: a target value is required."]})

    monkeypatch.setattr(onboarding, "method_pack_apply", failing_apply)

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(OnboardingError) as caught:
        client_onboard(spec=make_spec(pack_version=pack_version), actor=coach, now=NEW_YEARS_EVE)

    assert caught.value.step == "pack"
    assert caught.value.message_dict == {"pack_version": ["Template 3: a target value is required."]}
    assert_nothing_created(before, callbacks)


def test_a_pack_version_the_service_refuses_rolls_back_everything(
    coach, pack_version, django_capture_on_commit_callbacks
):
    # Published versions are checked; one edited behind the services' back is refused on apply.
    MethodPackVersion.objects.filter(pk=pack_version.pk).update(content={"cadence": "hourly"})
    pack_version.refresh_from_db()
    before = platform_state()

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(OnboardingError) as caught:
        client_onboard(spec=make_spec(pack_version=pack_version), actor=coach, now=NEW_YEARS_EVE)

    assert caught.value.step == "pack"
    assert list(caught.value.message_dict) == ["pack_version"]
    assert_nothing_created(before, callbacks)


def test_someone_who_is_not_a_consultant_is_refused(django_capture_on_commit_callbacks):
    outsider = User.objects.create_user("someone@platform.example", role=User.Role.MEMBER)
    before = platform_state()

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(PermissionDenied):
        client_onboard(spec=make_spec(), actor=outsider, now=NEW_YEARS_EVE)

    assert_nothing_created(before, callbacks)


def test_only_active_consultants_can_be_assigned(coach, second_coach):
    second_coach.is_active = False
    second_coach.save()
    member = User.objects.create_user("member@platform.example", role=User.Role.MEMBER)
    before = platform_state()

    with pytest.raises(OnboardingError) as caught:
        client_onboard(spec=make_spec(consultants=[second_coach, member]), actor=coach, now=NEW_YEARS_EVE)

    assert caught.value.message_dict == {
        "consultants": [
            "second@platform.example is not an active consultant account.",
            "member@platform.example is not an active consultant account.",
        ]
    }
    assert platform_state() == before


def test_client_spec_errors_lists_every_problem_by_field():
    spec = make_spec(
        name="", slug="x", timezone="Nowhere", language="en", admin_email="", cycle_plan=PLAN_CUSTOM,
        people_csv="name\nAnn\n",
    )  # fmt: skip

    errors = client_spec_errors(spec)

    assert sorted(errors) == [
        "admin_email", "cycle_end", "cycle_name", "cycle_start", "name", "people_csv", "slug", "timezone",
    ]  # fmt: skip
    assert errors["people_csv"] == ["Row 1, column “email”: The required column “email” is missing."]
    assert client_spec_errors(make_spec()) == {}


def test_a_client_can_start_active_but_not_suspended(coach):
    active = client_onboard(spec=make_spec(status=Organization.Status.ACTIVE), actor=coach).organization
    assert active.status == Organization.Status.ACTIVE

    with pytest.raises(OnboardingError) as refused:
        client_onboard(spec=make_spec(slug="initech-two", status=Organization.Status.SUSPENDED), actor=coach)

    assert refused.value.message_dict == {"status": ["A new client starts as a pilot or active."]}
    assert not Organization.objects.filter(slug="initech-two").exists()
