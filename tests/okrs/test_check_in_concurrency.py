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
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from okrs import scoring
from okrs.models import CheckIn, KeyResult, Objective, OkrSettings
from okrs.selectors import okr_settings
from okrs.selectors.cycles import default_cycle
from okrs.services.check_ins import check_in_record
from okrs.services.objectives import key_result_create, objective_create
from tenants.models import Organization
from tests.workers import committed  # noqa: F401 - the fixture

MARK = "Concurrency test"
HOLD_SECONDS = 0.6


@pytest.fixture
def siblings(committed):  # noqa: F811 - the fixture
    """A throwaway objective of acme's current cycle with two key results, and an org admin.
    Everything made here (rows and their audit history) is removed afterwards, and the
    organisation's roll-up setting put back: later tests see acme as seeded."""
    acme = Organization.objects.get(slug="acme")
    with schema_context(acme.schema_name):
        admin = User.objects.filter(role=User.Role.ORG_ADMIN, is_active=True).order_by("pk").first()
        saved = OkrSettings.objects.filter(pk=1).first()  # None: the defaults, never saved
        objective = objective_create(
            actor=admin, owner=admin, cycle=default_cycle(timezone.localdate()), title=MARK,
            state=Objective.State.ACTIVE,
        )  # fmt: skip
        pair = [
            key_result_create(
                actor=admin,
                objective=objective,
                title=f"{MARK} {n}",
                kind=KeyResult.Kind.INCREASE,
                start=0,
                target=100,
                owner=admin,
            )
            for n in (1, 2)
        ]
    yield acme, admin, objective, pair
    with schema_context(acme.schema_name):
        if saved is None:
            OkrSettings.objects.filter(pk=1).delete()
        else:
            saved.save()
        kr_ids = [kr.pk for kr in pair]
        check_in_ids = list(CheckIn.objects.filter(key_result_id__in=kr_ids).values_list("pk", flat=True))
        Objective.objects.filter(pk=objective.pk).delete()  # its KRs and their check-ins with it
        CheckIn.history.filter(id__in=check_in_ids).delete()
        KeyResult.history.filter(id__in=kr_ids).delete()
        Objective.history.filter(id=objective.pk).delete()
    connection.set_schema_to_public()


@pytest.mark.parametrize("rollup", [False, True], ids=["objective locked with the KR", "chain query"])
def test_sibling_check_ins_wait_for_each_other_and_lose_no_roll_up(siblings, rollup):
    acme, admin, objective, (first_kr, second_kr) = siblings
    with schema_context(acme.schema_name):
        settings = okr_settings()
        settings.rollup_aligned_children = rollup
        settings.save()
    first_done, waited, errors = threading.Event(), [], []

    def first():
        try:
            with schema_context(acme.schema_name), transaction.atomic():
                check_in_record(
                    key_result=first_kr,
                    actor=admin,
                    value=90,
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
                    value=80,
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
        assert progress[second_kr.pk] == pytest.approx(0.8)
        if not rollup:
            assert objective.progress == pytest.approx(scoring.weighted_progress((p, w) for _, p, w in rows))
        else:  # the chain is the objective alone (it is aligned to nothing): the same roll-up
            assert objective.progress == pytest.approx(scoring.weighted_progress((p, w) for _, p, w in rows))
