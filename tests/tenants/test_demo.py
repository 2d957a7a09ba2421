import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from accounts.models import Team, User
from okrs.models import ObjectiveTemplate, OkrSettings
from tenants.demo import CONSULTANT, CONSULTANT_2, HEALTH_TREND_WEEKS, PACK_SLUG
from tenants.models import ConsultantAssignment, HealthSnapshot, MethodPackApplication, Organization

pytestmark = pytest.mark.django_db


def counts():
    result = {"organizations": Organization.objects.clients().count(), "public_users": User.objects.count()}
    for organization in Organization.objects.clients():
        with tenant_context(organization):
            result[organization.slug] = (User.objects.count(), Team.objects.count())
    return result


def test_seed_demo_is_idempotent(capsys):
    before = counts()

    call_command("seed_demo", "--no-portfolio")

    assert counts() == before == {
        "organizations": 2, "public_users": 3, "acme": (12, 6), "globex": (12, 6),
    }  # fmt: skip
    out = capsys.readouterr().out
    assert "nothing new (already seeded)" in out
    assert "http://acme.localhost/" in out


def test_every_demo_person_can_sign_in(acme, demo_password):
    with tenant_context(acme):
        users = list(User.objects.all())

    assert len(users) == 12
    assert all(user.check_password(demo_password) for user in users)


def test_seed_demo_builds_a_consultant_portfolio_and_is_idempotent(capsys):
    call_command("seed_demo")

    clients = dict(Organization.objects.clients().values_list("slug", "status"))
    assert clients == {
        "acme": "active", "globex": "active", "initech": "active", "umbrella": "pilot", "hooli": "active",
    }  # fmt: skip
    assigned = {
        email: set(
            ConsultantAssignment.objects.filter(consultant__email=email).values_list(
                "organization__slug", flat=True
            )
        )
        for email in (CONSULTANT, CONSULTANT_2)
    }
    assert assigned == {
        CONSULTANT: {"acme", "globex", "initech", "umbrella"},
        CONSULTANT_2: {"globex", "umbrella", "hooli"},
    }
    applied = {
        a.organization.slug: a.version.number
        for a in MethodPackApplication.objects.filter(version__pack__slug=PACK_SLUG).select_related(
            "organization", "version"
        )
    }
    assert applied == {"acme": 2, "globex": 1, "umbrella": 2}
    with tenant_context(Organization.objects.get(slug="acme")):
        assert ObjectiveTemplate.objects.filter(pack_slug=PACK_SLUG).count() > 5
        assert OkrSettings.objects.get().default_cadence == "weekly"
    for slug in clients:
        assert HealthSnapshot.objects.filter(organization__slug=slug).count() == HEALTH_TREND_WEEKS
    with tenant_context(Organization.objects.get(slug="hooli")):
        assert User.objects.count() == 14
    out = capsys.readouterr().out
    assert "mentor@platform.example" in out

    models = (Organization, ConsultantAssignment, MethodPackApplication, HealthSnapshot)
    before = [model.objects.count() for model in models]
    call_command("seed_demo")
    assert [model.objects.count() for model in models] == before
    assert "nothing new (already seeded)" in capsys.readouterr().out
