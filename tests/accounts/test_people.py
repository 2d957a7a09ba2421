"""People and teams inside an organisation's schema."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext
from django_tenants.utils import tenant_context

from accounts.models import Team, User
from accounts.services import team_create, user_create

pytestmark = pytest.mark.django_db


def test_demo_organisation_has_a_team_tree_and_reporting_lines(acme):
    with tenant_context(acme):
        platform = Team.objects.select_related("parent__parent").get(name="Platform")
        sre = User.objects.select_related("manager__manager", "team").get(email="sre@acme.example")

        assert [platform.parent.name, platform.parent.parent.name] == ["Product & Engineering", "Leadership"]
        assert (sre.team.name, sre.manager.full_name, sre.manager.manager.full_name) == (
            "Platform", "Linus Chen", "Grace Hopper"
        )  # fmt: skip
        assert set(User.objects.values_list("role", flat=True)) == {
            "org_admin",
            "manager",
            "member",
            "viewer",
        }


def test_same_email_twice_is_refused_whatever_the_case(acme):
    with tenant_context(acme):
        before = User.objects.count()
        with pytest.raises(ValidationError) as refused:
            user_create(email="SRE@Acme.Example", actor=None)

        assert "already exists" in refused.value.message_dict["email"][0]
        assert User.objects.count() == before


def test_same_email_may_exist_in_two_organisations(acme, globex):
    with tenant_context(globex):
        user_create(email="sre@acme.example", actor=None)
        assert User.objects.filter(email="sre@acme.example").count() == 1


def test_team_names_are_unique_among_siblings(acme):
    with tenant_context(acme):
        leadership = Team.objects.get(name="Leadership")
        with pytest.raises(ValidationError):
            team_create(name="sales", parent=leadership, actor=None)
        with transaction.atomic(), pytest.raises(IntegrityError):
            Team.objects.create(name="SALES", parent=leadership)
        team_create(name="Sales", parent=Team.objects.get(name="Growth"), actor=None)


def test_password_reset_mail_links_to_the_organisations_own_host(acme_client):
    response = acme_client.post("/password-reset/", {"email": "csm@acme.example"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "http://acme.localhost/set-password/" in mail.outbox[0].body


def test_password_reset_for_an_unknown_address_reveals_nothing(acme_client):
    response = acme_client.post("/password-reset/", {"email": "csm@globex.example"})

    assert response.status_code == 302
    assert mail.outbox == []


def test_reset_link_from_acme_is_refused_on_globex(acme_client):
    acme_client.post("/password-reset/", {"email": "ceo@acme.example"})
    path = mail.outbox[0].body.split("http://acme.localhost", 1)[1].split()[0]

    on_globex = Client(HTTP_HOST="globex.localhost").get(path, follow=True)
    on_acme = Client(HTTP_HOST="acme.localhost").get(path, follow=True)

    assert on_globex.context["validlink"] is False
    with translation.override("zh-hans"):  # Globex speaks Simplified Chinese by default
        assert gettext("This link no longer works") in on_globex.content.decode()
    assert on_acme.context["validlink"] is True


def test_organisation_default_language_is_used_before_the_browsers(acme_client, globex_client):
    globex_page = globex_client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en")
    acme_page = acme_client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh")

    assert '<html lang="zh-hans">' in globex_page.content.decode()
    assert '<html lang="en">' in acme_page.content.decode()


def test_persons_profile_language_beats_the_organisation_default(globex, globex_client, demo_password):
    with tenant_context(globex):
        User.objects.filter(email="cto@globex.example").update(language="en")
    globex_client.post("/login/", {"username": "cto@globex.example", "password": demo_password})

    assert '<html lang="en">' in globex_client.get("/").content.decode()


def test_language_switch_changes_the_interface(acme_client):
    acme_client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})

    page = acme_client.get("/login/")

    assert page.status_code == 200
    assert '<html lang="zh-hans">' in page.content.decode()
