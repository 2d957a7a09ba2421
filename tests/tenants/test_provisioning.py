"""organization_provision (D3): clone when the template exists, migrations otherwise,
all or nothing, with clear errors for bad input."""

import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context, schema_exists, tenant_context

from accounts.models import Team, User
from tenants.data_version import UNTRACKED_TABLES
from tenants.models import Domain, Organization
from tenants.services import organization_provision, template_state

pytestmark = pytest.mark.django_db

TEMPLATE = "tenant_template"


def provision(slug="newco", **overrides):
    arguments = {
        "name": "New Co", "slug": slug, "admin_email": "boss@newco.example",
        "timezone": "Asia/Shanghai", "language": "zh-hans", "actor": None,
    }  # fmt: skip
    arguments.update(overrides)
    return organization_provision(**arguments)


def schema_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_namespace")
        return cursor.fetchone()[0]


def drop_template():
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA "{TEMPLATE}" CASCADE')  # rolled back with the test


def catalog(schema: str) -> dict[str, list]:
    """Tables, columns, indexes and constraints of a schema, with its name taken out."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity "
            "FROM information_schema.columns WHERE table_schema = %s ORDER BY 1, 2",
            [schema],
        )
        columns = cursor.fetchall()
        cursor.execute(
            "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = %s ORDER BY 1, 2", [schema]
        )
        indexes = [(t, d.replace(f"{schema}.", "S.")) for t, d in cursor.fetchall()]
        cursor.execute(
            "SELECT c.relname, con.contype, con.conname, pg_get_constraintdef(con.oid) "
            "FROM pg_constraint con "
            "JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s ORDER BY 1, 2, 3",
            [schema],
        )
        constraints = [(t, k, n, d.replace(f"{schema}.", "S.")) for t, k, n, d in cursor.fetchall()]
        cursor.execute(
            "SELECT r.relname, t.tgname, p.proname, pn.nspname = %s FROM pg_trigger t "
            "JOIN pg_class r ON r.oid = t.tgrelid JOIN pg_namespace n ON n.oid = r.relnamespace "
            "JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace "
            "WHERE n.nspname = %s AND NOT t.tgisinternal ORDER BY 1, 2",
            [schema, schema],
        )
        triggers = cursor.fetchall()
        cursor.execute(
            "SELECT c.relname, c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.reloptions IS NOT NULL ORDER BY 1",
            [schema],
        )
        storage = cursor.fetchall()
    return {
        "columns": columns, "indexes": indexes, "constraints": constraints, "triggers": triggers,
        "storage": storage,
    }  # fmt: skip


def test_clone_path_is_used_when_the_template_exists():
    # A marker row in the template travels only with a clone, never with migrations.
    with schema_context(TEMPLATE):
        Team.objects.create(name="cloned-from-template")

    result = provision()

    assert result.method == "clone"
    with tenant_context(result.organization):
        assert Team.objects.filter(name="cloned-from-template").exists()


def test_migration_path_is_used_when_the_template_is_missing():
    drop_template()

    result = provision()

    assert result.method == "migrations"
    assert schema_exists("newco")
    with tenant_context(result.organization):
        assert User.objects.get().role == User.Role.ORG_ADMIN


def test_clone_and_migration_paths_give_identical_tables():
    cloned = provision("viaclone").organization
    drop_template()
    migrated = provision("viamigrations").organization

    cloned_catalog, migrated_catalog = catalog(cloned.schema_name), catalog(migrated.schema_name)

    assert len(cloned_catalog["columns"]) > 20
    assert cloned_catalog["columns"] == migrated_catalog["columns"]
    assert cloned_catalog["indexes"] == migrated_catalog["indexes"]
    assert cloned_catalog["constraints"] == migrated_catalog["constraints"]
    triggers = cloned_catalog["triggers"]
    assert triggers == migrated_catalog["triggers"]
    # Check-ins are append-only (their function lives in the schema); every table but the
    # untracked ones moves the data version at commit and on TRUNCATE (function in public,
    # ADR 0011). Nothing else.
    append_only = ("okrs_checkin", "okrs_checkin_no_update", "okrs_checkin_append_only", True)
    tables = sorted({row[0] for row in cloned_catalog["columns"]} - UNTRACKED_TABLES)
    data_version = [
        (table, trigger, "okr_data_changed", False)
        for table in tables
        for trigger in ("okr_data_changed", "okr_data_truncated")
    ]
    assert sorted(triggers) == sorted([append_only, *data_version])
    assert cloned_catalog["storage"] == migrated_catalog["storage"]
    assert migrated_catalog["storage"] == [
        ("okrs_keyresult", ["fillfactor=50"]), ("okrs_objective", ["fillfactor=50"]),
    ]  # fmt: skip


def test_cloned_schema_has_every_migration_recorded():
    organization = provision().organization

    with schema_context(organization.schema_name), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations")
        (recorded,) = cursor.fetchone()
    with schema_context(TEMPLATE), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations")
        (in_template,) = cursor.fetchone()

    assert recorded == in_template > 0


def test_template_state_notices_a_missing_migration():
    assert template_state() == "ready"
    with schema_context(TEMPLATE), connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'accounts'")
    assert template_state() == "stale"
    drop_template()
    assert template_state() == "missing"


def test_provisioning_creates_domain_and_first_org_admin():
    result = provision(admin_email="  Boss@NewCo.Example ", admin_name="Bo Ss")

    organization = result.organization
    assert organization.schema_name == "newco"
    assert organization.timezone == "Asia/Shanghai"
    assert organization.language == "zh-hans"
    assert list(Domain.objects.filter(tenant=organization).values_list("domain", "is_primary")) == [
        ("newco.localhost", True)
    ]
    with tenant_context(organization):
        admin = User.objects.get()
        assert (admin.email, admin.full_name, admin.role) == ("boss@newco.example", "Bo Ss", "org_admin")
        assert not admin.has_usable_password()
    assert result.set_password_url.startswith("http://newco.localhost/set-password/")


def test_hyphenated_slug_gets_an_underscored_schema():
    organization = provision("acme-china").organization

    assert organization.schema_name == "acme_china"
    assert Domain.objects.get(tenant=organization).domain == "acme-china.localhost"


def test_invitation_email_is_sent_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = provision()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["boss@newco.example"]
    assert "New Co" in message.subject
    assert result.set_password_url in message.body


def test_invitation_link_sets_the_password_once(django_capture_on_commit_callbacks):
    result = provision()
    client = Client(HTTP_HOST="newco.localhost")
    path = result.set_password_url.removeprefix("http://newco.localhost")

    form = client.get(path, follow=True)
    assert form.status_code == 200
    assert form.context["validlink"] is True
    form_path = form.redirect_chain[-1][0]
    saved = client.post(
        form_path, {"new_password1": "a-Long-passphrase-42", "new_password2": "a-Long-passphrase-42"}
    )
    assert saved.status_code == 302

    signed_in = client.post("/login/", {"username": "boss@newco.example", "password": "a-Long-passphrase-42"})
    assert signed_in.status_code == 302
    reused = Client(HTTP_HOST="newco.localhost").get(path, follow=True)
    assert reused.context["validlink"] is False


def test_invitation_link_of_one_organisation_does_not_work_on_another():
    first = provision("firstco")
    second = provision("secondco")  # its admin has the same user id (1) in its own schema
    path = first.set_password_url.removeprefix("http://firstco.localhost")

    response = Client(HTTP_HOST="secondco.localhost").get(path, follow=True)

    assert response.context["validlink"] is False
    with tenant_context(second.organization):
        assert User.objects.get().pk == User.objects.get().pk  # sanity: one user there
        assert not User.objects.get().has_usable_password()


BAD_SLUGS = {
    "www": "reserved",
    "admin": "reserved",
    "api": "reserved",
    "public": "reserved",
    "pg-catalog": "reserved",
    "ab": "3 to 40 characters",
    "a" * 41: "3 to 40 characters",
    "acme!": "lowercase letters",
    "-acme": "lowercase letters",
    "acme-": "lowercase letters",
    "a--b": "lowercase letters",
    "1acme": "lowercase letters",
    "ac me": "lowercase letters",
    "acme_x": "lowercase letters",
    "": "Choose a subdomain",
    "acme": "already taken",
    "ACME": "already taken",
}


@pytest.mark.parametrize(("slug", "message"), BAD_SLUGS.items())
def test_bad_slug_is_refused_with_a_clear_error_and_creates_nothing(slug, message):
    schemas, organizations, domains = schema_count(), Organization.objects.count(), Domain.objects.count()

    with pytest.raises(ValidationError) as refused:
        provision(slug)

    assert list(refused.value.message_dict) == ["slug"]
    assert message in " ".join(refused.value.message_dict["slug"])
    assert (schema_count(), Organization.objects.count(), Domain.objects.count()) == (
        schemas,
        organizations,
        domains,
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": "  "}, "name", "Give the organisation a name"),
        ({"admin_email": "not-an-email"}, "admin_email", "valid email"),
        ({"admin_email": ""}, "admin_email", "first admin"),
        ({"timezone": "Mars/Olympus"}, "timezone", "not a known time zone"),
        ({"language": "fr"}, "language", "en, zh-hans"),
    ],
)
def test_other_bad_input_is_refused_per_field(overrides, field, message):
    schemas = schema_count()

    with pytest.raises(ValidationError) as refused:
        provision(**overrides)

    assert list(refused.value.message_dict) == [field]
    assert message in " ".join(refused.value.message_dict[field])
    assert schema_count() == schemas
    assert not Organization.objects.filter(slug="newco").exists()


def test_failure_after_the_schema_was_created_leaves_nothing_behind(acme):
    # The host is already routed to acme, so the domain insert fails after the clone.
    Domain.objects.create(domain="newco.localhost", tenant=acme, is_primary=False)
    schemas = schema_count()

    with pytest.raises(ValidationError):
        provision()

    assert schema_count() == schemas
    assert not schema_exists("newco")
    assert not Organization.objects.filter(slug="newco").exists()
    assert connection.schema_name == "public"


def test_provision_org_command_reports_the_link(capsys):
    call_command("provision_org", "cmdco", name="Cmd Co", admin_email="a@cmd.example", no_email=True)

    out = capsys.readouterr().out
    assert "Created Cmd Co at http://cmdco.localhost/" in out
    assert re.search(r"http://cmdco\.localhost/set-password/\w+/[\w-]+/", out)


def test_provision_org_command_explains_bad_input():
    with pytest.raises(CommandError) as refused:
        call_command("provision_org", "www", name="X", admin_email="a@x.example", timezone="Nowhere")

    text = str(refused.value)
    assert "Nothing was created" in text
    assert "slug: “www” is reserved" in text
    assert "timezone:" in text
