"""Sign-in brute-force protection (accounts.lockout, django-axes): every sign-in form, the admin
and the API's HTTP Basic lock out after repeated failures per account and network."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from tests.conftest import host_of

pytestmark = pytest.mark.django_db

CEO = "ceo@acme.example"
ANALYST = "analyst@acme.example"
SRE = "sre@acme.example"
ADMIN = "admin@platform.example"
ACCOUNT_LOCKED = (
    "Too many failed sign-ins for this account from your network. Try again in 15 minutes, "
    "or reset your password."
)
NETWORK_LOCKED = "Too many failed sign-ins from your network. Try again in 15 minutes."
INVALID_LOGIN = "That e-mail and password do not match an account here."
IP = "203.0.113.7"


def sign_in(client: Client, email: str, password: str, *, ip: str = IP, path: str = "/login/"):
    response = client.post(path, {"username": email, "password": password}, REMOTE_ADDR=ip)
    connection.set_schema_to_public()
    return response


def fail(client: Client, email: str, times: int, **kwargs) -> list[int]:
    return [sign_in(client, email, "not-the-password", **kwargs).status_code for _ in range(times)]


def attempts(schema: str) -> list[tuple[str, str, int]]:
    with schema_context(schema):
        return list(
            AccessAttempt.objects.order_by("username", "ip_address").values_list(
                "username", "ip_address", "failures_since_start"
            )
        )


def retry_after(response) -> int:
    return int(response["Retry-After"])


def test_tenant_form_locks_the_account_out_after_five_failures(acme, acme_client):
    with tenant_context(acme):
        last_login = User.objects.get(email=CEO).last_login

    statuses = fail(acme_client, CEO, 4)
    locked = sign_in(acme_client, CEO, "not-the-password")

    assert statuses == [200, 200, 200, 200]
    assert locked.status_code == 429
    assert 890 <= retry_after(locked) <= 900
    assert [str(e) for e in locked.context["form"].non_field_errors()] == [ACCOUNT_LOCKED]
    assert ACCOUNT_LOCKED in locked.content.decode()
    assert INVALID_LOGIN not in locked.content.decode()
    assert "_auth_user_id" not in acme_client.session
    assert attempts("acme") == [(CEO, IP, 5)]
    with tenant_context(acme):
        assert User.objects.get(email=CEO).last_login == last_login


def test_correct_password_is_refused_during_the_lockout(acme, acme_client, demo_password):
    fail(acme_client, CEO, 5)

    response = sign_in(acme_client, CEO, demo_password)

    assert response.status_code == 429
    assert ACCOUNT_LOCKED in response.content.decode()
    assert "_auth_user_id" not in acme_client.session
    # Refused unchecked, so the try neither counts nor extends the lockout.
    assert attempts("acme") == [(CEO, IP, 5)]


def test_e_mail_case_does_not_dodge_the_count(acme, acme_client, demo_password):
    fail(acme_client, CEO, 3)
    fail(acme_client, CEO.upper(), 2)

    response = sign_in(acme_client, "Ceo@Acme.Example", demo_password)

    assert response.status_code == 429
    assert attempts("acme") == [(CEO, IP, 5)]


@override_settings(LOGIN_LOCKOUT_NETWORK_LIMIT=7)
def test_other_accounts_from_the_network_are_locked_only_at_the_network_limit(acme, demo_password):
    attacker = Client(HTTP_HOST=host_of(acme))
    fail(attacker, CEO, 5)

    below_limit = sign_in(attacker, ANALYST, "not-the-password")
    colleague = sign_in(Client(HTTP_HOST=host_of(acme)), SRE, demo_password)
    at_limit = sign_in(attacker, ANALYST, "not-the-password")
    same_network = sign_in(Client(HTTP_HOST=host_of(acme)), SRE, demo_password)
    other_network = sign_in(Client(HTTP_HOST=host_of(acme)), SRE, demo_password, ip="198.51.100.9")

    assert below_limit.status_code == 200
    assert INVALID_LOGIN in below_limit.content.decode()
    assert colleague.status_code == 302
    assert at_limit.status_code == 429
    assert NETWORK_LOCKED in at_limit.content.decode()
    assert same_network.status_code == 429
    assert NETWORK_LOCKED in same_network.content.decode()
    assert other_network.status_code == 302


def test_a_lockout_on_one_organisation_does_not_lock_the_same_e_mail_on_another(
    acme, globex, acme_client, globex_client, demo_password
):
    with tenant_context(globex):
        User.objects.create_user(CEO, password=demo_password)
    fail(acme_client, CEO, 5)

    on_acme = sign_in(acme_client, CEO, demo_password)
    on_globex = sign_in(globex_client, CEO, demo_password)

    assert on_acme.status_code == 429
    assert on_globex.status_code == 302
    assert attempts("acme") == [(CEO, IP, 5)]
    assert attempts("globex") == []


def test_public_host_sign_in_locks_out(public_client, demo_password):
    statuses = fail(public_client, ADMIN, 5)

    response = sign_in(public_client, ADMIN, demo_password)

    assert statuses == [200, 200, 200, 200, 429]
    assert response.status_code == 429
    assert "tenants/login.html" in [t.name for t in response.templates]
    assert ACCOUNT_LOCKED in response.content.decode()
    assert "_auth_user_id" not in public_client.session
    assert attempts("public") == [(ADMIN, IP, 5)]


def test_admin_sign_in_locks_out(public_client, demo_password):
    statuses = fail(public_client, ADMIN, 5, path="/admin/login/")

    response = sign_in(public_client, ADMIN, demo_password, path="/admin/login/")

    assert statuses == [200, 200, 200, 200, 429]
    assert response.status_code == 429
    assert "admin/login.html" in [t.name for t in response.templates]
    assert ACCOUNT_LOCKED in response.content.decode()
    assert 890 <= retry_after(response) <= 900
    assert "_auth_user_id" not in public_client.session


def basic(email: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()


def test_api_basic_locks_out_with_the_envelope_and_retry_after(acme, demo_password):
    client = APIClient(HTTP_HOST=host_of(acme), REMOTE_ADDR=IP)
    client.credentials(HTTP_AUTHORIZATION=basic(SRE, "not-the-password"))
    failures = [client.post("/api/v1/tokens/", {"name": "x"}, format="json") for _ in range(5)]
    client.credentials(HTTP_AUTHORIZATION=basic(SRE, demo_password))

    locked = client.post("/api/v1/tokens/", {"name": "script"}, format="json")

    assert [r.status_code for r in failures] == [401, 401, 401, 401, 429]
    assert failures[0].json()["code"] == "authentication_failed"
    assert locked.status_code == 429
    assert locked.json() == {"detail": ACCOUNT_LOCKED, "code": "locked_out", "fields": {}}
    assert 890 <= retry_after(locked) <= 900
    assert attempts("acme") == [(SRE, IP, 5)]
    with tenant_context(acme):
        assert ApiToken.objects.filter(user__email=SRE).count() == 0


def test_api_basic_with_a_nul_character_is_401_not_500(acme):
    client = APIClient(HTTP_HOST=host_of(acme), REMOTE_ADDR=IP)
    client.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"a\x00b@acme.example:pw").decode())

    response = client.post("/api/v1/tokens/", {"name": "x"}, format="json")

    assert response.status_code == 401
    assert response.json() == {
        "detail": "The e-mail or password contains a NUL character.",
        "code": "authentication_failed",
        "fields": {},
    }


def test_api_basic_and_sign_in_form_share_the_count(acme, acme_client):
    client = APIClient(HTTP_HOST=host_of(acme), REMOTE_ADDR=IP)
    client.credentials(HTTP_AUTHORIZATION=basic(SRE, "not-the-password"))
    [client.get("/api/v1/tokens/") for _ in range(3)]

    statuses = fail(acme_client, SRE, 2)

    assert statuses == [200, 429]


def test_a_successful_sign_in_resets_the_account_count(acme, acme_client, demo_password):
    fail(acme_client, CEO, 4)

    signed_in = sign_in(acme_client, CEO, demo_password)
    acme_client.post("/logout/")
    again = fail(Client(HTTP_HOST=host_of(acme)), CEO, 4)

    assert signed_in.status_code == 302
    assert again == [200, 200, 200, 200]
    assert attempts("acme") == [(CEO, IP, 4)]


def test_a_successful_sign_in_keeps_the_other_accounts_failures_from_the_network(acme, demo_password):
    fail(Client(HTTP_HOST=host_of(acme)), ANALYST, 3)
    fail(Client(HTTP_HOST=host_of(acme)), CEO, 2)

    assert sign_in(Client(HTTP_HOST=host_of(acme)), CEO, demo_password).status_code == 302
    assert attempts("acme") == [(ANALYST, IP, 3)]


def test_the_lockout_ends_after_the_cool_off(acme, acme_client, demo_password):
    fail(acme_client, CEO, 5)
    with tenant_context(acme):
        AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=1))

    response = sign_in(acme_client, CEO, demo_password)

    assert response.status_code == 302
    assert attempts("acme") == []


def test_retry_after_counts_down_from_the_last_failure(acme, acme_client):
    fail(acme_client, CEO, 5)
    with tenant_context(acme):
        AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=10))

    response = sign_in(acme_client, CEO, "not-the-password")

    assert response.status_code == 429
    assert 290 <= retry_after(response) <= 300
    assert "Try again in 5 minutes, or reset your password." in response.content.decode()


@override_settings(LOGIN_LOCKOUT_PROXY_COUNT=1)
def test_behind_a_proxy_the_address_it_saw_counts_not_what_the_client_claims(acme, acme_client):
    for spoofed in ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"]:
        response = acme_client.post(
            "/login/",
            {"username": CEO, "password": "not-the-password"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"{spoofed}, {IP}",
        )
    connection.set_schema_to_public()

    assert response.status_code == 429
    assert attempts("acme") == [(CEO, IP, 5)]
