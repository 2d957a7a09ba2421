"""manage.py seed_bench at a small scale: exact counts, valid definitions, a forest of
alignments, deterministic output, a refusal without --force, and cached values that a
fresh recalculate_all() leaves unchanged."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import Team, User
from okrs import scoring
from okrs.models import CheckIn, Cycle, KeyResult, Objective
from okrs.recalculation import recalculate_all
from tenants.management.commands.seed_bench import LOADED_TABLES
from tenants.models import Organization

SIZES = {"users": 30, "objectives": 60, "key_results": 200, "check_ins": 1500}
NOW = datetime(2026, 11, 15, 11, 0, tzinfo=UTC)
ANCHOR = "2026-11-15"

# What makes two builds "the same": every generated column, ids included.
CHECKSUMS = {
    "accounts_team": "id, name, parent_id, created_at",
    "accounts_user": "id, split_part(email, '@', 1), full_name, role, team_id, manager_id, is_active",
    "okrs_cycle": "id, name, kind, start_date, end_date, parent_id, state",
    "okrs_objective": "id, title, cycle_id, owner_id, team_id, level, kind, health_dimension, "
    "parent_objective_id, parent_key_result_id, created_at",
    "okrs_keyresult": "id, objective_id, title, owner_id, kind, start, target, low, high, weight, position",
    "okrs_checkin": "id, key_result_id, author_id, value, confidence, corrects_id, effective_at, created_at",
    "cached": "",  # see checksums()
}

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture(autouse=True)
def _frozen_now(monkeypatch):
    # The recompute inside seed_bench and the one in the test must see the same instant.
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


def seed(schema: str, **options) -> Organization:
    call_command(
        "seed_bench", schema=schema, seed=options.pop("seed", 7), anchor=ANCHOR, verbosity=0,
        **{**SIZES, **options},
    )  # fmt: skip
    connection.set_schema_to_public()
    return Organization.objects.get(slug=schema)


def checksums() -> dict[str, str]:
    sums = {}
    with connection.cursor() as cursor:
        for table, columns in CHECKSUMS.items():
            if table == "cached":
                cursor.execute(
                    "SELECT md5(string_agg(concat_ws(',', id, progress, status, current, forecast), ';' "
                    "ORDER BY id)) FROM okrs_keyresult"
                )
            else:
                cursor.execute(
                    f"SELECT md5(string_agg(concat_ws(',', {columns}), ';' ORDER BY id)) FROM {table}"
                )
            sums[table] = cursor.fetchone()[0]
    return sums


def cached_values():
    key_results = list(
        KeyResult.objects.order_by("id").values_list(
            "id", "current", "confidence", "last_check_in_at", "progress", "status", "forecast"
        )
    )
    objectives = list(
        Objective.objects.order_by("id").values_list("id", "progress", "expected_progress", "status")
    )
    return key_results, objectives


def alignment_parent(objective: Objective, kr_objective: dict[int, int]) -> int | None:
    if objective.parent_objective_id:
        return objective.parent_objective_id
    if objective.parent_key_result_id:
        return kr_objective[objective.parent_key_result_id]
    return None


def assert_sizes_and_people():
    # Exact sizes: the org admin from provisioning plus the requested people.
    assert User.objects.count() == SIZES["users"] + 1
    assert User.objects.filter(email="admin@benchtest.example", role=User.Role.ORG_ADMIN).exists()
    assert Objective.objects.count() == SIZES["objectives"]
    assert KeyResult.objects.count() == SIZES["key_results"]
    assert CheckIn.objects.count() == SIZES["check_ins"]
    assert Cycle.objects.filter(state=Cycle.State.ACTIVE).count() == 2
    assert Team.objects.filter(parent__isnull=True).exists()
    assert not Team.objects.filter(parent__parent__isnull=False).exists()  # two levels at most
    assert User.objects.filter(manager__isnull=True).count() <= 11  # executives and the admin
    assert not User.objects.filter(manager__manager__manager__manager__isnull=False).exists()


def assert_definitions_and_check_ins():
    # Every KR definition is valid; every check-in is one the service would accept.
    for kr in KeyResult.objects.all():
        errors = scoring.key_result_errors(
            kr.kind, start=kr.start, target=kr.target, low=kr.low, high=kr.high
        )
        assert errors == {}, (kr.pk, kr.kind, errors)
        assert kr.weight in {1.0, 2.0}
    owner_of = dict(KeyResult.objects.values_list("id", "owner_id"))
    kind_of = dict(KeyResult.objects.values_list("id", "kind"))
    for check_in in CheckIn.objects.all():
        assert check_in.author_id == owner_of[check_in.key_result_id]
        kind = kind_of[check_in.key_result_id]
        assert scoring.check_in_value_errors(kind, check_in.value, check_in.confidence) == {}
    assert not User.objects.filter(role=User.Role.VIEWER, key_results__isnull=False).exists()

    # Corrections: ~1%, of an earlier check-in of the same KR, taking its effective_at.
    corrections = list(CheckIn.objects.filter(corrects__isnull=False).select_related("corrects"))
    assert 0 < len(corrections) <= 15
    for correction in corrections:
        assert correction.corrects.key_result_id == correction.key_result_id
        assert correction.corrects_id < correction.pk
        assert correction.effective_at == correction.corrects.effective_at
        assert correction.created_at >= correction.corrects.created_at


def assert_alignment_forest():
    # At most one parent, in the same or the annual cycle, and no loops.
    kr_objective = dict(KeyResult.objects.values_list("id", "objective_id"))
    objectives = {o.pk: o for o in Objective.objects.all()}
    cycles = dict(Cycle.objects.values_list("id", "parent_id"))
    aligned = 0
    for objective in objectives.values():
        assert not (objective.parent_objective_id and objective.parent_key_result_id)
        parent = alignment_parent(objective, kr_objective)
        if parent is not None:
            aligned += 1
            assert objectives[parent].cycle_id in {objective.cycle_id, cycles[objective.cycle_id]}
        seen, node = set(), objective.pk
        while node is not None:
            assert node not in seen, f"alignment loop through objective {node}"
            seen.add(node)
            node = alignment_parent(objectives[node], kr_objective)
    assert aligned > 0
    assert Objective.objects.filter(parent_key_result__isnull=False).exists()


def test_seed_bench_builds_a_valid_deterministic_organisation():
    organization = seed("benchtest")
    assert organization.schema_name == "benchtest"
    assert organization.timezone == "Europe/Berlin"

    with tenant_context(organization):
        assert_sizes_and_people()
        assert_definitions_and_check_ins()
        assert_alignment_forest()

        # Identity sequences continue after the copied ids.
        with connection.cursor() as cursor:
            for table in LOADED_TABLES:
                cursor.execute(
                    f"SELECT pg_sequence_last_value(pg_get_serial_sequence(%s, 'id')::regclass), max(id) "
                    f"FROM {table}",
                    [table],
                )
                last_value, max_id = cursor.fetchone()
                assert last_value == max_id, table

        # The cached values are those of a fresh recompute (idempotent), and not trivial.
        before = cached_values()
        recalculate_all()
        assert cached_values() == before
        assert KeyResult.objects.exclude(status=scoring.NOT_STARTED).exists()
        assert Objective.objects.exclude(progress=0).exists()
        first = checksums()

    # A second run without --force refuses.
    with pytest.raises(CommandError, match=r"already exists.*--force"):
        seed("benchtest")
    connection.set_schema_to_public()

    # The same seed in another schema gives the same rows; another seed does not.
    with tenant_context(seed("benchtest2")):
        assert checksums() == first
    with tenant_context(seed("benchtest3", seed=8)):
        other = checksums()
    assert other["okrs_checkin"] != first["okrs_checkin"]
    assert other["okrs_keyresult"] != first["okrs_keyresult"]

    # --force rebuilds the same data set in place (people except the org admin included).
    with tenant_context(seed("benchtest", force=True)):
        assert User.objects.count() == SIZES["users"] + 1
        assert checksums() == first


def test_seed_bench_explains_bad_sizes():
    with pytest.raises(CommandError, match="Check-ins need key results"):
        call_command("seed_bench", schema="benchbad", users=3, objectives=1, key_results=0, check_ins=5)
    assert not Organization.objects.filter(slug="benchbad").exists()
