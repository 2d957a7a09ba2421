"""Health snapshots: figures computed in the organisation's schema, stored in public as
aggregates only; the command, the hourly dispatcher and the demo trend."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import CharField, JSONField, TextField
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Team, User
from config.celery import app as celery_app
from okrs.models import CheckIn, Cycle, Escalation, KeyResult, Objective
from reviews.models import Review, ReviewCycle
from tenants import tasks
from tenants.demo import HEALTH_TREND_WEEKS, seed_health_trend
from tenants.health import health_snapshot_take, health_snapshots_prune, health_snapshots_refresh
from tenants.models import HealthSnapshot, Organization

pytestmark = pytest.mark.django_db

COUNTED = (Objective.State.ACTIVE, Objective.State.CLOSED)
STATUSES = ("not_started", "on_track", "at_risk", "off_track", "done")
FIGURES = (
    "cycle_kind", "cycle_start", "cycle_end", "days_to_cycle_end", "people_active", "objectives_in_cycle",
    "key_results_in_cycle", "kr_not_started", "kr_on_track", "kr_at_risk", "kr_off_track", "kr_done",
    "checkin_discipline", "escalations_open_level1", "escalations_open_level2", "escalations_open_level3",
    "reviews_overdue", "last_cycle_average_score", "last_activity_at", "upcoming_dates",
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
        until = today + timedelta(days=120)
        upcoming = {
            (c.end_date.isoformat(), "cycle_end", "cycle_kind", c.kind)
            for c in cycles
            if c.state in (Cycle.State.DRAFT, Cycle.State.ACTIVE) and today <= c.end_date <= until
        }
        for review_cycle in ReviewCycle.objects.all():
            if review_cycle.state == ReviewCycle.State.CLOSED or not today <= review_cycle.due_on <= until:
                continue
            if review_cycle.kind == ReviewCycle.Kind.CALIBRATION:
                upcoming.add((review_cycle.due_on.isoformat(), "calibration", None, None))
            else:
                upcoming.add(
                    (review_cycle.due_on.isoformat(), "review_due", "review_kind", review_cycle.kind)
                )
        return {
            "cycle_kind": cycle.kind,
            "cycle_start": cycle.start_date,
            "cycle_end": cycle.end_date,
            "days_to_cycle_end": (cycle.end_date - today).days,
            "people_active": len([u for u in User.objects.all() if u.is_active and u.role != "consultant"]),
            "objectives_in_cycle": len(objectives),
            "key_results_in_cycle": len(krs),
            **{f"kr_{s}": len([kr for kr in krs if kr.status == s]) for s in STATUSES},
            "checkin_discipline": len(on_time) / len(active_krs) if active_krs else None,
            **{f"escalations_open_level{n}": len([e for e in unresolved if e.level == n]) for n in (1, 2, 3)},
            "reviews_overdue": len(overdue),
            "last_cycle_average_score": sum(scores) / len(scores) if scores else None,
            "last_activity_at": max(check_ins) if check_ins else None,
            "upcoming_dates": [
                {"date": day, "kind": kind, **({key: value} if key else {})}
                for day, kind, key, value in sorted(upcoming, key=lambda e: (e[0], e[1], e[3] or ""))
            ],
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
    # Into the schema, 8 reads, back to public, the insert.
    with django_assert_num_queries(11):
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
    with django_assert_num_queries(11):
        snapshot = health_snapshot_take(acme, now=now)
    assert snapshot.escalations_open_level3 >= 10


def test_a_closed_cycle_adds_one_query(acme, django_assert_num_queries):
    with tenant_context(acme):
        Cycle.objects.create(
            name="Past", start_date="2020-01-01", end_date="2020-03-31", state=Cycle.State.CLOSED
        )
    with django_assert_num_queries(12):
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


UPCOMING_KEYS = {"date", "kind", "cycle_kind", "review_kind"}
UPCOMING_KINDS = {"cycle_end", "review_due", "calibration"}


def _json_strings(value, path: str = ""):
    """Every (path, string) in a JSON value, keys included."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.key", key
            yield from _json_strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _json_strings(item, f"{path}[{i}]")
    else:
        assert value is None or isinstance(value, int | float | bool), (path, value)


