import pytest
from django.core.management import call_command
from django_tenants.utils import tenant_context

from accounts.models import Team, User
from tenants.models import Organization

pytestmark = pytest.mark.django_db


def counts():
    result = {"organizations": Organization.objects.clients().count(), "public_users": User.objects.count()}
    for organization in Organization.objects.clients():
        with tenant_context(organization):
            result[organization.slug] = (User.objects.count(), Team.objects.count())
    return result


def test_seed_demo_is_idempotent(capsys):
    before = counts()

    call_command("seed_demo")

    assert counts() == before == {
        "organizations": 2, "public_users": 2, "acme": (12, 6), "globex": (12, 6),
    }  # fmt: skip
    out = capsys.readouterr().out
    assert "nothing new (already seeded)" in out
    assert "http://acme.localhost/" in out


def test_every_demo_person_can_sign_in(acme, demo_password):
    with tenant_context(acme):
        users = list(User.objects.all())

    assert len(users) == 12
    assert all(user.check_password(demo_password) for user in users)
