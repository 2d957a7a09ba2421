"""Two check-ins on sibling key results at the same time, committed for real in two
connections: the second waits for the first's lock on their objective, then rolls up with the
first's committed value, so neither overwrites the other's roll-up. With aligned children not
counted the objective is locked with the key result (one statement); with them counted, by the
chain query. Both ways are held to the same outcome."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context

from accounts.models import User
from okrs import scoring
from okrs.models import CheckIn, KeyResult, Objective, OkrSettings
from okrs.recalculation import recalculate_all
from okrs.services.check_ins import check_in_record
from tenants.models import Organization
from tests.workers import committed  # noqa: F401 - the fixture

MARK = "concurrency test"
HOLD_SECONDS = 0.6


@pytest.fixture
def siblings(committed):  # noqa: F811 - the fixture
    """Two key results of one open objective in acme, and an org admin; the check-ins made
    here are removed and the scores recalculated afterwards."""
    acme = Organization.objects.get(slug="acme")
    with schema_context(acme.schema_name):
        admin = User.objects.filter(role=User.Role.ORG_ADMIN, is_active=True).order_by("pk").first()
        objective = next(
            o
            for o in Objective.objects.filter(state=Objective.State.ACTIVE).order_by("pk")
            if o.key_results.filter(kind=KeyResult.Kind.INCREASE).count() >= 2
        )
        pair = list(objective.key_results.filter(kind=KeyResult.Kind.INCREASE).order_by("pk")[:2])
        rollup = OkrSettings.objects.get().rollup_aligned_children
    yield acme, admin, objective, pair
    with schema_context(acme.schema_name):
        OkrSettings.objects.update(rollup_aligned_children=rollup)
        CheckIn.objects.filter(what_moved=MARK).delete()
        recalculate_all()
    connection.set_schema_to_public()


def _value(key_result: KeyResult, share: float) -> float:
    return key_result.start + (key_result.target - key_result.start) * share


@pytest.mark.parametrize("rollup", [False, True], ids=["objective locked with the KR", "chain query"])
def test_sibling_check_ins_wait_for_each_other_and_lose_no_roll_up(siblings, rollup):
    acme, admin, objective, (first_kr, second_kr) = siblings
    with schema_context(acme.schema_name):
        OkrSettings.objects.update(rollup_aligned_children=rollup)
    first_done, waited, errors = threading.Event(), [], []

    def first():
        try:
            with schema_context(acme.schema_name), transaction.atomic():
                check_in_record(
                    key_result=first_kr,
                    actor=admin,
                    value=_value(first_kr, 0.9),
                    confidence=8,
                    what_moved=MARK,
                )
                first_done.set()
                time.sleep(HOLD_SECONDS)  # still holding its locks
        except Exception as error:  # reported by the main thread
            errors.append(error)
            first_done.set()
        finally:
            connection.close()

    def second():
        try:
            first_done.wait(10)
            started = time.monotonic()
            with schema_context(acme.schema_name):
                check_in_record(
                    key_result=second_kr,
                    actor=admin,
                    value=_value(second_kr, 0.3),
                    confidence=6,
                    what_moved=MARK,
                )
            waited.append(time.monotonic() - started)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len(waited) == 1
    assert waited[0] >= HOLD_SECONDS * 0.8  # it waited for the first's objective lock

    with schema_context(acme.schema_name):
        objective.refresh_from_db()
        rows = list(objective.key_results.order_by("position", "pk").values_list("pk", "progress", "weight"))
        progress = {pk: p for pk, p, _ in rows}
        assert progress[first_kr.pk] == pytest.approx(0.9)
        assert progress[second_kr.pk] == pytest.approx(0.3)
        if not rollup:
            expected = scoring.weighted_progress((p, w) for _, p, w in rows)
            assert objective.progress == pytest.approx(expected)
        else:  # aligned children count too: what the bulk recalculation computes from scratch
            rolled_up = objective.progress
            recalculate_all()
            objective.refresh_from_db()
            assert rolled_up == pytest.approx(objective.progress)