def _assert_upcoming_dates_are_dates_and_kinds(entries: list) -> None:
    assert isinstance(entries, list)
    for entry in entries:
        assert set(entry) <= UPCOMING_KEYS, entry
        date.fromisoformat(entry["date"])  # a date, nothing else
        assert entry["kind"] in UPCOMING_KINDS
        assert entry.get("cycle_kind", "quarter") in Cycle.Kind.values
        assert entry.get("review_kind", "end_of_cycle") in set(ReviewCycle.Kind.values) - {"calibration"}


def test_stored_rows_hold_aggregates_only(acme, globex):
    call_command("refresh_health", verbosity=0)
    text_columns = [
        f.attname
        for f in HealthSnapshot._meta.concrete_fields
        if isinstance(f, CharField | TextField | JSONField)
    ]
    assert text_columns == ["cycle_kind", "upcoming_dates"]  # a new text column must be checked here first
    rows = list(HealthSnapshot.objects.filter(organization__in=[acme, globex]).values())
    assert len(rows) >= 2 * (HEALTH_TREND_WEEKS + 1)
    secrets = _tenant_strings(acme) | _tenant_strings(globex)
    assert len(secrets) > 50
    upcoming_seen = 0
    for row in rows:
        _assert_upcoming_dates_are_dates_and_kinds(row["upcoming_dates"])
        upcoming_seen += len(row["upcoming_dates"])
        for column, value in row.items():
            strings = (
                list(_json_strings(value, column)) if isinstance(value, list | dict) else [(column, value)]
            )
            for path, text in strings:
                if not isinstance(text, str):
                    continue
                assert not [s for s in secrets if s in text], (path, text)
                if column == "cycle_kind":
                    assert text in {"", *Cycle.Kind.values}
    assert upcoming_seen > 0  # the scan saw real entries
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

    call_command("seed_demo", "--no-portfolio", verbosity=0)
    assert seed_health_trend(acme) == 0

    assert HealthSnapshot.objects.filter(organization=acme).count() == HEALTH_TREND_WEEKS
    assert HealthSnapshot.objects.filter(organization=globex).count() == HEALTH_TREND_WEEKS


# --- Upcoming dates, consultants, pruning -------------------------------------------------


def test_upcoming_dates_are_cycle_ends_review_due_dates_and_calibrations_of_the_next_120_days(globex):
    # 20:00 UTC is already tomorrow in Shanghai: dates count from the organisation's day.
    now = datetime.combine(timezone.now().date(), clock_time(20), tzinfo=UTC)
    today = now.date() + timedelta(days=1)
    before = health_snapshot_take(globex, now=now).upcoming_dates
    with tenant_context(globex):

        def cycle(days: int, state: str, kind: str = Cycle.Kind.CUSTOM) -> Cycle:
            return Cycle.objects.create(
                name=f"Secret cycle {days} {state}", kind=kind, state=state,
                start_date=today - timedelta(days=300), end_date=today + timedelta(days=days),
            )  # fmt: skip

        host = cycle(111, Cycle.State.DRAFT)  # draft: its end counts
        cycle(112, Cycle.State.CLOSED)  # closed: no
        cycle(121, Cycle.State.ACTIVE)  # beyond 120 days: no
        cycle(120, Cycle.State.ACTIVE, Cycle.Kind.ANNUAL)  # the last day in: yes
        cycle(-1, Cycle.State.ACTIVE)  # yesterday in Shanghai (today in UTC): no

        def review_cycle(days: int, kind: str, state: str = ReviewCycle.State.SCHEDULED) -> None:
            due = today + timedelta(days=days)
            ReviewCycle.objects.create(
                cycle=host, kind=kind, state=state, name=f"Secret review {days}",
                opens_on=due - timedelta(days=3), due_on=due,
            )  # fmt: skip

        review_cycle(101, ReviewCycle.Kind.CHECKIN_REVIEW)
        review_cycle(101, ReviewCycle.Kind.CHECKIN_REVIEW, ReviewCycle.State.OPEN)  # the same entry: once
        review_cycle(102, ReviewCycle.Kind.END_OF_CYCLE, ReviewCycle.State.OPEN)
        review_cycle(103, ReviewCycle.Kind.CALIBRATION)
        review_cycle(104, ReviewCycle.Kind.END_OF_CYCLE, ReviewCycle.State.CLOSED)  # closed: no
        review_cycle(125, ReviewCycle.Kind.CALIBRATION)  # too far: no

    after = health_snapshot_take(globex, now=now).upcoming_dates

    def day(days: int) -> str:
        return (today + timedelta(days=days)).isoformat()

    assert [entry for entry in after if entry not in before] == [
        {"date": day(101), "kind": "review_due", "review_kind": "checkin_review"},
        {"date": day(102), "kind": "review_due", "review_kind": "end_of_cycle"},
        {"date": day(103), "kind": "calibration"},
        {"date": day(111), "kind": "cycle_end", "cycle_kind": "custom"},
        {"date": day(120), "kind": "cycle_end", "cycle_kind": "annual"},
    ]
    assert all(entry in after for entry in before)
    assert after == sorted(after, key=lambda e: (e["date"], e["kind"]))
    assert all(today.isoformat() <= e["date"] <= day(120) for e in after)
    _assert_upcoming_dates_are_dates_and_kinds(after)


