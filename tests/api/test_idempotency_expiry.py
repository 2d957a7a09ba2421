"""Idempotency-Keys are remembered for a day, then forgotten (daily task per organisation)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.api.idempotency import KEEP_FOR, idempotency_records_expire
from accounts.models import IdempotencyRecord, User
from config.celery import app
from okrs.models import CheckIn, KeyResult
from tests.api_helpers import session_api, tenant

pytestmark = pytest.mark.django_db

SRE = "sre@acme.example"


def _post(client, key_result_id: int, key: str):
    body = {"key_result": key_result_id, "value": 5, "confidence": 6}
    return client.post("/api/v1/check-ins/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_a_key_older_than_a_day_starts_afresh(acme):
    kr = tenant(acme, lambda: KeyResult.objects.filter(owner__email=SRE, kind="decrease").first())
    client = session_api(acme, SRE)
    key = str(uuid.uuid4())
    first = _post(client, kr.pk, key)
    assert first.status_code == 201
    assert _post(client, kr.pk, key)["Idempotent-Replayed"] == "true"

    tenant(
        acme, lambda: IdempotencyRecord.objects.update(created_at=timezone.now() - KEEP_FOR - timedelta(1))
    )
    again = _post(client, kr.pk, key)

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert again.json()["id"] != first.json()["id"]
    assert tenant(acme, lambda: CheckIn.objects.filter(key_result=kr).count()) >= 2


def test_the_daily_task_forgets_old_keys_only(acme):
    def setup():
        user = User.objects.get(email=SRE)
        now = timezone.now()
        for n, age in enumerate((timedelta(hours=1), KEEP_FOR + timedelta(minutes=1))):
            IdempotencyRecord.objects.create(
                user=user, key=f"k{n}", method="POST", path="/", request_digest="x", status_code=201,
                body={}, created_at=now - age,
            )  # fmt: skip
        return idempotency_records_expire(now=now), list(
            IdempotencyRecord.objects.values_list("key", flat=True)
        )

    deleted, left = tenant(acme, setup)

    assert deleted == 1
    assert left == ["k0"]
    assert (
        app.conf.beat_schedule["clear-expired-idempotency-keys"]["task"]
        == "tenants.tasks.dispatch_clear_expired_idempotency_keys"
    )
