"""seed_many: many realistic organisations for the reminders benchmark (small scale here)."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import Team, User
from bench.reminders import check_in_instant, upcoming_monday
from okrs import scoring
from okrs.models import AlignmentProposal, CheckIn, Cycle, KeyResult, Objective
from reviews.models import Review, ReviewCycle, ReviewKeyResultScore
from reviews.reminders import run_reminders
from tenants.models import Organization

pytestmark = pytest.mark.django_db

PREFIX = "tmany"
PEOPLE = 8
# The anchor the benchmark uses for new data: the coming Monday (the quarter contains it).
ANCHOR = upcoming_monday(datetime.now(UTC).date())


def seed_many(*, organizations=3, prefix=PREFIX, seed=7) -> str:
    out = StringIO()
    call_command(
        "seed_many", organizations=organizations, people=PEOPLE, prefix=prefix, seed=seed,
        anchor=ANCHOR.isoformat(), stdout=out, stderr=StringIO(),
    )  # fmt: skip
    connection.set_schema_to_public()
    return out.getvalue()


def organizations(prefix=PREFIX):
    return list(Organization.objects.filter(slug__startswith=f"{prefix}-").order_by("slug"))


def counts(organization) -> dict:
    with tenant_context(organization):
        return {
            "people": User.objects.count(),
            "roles": dict(
                sorted((role, User.objects.filter(role=role).count()) for role in User.Role.values)
            ),
            "without manager": User.objects.filter(manager__isnull=True).count(),
            "teams": Team.objects.count(),
            "cycles": list(Cycle.objects.order_by("kind").values_list("kind", "state")),
            "objectives": Objective.objects.filter(state="active").count(),
            "key results": KeyResult.objects.count(),
            "check-ins": CheckIn.objects.count(),
            "reviews": Review.objects.count(),
        }


def snapshot(organization) -> dict:
    """Everything seeded, without ids and without what depends on the slug."""
    with tenant_context(organization):
        people = {u.pk: u.email.split("@")[0] for u in User.objects.all()}
        return {
            "people": sorted(
                (people[u.pk], u.full_name, u.role, u.team.name, people.get(u.manager_id))
                for u in User.objects.select_related("team")
            ),
            "objectives": [
                (o.title, o.level, o.kind, people[o.owner_id], o.parent_objective_id is not None)
                for o in Objective.objects.order_by("id")
            ],
            "key results": [
                (k.title, k.kind, k.start, k.target, k.low, k.high, people[k.owner_id], k.progress)
                for k in KeyResult.objects.order_by("id")
            ],
            "check-ins": [
                (c.value, c.confidence, c.effective_at, people[c.author_id])
                for c in CheckIn.objects.order_by("id")
            ],
        }


def assert_reminders_due_at_the_benchmark_instant(found):
    now = check_in_instant(ANCHOR)
    assert (now.weekday(), now.hour, now.date()) == (0, 12, ANCHOR)

    due = {}
    for organization in found:
        with tenant_context(organization):
            due[organization.timezone] = run_reminders(now, dry_run=True).counts()

    # 13:00 in Berlin and 20:00 in Shanghai on the check-in day; 07:00 in New York.
    assert due["Europe/Berlin"]["checkin_due"] >= 1
    assert due["Asia/Shanghai"]["checkin_due"] >= 1
    assert due["America/New_York"] == {}
    # The review cycle is due in three days: every participant is reminded.
    assert due["Europe/Berlin"]["review_due"] == 4


def test_seeds_exact_counts_valid_key_results_an_open_review_cycle_and_due_reminders():
    out = seed_many()

    found = organizations()
    assert [o.slug for o in found] == ["tmany-001", "tmany-002", "tmany-003"]
    assert [(o.name, o.timezone, o.language) for o in found] == [
        ("Tmany 001 GmbH", "Europe/Berlin", "en"),
        ("Tmany 002 有限公司", "Asia/Shanghai", "zh-hans"),
        ("Tmany 003 Inc.", "America/New_York", "en"),
    ]
    assert "Created 3 organisations" in out
    for organization in found:
        found_counts = counts(organization)
        # 8 people: the org admin, 1 manager, 5 members, 1 viewer; one objective per two people.
        assert {k: v for k, v in found_counts.items() if k not in {"key results", "check-ins"}} == {
            "people": 8,
            "roles": {"consultant": 0, "manager": 1, "member": 5, "org_admin": 1, "viewer": 1},
            "without manager": 1,  # the org admin
            "teams": 5,
            "cycles": [("annual", "active"), ("quarter", "active")],
            "objectives": 4,
            "reviews": 4,
        }, organization.slug
        assert 2 * 4 <= found_counts["key results"] <= 3 * 4
        assert 2 * found_counts["key results"] <= found_counts["check-ins"] <= 6 * found_counts["key results"]
        with tenant_context(organization):
            quarter = Cycle.objects.get(kind="quarter")
            assert quarter.start_date <= ANCHOR <= quarter.end_date
            assert quarter.parent == Cycle.objects.get(kind="annual")
            for kr in KeyResult.objects.all():
                assert scoring.key_result_errors(kr.kind, start=kr.start, target=kr.target, low=kr.low,
                                                 high=kr.high, weight=kr.weight) == {}, kr.title  # fmt: skip
                assert kr.last_check_in_at is not None  # recalculated
                assert set(kr.check_ins.values_list("author", flat=True)) == {kr.owner_id}
            assert Objective.objects.filter(parent_objective__isnull=False).count() == (
                AlignmentProposal.objects.filter(state="accepted").count()
            )
            admin = User.objects.get(email=f"admin@{organization.slug}.example")
            assert admin.check_password("okr-many-2026")
            review_cycle = ReviewCycle.objects.get()
            assert review_cycle.state == ReviewCycle.State.OPEN
            assert (review_cycle.opens_on, (review_cycle.due_on - ANCHOR).days) == (ANCHOR, 3)
            assert set(Review.objects.values_list("objective", flat=True)) == set(
                Objective.objects.values_list("id", flat=True)
            )
            assert ReviewKeyResultScore.objects.count() == found_counts["key results"]
    # Seeded once for both (each seeding costs a few seconds).
    assert_reminders_due_at_the_benchmark_instant(found)


def test_a_second_run_creates_nothing_and_says_so():
    seed_many(organizations=2)
    before = {o.slug: snapshot(o) for o in organizations()}

    out = seed_many(organizations=3)  # only tmany-003 is missing
    again = seed_many(organizations=3)

    assert "Created 1 organisation (tmany-001 … tmany-003; 2 existed already)" in out
    assert "Nothing new: all 3 organisations (tmany-001 … tmany-003) exist already" in again
    after = {o.slug: snapshot(o) for o in organizations()}
    assert sorted(after) == ["tmany-001", "tmany-002", "tmany-003"]
    assert {slug: after[slug] for slug in before} == before


def test_the_same_seed_gives_the_same_organisation_whatever_the_prefix():
    seed_many(organizations=1)
    seed_many(organizations=1, prefix="tmanb")
    seed_many(organizations=1, prefix="tmanc", seed=8)

    first, same, other = (snapshot(organizations(p)[0]) for p in (PREFIX, "tmanb", "tmanc"))
    assert first["people"][0][0] == "admin"
    assert same == first
    assert other["key results"] != first["key results"]


def test_clear_errors():
    with pytest.raises(CommandError, match="--people must be at least 4"):
        call_command("seed_many", organizations=1, people=3, prefix=PREFIX)
    with pytest.raises(CommandError, match="does not make valid subdomains"):
        call_command("seed_many", organizations=1, prefix="-x")
    with pytest.raises(CommandError, match="--anchor must be a date"):
        call_command("seed_many", organizations=1, prefix=PREFIX, anchor="tomorrow")