def test_consultant_accounts_are_not_active_people(acme):
    before = health_snapshot_take(acme).people_active
    with tenant_context(acme):
        User.objects.create_user("coach@platform.example", "x-Long-passphrase-1", role=User.Role.CONSULTANT)
        User.objects.create_user("new.person@acme.example", "x-Long-passphrase-1", role=User.Role.MEMBER)

    assert health_snapshot_take(acme).people_active == before + 1


def _org(slug: str) -> Organization:
    return Organization.objects.create(schema_name=slug.replace("-", "_"), slug=slug, name=slug.title())


def test_pruning_keeps_the_last_48_hours_then_the_last_of_each_utc_day_for_400_days(
    acme, django_assert_num_queries
):
    now = datetime(2026, 5, 20, 12, 30, tzinfo=UTC)
    first, second = _org("prune-one"), _org("prune-two")

    def at(organization: Organization, when: datetime) -> HealthSnapshot:
        return HealthSnapshot.objects.create(organization=organization, taken_at=when)

    kept = [
        at(first, now - timedelta(minutes=5)),
        at(first, now - timedelta(hours=47, minutes=59)),  # still within 48 hours
        at(first, now - timedelta(hours=30)),
        at(first, datetime(2026, 5, 18, 12, 29, tzinfo=UTC)),  # older: the last of 18 May
        at(first, datetime(2026, 5, 10, 23, 59, tzinfo=UTC)),  # the last of 10 May (UTC)
        at(second, datetime(2026, 5, 10, 8, 0, tzinfo=UTC)),  # per organisation
        at(first, now - timedelta(days=399)),
    ]
    gone = [
        at(first, datetime(2026, 5, 18, 0, 0, tzinfo=UTC)),
        at(first, datetime(2026, 5, 10, 0, 0, tzinfo=UTC)),
        at(first, datetime(2026, 5, 10, 23, 58, tzinfo=UTC)),
        at(second, datetime(2026, 5, 10, 7, 59, tzinfo=UTC)),
        at(first, now - timedelta(days=401)),  # the only one of its day, but too old
    ]
    others = HealthSnapshot.objects.exclude(organization__in=[first, second]).count()

    with django_assert_num_queries(1):
        deleted = health_snapshots_prune(now=now)

    remaining = set(
        HealthSnapshot.objects.filter(organization__in=[first, second]).values_list("pk", flat=True)
    )
    assert remaining == {s.pk for s in kept}
    assert deleted >= len(gone)
    # The demo's weekly trend (one a week, all recent) is untouched.
    assert HealthSnapshot.objects.exclude(organization__in=[first, second]).count() == others


def test_refresh_and_the_hourly_dispatcher_prune(acme, monkeypatch):
    now = timezone.now()
    spare = _org("prune-three")
    old = now - timedelta(days=5)
    for minutes in (0, 10, 20):
        HealthSnapshot.objects.create(organization=spare, taken_at=old.replace(hour=1, minute=minutes))

    health_snapshots_refresh(schema="acme", now=now)

    assert HealthSnapshot.objects.filter(organization=spare).count() == 1
    for minutes in (30, 40):
        HealthSnapshot.objects.create(organization=spare, taken_at=old.replace(hour=2, minute=minutes))
    monkeypatch.setattr(tasks.refresh_health_snapshot, "apply_async", lambda **options: None)

    tasks.dispatch_refresh_health(jitter_seconds=0)

    assert list(HealthSnapshot.objects.filter(organization=spare).values_list("taken_at", flat=True)) == [
        old.replace(hour=2, minute=40)
    ]
