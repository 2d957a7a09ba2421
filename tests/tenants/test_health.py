"""Health snapshots: figures computed in the organisation's schema, stored in public as
aggregates only; the command, the hourly dispatcher and the demo trend."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import CharField, TextField
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Team, User
from config.celery import app as celery_app
from okrs.models import CheckIn, Cycle, Escalation, KeyResult, Objective
from reviews.models import Review, ReviewCycle
from tenants import tasks
from tenants.demo import HEALTH_TREND_WEEKS, seed_health_trend
from tenants.health import health_snapshot_take, health_snapshots_refresh
from tenants.models import HealthSnapshot, Organization

pytestmark = pytest.mark.django_db

COUNTED = (Objective.State.ACTIVE, Objective.State.CLOSED)
STATUSES = ("not_started", "on_track", "at_risk", "off_track", "done")
FIGURES = (
    "cycle_kind", "cycle_start", "cycle_end", "days_to_cycle_end", "people_active", "objectives_in_cycle",
    "key_results_in_cycle", "kr_not_started", "kr_on_track", "kr_at_risk", "kr_off_track", "kr_done",
    "checkin_discipline", "escalations_open_level1", "escalations_open_level2", "escalations_open_level3",
    "reviews_overdue", "last_cycle_average_score", "last_activity_at",
)  # fmt: skip


SHARES = ("checkin_discipline", "last_cycle_average_score")


def figures_of(snapshot: HealthSnapshot) -> dict:
    return {name: getattr(snapshot, name) for name in FIGURES}


def assert_figures(snapshot: HealthSnapshot, expected: dict) -> None:
    """Exact, except the shares (floats computed by PostgreSQL vs Python)."""
    actual = figures_of(snapshot)
    for name in SHARES:
        value = actual.pop(name)
        if expected[name] is None:
            assert value is None, name
        else:
            assert value == pytest.approx(expected[name], rel=1e-12), name
    assert actual == {k: v for k, v in expected.items() if k not in SHARES}


def expected_figures(organization: Organization, now: datetime) -> dict:
    """The figures worked out independently, row by row, with plain ORM reads."""
    today = now.astimezone(ZoneInfo(organization.timezone)).date()
    with tenant_context(organization):
        cycles = list(Cycle.objects.all())
        running = [c for c in cycles if c.state == Cycle.State.ACTIVE and c.start_date <= today <= c.end_date]
        assert running, "the demo data has a running cycle"
        cycle = sorted(running, key=lambda c: (c.end_date - c.start_date, c.pk))[0]
        objectives = [o for o in Objective.objects.filter(cycle=cycle) if o.state in COUNTED]
        krs = list(KeyResult.objects.filter(objective__in=objectives).select_related("objective"))
        active_krs = [kr for kr in krs if kr.objective.state == Objective.State.ACTIVE]
        since = now - timedelta(days=Cycle.CADENCE_DAYS[cycle.cadence])
        on_time = [kr for kr in active_krs if kr.last_check_in_at and kr.last_check_in_at > since]
        unresolved = [e for e in Escalation.objects.all() if e.state != Escalation.State.RESOLVED]
        overdue = [
            r
            for r in Review.objects.select_related("review_cycle")
            if r.state != Review.State.CLOSED
            and r.review_cycle.state != ReviewCycle.State.CLOSED
            and r.review_cycle.due_on < today
        ]
        closed = sorted(
            (c for c in cycles if c.state == Cycle.State.CLOSED), key=lambda c: (c.end_date, c.pk)
        )
        scores = (
            [o.score for o in closed[-1].objectives.all() if o.state == "closed" and o.score is not None]
            if closed
            else []
        )
        check_ins = [c.created_at for c in CheckIn.objects.all()]
        return {
            "cycle_kind": cycle.kind,
            "cycle_start": cycle.start_date,
            "cycle_end": cycle.end_date,
            "days_to_cycle_end": (cycle.end_date - today).days,
            "people_active": len([u for u in User.objects.all() if u.is_active]),
            "objectives_in_cycle": len(objectives),
            "key_results_in_cycle": len(krs),
            **{f"kr_{s}": len([kr for kr in krs if kr.status == s]) for s in STATUSES},
            "checkin_discipline": len(on_time) / len(active_krs) if active_krs else None,
            **{f"escalations_open_level{n}": len([e for e in unresolved if e.level == n]) for n in (1, 2, 3)},
            "reviews_overdue": len(overdue),
            "last_cycle_average_score": sum(scores) / len(scores) if scores else None,
            "last_activity_at": max(check_ins) if check_ins else None,
        }  # fmt: skip


def make_the_figures_interesting(organization: Organization, now: datetime) -> None:
    """Escalations at every level (one acknowledged, one resolved), an overdue review
    closed and a stale KR."""
    with tenant_context(organization):
        krs = list(
            KeyResult.objects.filter(
                objective__state=Objective.State.ACTIVE,
                objective__cycle__kind=Cycle.Kind.QUARTER,  # the current cycle's
                objective__cycle__start_date__lte=now.date(),
                objective__cycle__end_date__gte=now.date(),
                escalations__isnull=True,
            ).order_by("id")[:5]
        )
        Escalation.objects.create(key_result=krs[0], level=1)
        Escalation.objects.create(key_result=krs[1], level=1, state=Escalation.State.ACKNOWLEDGED)
        Escalation.objects.create(key_result=krs[2], level=2)
        Escalation.objects.create(key_result=krs[3], level=3)
        Escalation.objects.create(key_result=krs[4], level=3, state=Escalation.State.RESOLVED)
        KeyResult.objects.filter(pk=krs[0].pk).update(last_check_in_at=now - timedelta(days=40))
        # The demo's open review cycle is past due: one of its reviews gets closed.
        overdue = Review.objects.exclude(state=Review.State.CLOSED).filter(
            review_cycle__state=ReviewCycle.State.OPEN,
            review_cycle__due_on__lt=now.date() - timedelta(days=1),
        )
        Review.objects.filter(pk=overdue.values("pk")[:1]).update(state=Review.State.CLOSED)


def test_the_snapshot_holds_the_organisations_figures(acme):
    now = timezone.now()
    before = expected_figures(acme, now)
    make_the_figures_interesting(acme, now)
    expected = expected_figures(acme, now)

    snapshot = health_snapshot_take(acme, now=now)

    stored = HealthSnapshot.objects.get(pk=snapshot.pk)
    assert stored.organization == acme
    assert stored.taken_at == now
    assert_figures(stored, expected)
    # The constructed rows moved the figures as they should (the acknowledged escalation
    # is still open, the resolved one is not).
    opened = {
        n: expected[f"escalations_open_level{n}"] - before[f"escalations_open_level{n}"] for n in (1, 2, 3)
    }
    assert opened == {1: 2, 2: 1, 3: 1}
    assert before["reviews_overdue"] > 0
    assert expected["reviews_overdue"] == before["reviews_overdue"] - 1
    assert expected["checkin_discipline"] < before["checkin_discipline"]
    assert expected["key_results_in_cycle"] > 0
    assert stored.kr_share("on_track") == stored.kr_on_track / stored.key_results_in_cycle
    assert stored.escalations_open == sum(expected[f"escalations_open_level{n}"] for n in (1, 2, 3))


def test_the_last_closed_cycles_average_score(acme):
    now = timezone.now()
    with tenant_context(acme):
        cycle = Cycle.objects.create(
            name="Past", kind=Cycle.Kind.QUARTER, start_date=now.date() - timedelta(days=200),
            end_date=now.date() - timedelta(days=110), state=Cycle.State.CLOSED,
        )  # fmt: skip
        owner = User.objects.get(email="ceo@acme.example")
        for score, state in ((0.6, "closed"), (0.9, "closed"), (None, "closed"), (0.1, "archived")):
            Objective.objects.create(title="Old", cycle=cycle, owner=owner, state=state, score=score)

    snapshot = health_snapshot_take(acme, now=now)

    assert snapshot.last_cycle_average_score == pytest.approx(0.75)
    assert snapshot.last_cycle_average_score == expected_figures(acme, now)["last_cycle_average_score"]


def test_days_to_cycle_end_count_in_the_organisations_time_zone(globex):
    # 20:00 UTC is already tomorrow in Shanghai.
    now = datetime.combine(timezone.now().date(), clock_time(20), tzinfo=UTC)
    shanghai_today = now.date() + timedelta(days=1)

    snapshot = health_snapshot_take(globex, now=now)

    assert snapshot.days_to_cycle_end == (snapshot.cycle_end - shanghai_today).days
    assert_figures(snapshot, expected_figures(globex, now))


def test_nothing_to_share_gives_null_shares(acme):
    with tenant_context(acme):
        Objective.objects.update(state=Objective.State.DRAFT)

    snapshot = health_snapshot_take(acme)

    assert (snapshot.objectives_in_cycle, snapshot.key_results_in_cycle) == (0, 0)
    assert snapshot.checkin_discipline is None
    assert snapshot.kr_share("on_track") is None
    assert snapshot.cycle_kind in Cycle.Kind.values


def test_the_snapshot_takes_a_constant_number_of_queries(acme, django_assert_num_queries):
    now = timezone.now()
    # Into the schema, 7 reads, back to public, the insert.
    with django_assert_num_queries(10):
        health_snapshot_take(acme, now=now)
    with tenant_context(acme):
        owner = User.objects.get(email="ceo@acme.example")
        cycle = Objective.objects.filter(state="active").first().cycle
        for i in range(10):
            objective = Objective.objects.create(title=f"More {i}", cycle=cycle, owner=owner, state="active")
            for j in range(3):
                kr = KeyResult.objects.create(objective=objective, title=f"KR {j}", owner=owner, target=10)
                CheckIn.objects.create(key_result=kr, author=owner, value=1, confidence=5, effective_at=now)
                Escalation.objects.create(key_result=kr, level=1 + j)
    with django_assert_num_queries(10):
        snapshot = health_snapshot_take(acme, now=now)
    assert snapshot.escalations_open_level3 >= 10


def test_a_closed_cycle_adds_one_query(acme, django_assert_num_queries):
    with tenant_context(acme):
        Cycle.objects.create(
            name="Past", start_date="2020-01-01", end_date="2020-03-31", state=Cycle.State.CLOSED
        )
    with django_assert_num_queries(11):
        health_snapshot_take(acme)


def _tenant_strings(organization: Organization) -> set[str]:
    with tenant_context(organization):
        strings = {
            *Objective.objects.values_list("title", flat=True),
            *KeyResult.objects.values_list("title", flat=True),
            *Cycle.objects.values_list("name", flat=True),
            *Team.objects.values_list("name", flat=True),
            *ReviewCycle.objects.values_list("name", flat=True),
        }
        for email, full_name in User.objects.values_list("email", "full_name"):
            strings |= {email, email.split("@")[0], full_name}
    return {s for s in strings if s}


def test_stored_rows_hold_aggregates_only(acme, globex):
    call_command("refresh_health", verbosity=0)
    text_columns = [
        f.attname for f in HealthSnapshot._meta.concrete_fields if isinstance(f, CharField | TextField)
    ]
    assert text_columns == ["cycle_kind"]  # a new text column must be checked here first
    rows = list(HealthSnapshot.objects.filter(organization__in=[acme, globex]).values())
    assert len(rows) >= 2 * (HEALTH_TREND_WEEKS + 1)
    secrets = _tenant_strings(acme) | _tenant_strings(globex)
    assert len(secrets) > 50
    for row in rows:
        for column, value in row.items():
            if isinstance(value, str):
                assert value in {"", *Cycle.Kind.values}
                assert not [s for s in secrets if s in value], (column, value)
    # No id of a tenant row: the only key is the organisation's (public) row.
    foreign_keys = [f.name for f in HealthSnapshot._meta.concrete_fields if f.is_relation]
    assert foreign_keys == ["organization"]


def test_the_model_lives_in_public_only(acme):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = %s ORDER BY 1",
            [HealthSnapshot._meta.db_table],
        )
        assert [schema for (schema,) in cursor.fetchall()] == ["public"]


def _counts() -> dict[str, int]:
    return {
        o.slug: HealthSnapshot.objects.filter(organization=o).count() for o in Organization.objects.clients()
    }


def test_command_for_one_schema(acme, capsys):
    before = _counts()

    call_command("refresh_health", schema="acme")

    assert _counts() == {**before, "acme": before["acme"] + 1}
    assert "Took 1 health snapshot (" in capsys.readouterr().out


def test_command_for_every_serving_organisation_skips_suspended_ones(acme, globex, capsys):
    Organization.objects.filter(pk=globex.pk).update(status=Organization.Status.SUSPENDED)
    before = _counts()
    serving = list(Organization.objects.serving().values_list("slug", flat=True))

    call_command("refresh_health")

    assert "globex" not in serving
    assert "acme" in serving
    assert _counts() == {slug: n + (slug in serving) for slug, n in before.items()}
    assert f"Took {len(serving)} health snapshot" in capsys.readouterr().out
    # On demand, a suspended organisation can still be refreshed by its schema.
    call_command("refresh_health", schema="globex", verbosity=0)
    assert _counts()["globex"] == before["globex"] + 1


def test_command_rejects_an_unknown_schema_and_writes_nothing():
    before = HealthSnapshot.objects.count()

    with pytest.raises(CommandError, match="No organisation with schema “nope”"):
        call_command("refresh_health", schema="nope")
    with pytest.raises(CommandError, match="No organisation with schema “public”"):
        call_command("refresh_health", schema="public")
    with pytest.raises(CommandError, match="No organisation with schema “tenant_template”"):
        call_command("refresh_health", schema="tenant_template")

    assert HealthSnapshot.objects.count() == before


def test_refresh_service_takes_all_at_one_instant(acme):
    now = timezone.now()
    seen = []

    snapshots = health_snapshots_refresh(now=now, progress=lambda orgs: seen.extend(orgs) or seen)

    assert {s.taken_at for s in snapshots} == {now}
    assert [s.organization.slug for s in snapshots] == [o.slug for o in seen]
    assert sorted(o.slug for o in seen) == sorted(
        Organization.objects.serving().values_list("slug", flat=True)
    )


def test_dispatcher_enqueues_one_task_per_serving_organisation(globex, monkeypatch):
    Organization.objects.filter(pk=globex.pk).update(status=Organization.Status.OFFBOARDED)
    queued = []
    monkeypatch.setattr(
        tasks.refresh_health_snapshot, "apply_async", lambda **options: queued.append(options)
    )

    count = tasks.dispatch_refresh_health(jitter_seconds=0)

    serving = sorted(Organization.objects.serving().values_list("schema_name", flat=True))
    assert count == len(serving) == len(queued)
    assert sorted(q["headers"]["_schema_name"] for q in queued) == serving
    assert "globex" not in serving
    assert celery_app.conf.beat_schedule["refresh-health"]["task"] == "tenants.tasks.dispatch_refresh_health"


def test_the_task_snapshots_the_schema_it_runs_in(acme):
    before = _counts()

    with tenant_context(acme):
        pk = tasks.refresh_health_snapshot()

    assert _counts() == {**before, "acme": before["acme"] + 1}
    assert HealthSnapshot.objects.get(pk=pk).organization == acme


def test_the_task_logs_and_returns_without_an_organisation():
    before = HealthSnapshot.objects.count()

    assert tasks.refresh_health_snapshot() is None  # run in public: no organisation

    assert HealthSnapshot.objects.count() == before


def test_seed_demo_gives_a_weekly_trend_ending_with_a_real_snapshot_and_is_idempotent(acme, globex):
    for organization in (acme, globex):
        trend = list(HealthSnapshot.objects.filter(organization=organization).order_by("taken_at"))
        assert len(trend) == HEALTH_TREND_WEEKS
        gaps = {b.taken_at - a.taken_at for a, b in itertools.pairwise(trend)}
        assert gaps == {timedelta(weeks=1)}
        real = trend[-1]
        assert_figures(real, expected_figures(organization, real.taken_at))
        for snapshot in trend:
            statuses = sum(getattr(snapshot, f) for f in HealthSnapshot.STATUS_FIELDS)
            assert statuses == snapshot.key_results_in_cycle
            assert snapshot.checkin_discipline is None or 0 <= snapshot.checkin_discipline <= 1
        assert len({(s.kr_not_started, s.checkin_discipline) for s in trend}) > 1  # it moves

    call_command("seed_demo", verbosity=0)
    assert seed_health_trend(acme) == 0

    assert HealthSnapshot.objects.filter(organization=acme).count() == HEALTH_TREND_WEEKS
    assert HealthSnapshot.objects.filter(organization=globex).count() == HEALTH_TREND_WEEKS
