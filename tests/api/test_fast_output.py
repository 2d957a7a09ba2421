"""The API's fast output path (accounts/api/fast_output.py) renders exactly what DRF's own
field-by-field path renders, for every objective, key result and check-in of the demo data,
in two time zones."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from rest_framework import serializers

from accounts.api.fast_output import FastOutputMixin
from accounts.models import User
from okrs.api.selectors import check_in_rows, objectives_for_api
from okrs.api.serializers import CheckInSerializer, KeyResultSerializer, ObjectiveWithKeyResultsSerializer
from okrs.models import KeyResult, Objective


def _drf(serializer, instance):
    """DRF's own representation: Serializer.to_representation, with nested fast serializers
    also rendered the DRF way (the mixin is bypassed at every level)."""
    result = serializers.Serializer.to_representation(serializer, instance)
    for field in serializer._readable_fields:
        value = result.get(field.field_name)
        if isinstance(field, FastOutputMixin) and value is not None:
            result[field.field_name] = _drf(field, field.get_attribute(instance))
        elif isinstance(field, serializers.ListSerializer) and isinstance(field.child, FastOutputMixin):
            rows = field.get_attribute(instance)
            result[field.field_name] = [_drf(field.child, row) for row in rows.all()]
    return result


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_the_fast_path_renders_exactly_what_drf_renders(acme, zone):
    with tenant_context(acme), timezone.override(zone):
        admin = User.objects.filter(role=User.Role.ORG_ADMIN).order_by("id").first()
        # A company objective has no team (the nested team is then null).
        Objective.objects.filter(pk=Objective.objects.order_by("id").first().pk).update(team=None)
        # A key result never checked in has no current value or confidence.
        KeyResult.objects.filter(pk=KeyResult.objects.order_by("id").first().pk).update(
            current=None, confidence=None, last_check_in_at=None
        )
        objectives = list(objectives_for_api(admin, with_key_results=True).order_by("id"))
        key_results = list(KeyResult.objects.select_related("owner", "objective").order_by("id"))
        check_ins = list(check_in_rows().order_by("id"))
        cases = [
            (ObjectiveWithKeyResultsSerializer(), objectives),
            (KeyResultSerializer(), key_results),
            (CheckInSerializer(), check_ins),
        ]
        compared = 0
        for serializer, rows in cases:
            for row in rows:
                assert serializer.to_representation(row) == _drf(serializer, row), row
                compared += 1
    # The data covers the interesting cases: objectives with and without a team, key results
    # never checked in (null current/confidence) and ones that were.
    assert len(objectives) >= 5
    assert len(key_results) >= 10
    assert len(check_ins) >= 10
    assert any(o.team_id is None for o in objectives)
    assert any(o.team_id for o in objectives)
    assert any(kr.current is None for kr in key_results)
    assert any(kr.current is not None for kr in key_results)
    assert compared == len(objectives) + len(key_results) + len(check_ins)


def test_the_time_zone_of_the_request_is_used(acme):
    with tenant_context(acme):
        check_in = check_in_rows().order_by("id").first()
        with timezone.override("UTC"):
            utc = CheckInSerializer().to_representation(check_in)["created_at"]
        with timezone.override("Asia/Shanghai"):
            shanghai = CheckInSerializer().to_representation(check_in)["created_at"]
    assert utc.endswith("Z")
    assert shanghai.endswith("+08:00")
