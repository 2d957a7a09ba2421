"""Demo data for `make run` and the test suite: idempotent, through the real services."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Team, User
from accounts.services import team_create, user_create
from okrs import demo as okr_demo
from reviews import demo as review_demo
from tenants.assignments import consultant_assign
from tenants.health import health_snapshot_take
from tenants.method_packs import method_pack_apply, method_pack_create, method_pack_publish
from tenants.models import HealthSnapshot, MethodPack, MethodPackApplication, Organization
from tenants.pack_content import STARTER_CONTENT
from tenants.services import organization_provision, organization_url

DEMO_PASSWORD = "okr-demo-2026"  # noqa: S105 - printed on purpose: demo accounts only

PLATFORM_ADMIN = "admin@platform.example"
CONSULTANT = "coach@platform.example"
CONSULTANT_2 = "mentor@platform.example"
CONSULTANTS = [(CONSULTANT, "Olivia Coach"), (CONSULTANT_2, "Daniel Okafor")]

# (team, parent team)
TEAMS = [
    ("Leadership", None),
    ("Product & Engineering", "Leadership"),
    ("Platform", "Product & Engineering"),
    ("Growth", "Product & Engineering"),
    ("Sales", "Leadership"),
    ("Customer Success", "Leadership"),
]

# (local part, full name, role, team, manager's local part)
PEOPLE = [
    ("ceo", "Ada Lovelace", "org_admin", "Leadership", None),
    ("cto", "Grace Hopper", "manager", "Product & Engineering", "ceo"),
    ("platform.lead", "Linus Chen", "manager", "Platform", "cto"),
    ("sre", "Mei Wang", "member", "Platform", "platform.lead"),
    ("backend", "Omar Haddad", "member", "Platform", "platform.lead"),
    ("growth.lead", "Sofia Rossi", "manager", "Growth", "cto"),
    ("analyst", "Kenji Sato", "member", "Growth", "growth.lead"),
    ("sales.lead", "Priya Nair", "manager", "Sales", "ceo"),
    ("ae", "Lucas Martin", "member", "Sales", "sales.lead"),
    ("cs.lead", "Zhang Wei", "manager", "Customer Success", "ceo"),
    ("csm", "Fatima Diallo", "member", "Customer Success", "cs.lead"),
    ("board", "Henrik Olsen", "viewer", "Leadership", None),
]

ORGANIZATIONS = [
    # slug, name, timezone, language, OKRs
    ("acme", "Acme Corp", "Europe/Berlin", "en", okr_demo.ACME),
    ("globex", "Globex 环球", "Asia/Shanghai", "zh-hans", okr_demo.GLOBEX),
]


# Smaller clients for the consultants' portfolio (generated like seed_many's), so that the
# portal has a handful of clients and the benchmarks (at least five organisations) show.
# slug, name, time zone, language, status, people
PORTFOLIO_CLIENTS = [
    ("initech", "Initech", "America/New_York", "en", "active", 16),
    ("umbrella", "Umbrella Health", "Europe/London", "en", "pilot", 12),
    ("hooli", "Hooli 好利", "Asia/Shanghai", "zh-hans", "active", 14),
]
# Which consultant serves which clients: globex and umbrella are shared.
ASSIGNMENTS = {
    CONSULTANT: ["acme", "globex", "initech", "umbrella"],
    CONSULTANT_2: ["globex", "umbrella", "hooli"],
}
PACK_SLUG = "scale-up-starter"
# Which version of the demo pack each client runs (acme is on the newer one).
PACK_VERSIONS = {"acme": 2, "globex": 1, "umbrella": 2}


@dataclass
class DemoSummary:
    created: list[str]
    urls: dict[str, str]


def _ensure_public_user(email: str, full_name: str, *, staff: bool, role: str) -> None:
    if not User.objects.filter(email=email).exists():
        create = User.objects.create_superuser if staff else User.objects.create_user
        create(email, DEMO_PASSWORD, full_name=full_name, role=role)


def _ensure_people(domain: str, password_hash: str) -> None:
    teams: dict[str, Team] = {t.name: t for t in Team.objects.all()}
    for name, parent in TEAMS:
        if name not in teams:
            teams[name] = team_create(name=name, parent=teams[parent] if parent else None, actor=None)
    users = {u.email: u for u in User.objects.all()}
    for local, full_name, role, team, manager in PEOPLE:
        email = f"{local}@{domain}"
        user = users.get(email)
        if user is None:
            users[email] = user = user_create(
                email=email, full_name=full_name, role=role, team=teams[team],
                manager=users.get(f"{manager}@{domain}") if manager else None, actor=None,
            )  # fmt: skip
        if not user.has_usable_password():
            # New people, and the org admin made by provisioning: demo profile and password.
            # The hash is computed once: hashing a dozen passwords would take seconds.
            user.full_name, user.role, user.team = full_name, role, teams[team]
            user.password = password_hash
            user.save()


def seed_demo(*, portfolio: bool = True, now: datetime | None = None) -> DemoSummary:
    """acme and globex with their people, OKRs and reviews; with ``portfolio`` (the
    ``seed_demo`` command; the test suite leaves it out) also three smaller clients, the
    consultants' assignments and a method pack in two versions applied to some clients.
    ``now`` is the moment the demo's reminders are worked out for (default: now)."""
    created: list[str] = []
    password_hash = make_password(DEMO_PASSWORD)
    _ensure_public_user(PLATFORM_ADMIN, "Platform Admin", staff=True, role=User.Role.MEMBER)
    for email, full_name in CONSULTANTS:
        _ensure_public_user(email, full_name, staff=False, role=User.Role.CONSULTANT)
    urls = {}
    for slug, name, tz, language, objectives in ORGANIZATIONS:
        organization = Organization.objects.filter(slug=slug).first()
        domain = f"{slug}.example"
        if organization is None:
            organization = organization_provision(
                name=name, slug=slug, admin_email=f"ceo@{domain}", timezone=tz, language=language,
                actor=None, send_invitation=False,
            ).organization  # fmt: skip
            created.append(slug)
        seed_organization(organization, objectives=objectives, password_hash=password_hash, now=now)
        seed_health_trend(organization)
        urls[slug] = organization_url(organization)
    if portfolio:
        for client in PORTFOLIO_CLIENTS:
            slug = client[0]
            organization = Organization.objects.filter(slug=slug).first()
            if organization is None:
                organization = _portfolio_client(client, password_hash)
                created.append(slug)
            seed_health_trend(organization)
            urls[slug] = organization_url(organization)
        _seed_assignments()
        _seed_method_pack()
    return DemoSummary(created=created, urls=urls)


def _portfolio_client(client: tuple, password_hash: str) -> Organization:
    """A smaller client generated like seed_many's organisations (one transaction)."""
    from tenants.management.commands.seed_many import Seeder  # the generator lives with its command

    slug, name, tz, language, status, people = client
    index = 1 + PORTFOLIO_CLIENTS.index(client)
    seeder = Seeder(people=people, seed=2026, anchor=timezone.now().date(), password=password_hash)
    with transaction.atomic():
        result = organization_provision(
            name=name, slug=slug, admin_email=f"admin@{slug}.example", timezone=tz, language=language,
            status=status, actor=None, send_invitation=False,
        )  # fmt: skip
        with tenant_context(result.organization):
            seeder.fill(result.organization, result.admin, index)
    return result.organization


def _seed_assignments() -> None:
    organizations = {o.slug: o for o in Organization.objects.clients()}
    for email, slugs in ASSIGNMENTS.items():
        consultant = User.objects.get(email=email)
        for slug in slugs:
            if slug in organizations:
                consultant_assign(organization=organizations[slug], consultant=consultant, actor=None)


def _seed_method_pack() -> None:
    """The demo pack: version 1 is the starter content, version 2 moves to a weekly cadence
    and asks one more check-in question; applied once per client (idempotent)."""
    pack = MethodPack.objects.filter(slug=PACK_SLUG).first()
    owner = User.objects.get(email=CONSULTANT)
    first = {**STARTER_CONTENT, "cadence": "biweekly"}
    if pack is None:
        pack = method_pack_create(
            slug=PACK_SLUG, name="Scale-up OKR starter",
            description="Templates by function, check-in questions and review prompts (50-500 people).",
            content=first, owner=owner, actor=None, notes="First version.",
        )  # fmt: skip
    if not pack.versions.filter(number=2).exists():
        second = {
            **STARTER_CONTENT,
            "cadence": "weekly",
            "checkin_questions": [
                *STARTER_CONTENT.get("checkin_questions", []),
                "Which customer or colleague felt this progress?",
            ][:20],
        }
        method_pack_publish(
            pack=pack, content=second, notes="Weekly check-ins; one more question.", actor=None
        )
    versions = {v.number: v for v in pack.versions.all()}
    for organization in Organization.objects.clients().filter(slug__in=PACK_VERSIONS):
        if not MethodPackApplication.objects.filter(organization=organization, version__pack=pack).exists():
            method_pack_apply(
                organization=organization, version=versions[PACK_VERSIONS[organization.slug]], actor=None
            )


def seed_organization(
    organization: Organization, *, objectives, password_hash: str | None = None, now: datetime | None = None
) -> None:
    """The demo people, teams, OKRs and reviews in one organisation (idempotent); people
    are <local part>@<slug>.example with the demo password."""
    domain = f"{organization.slug}.example"
    with transaction.atomic(), tenant_context(organization):
        _ensure_people(domain, password_hash or make_password(DEMO_PASSWORD))
        okr_demo.seed_okrs(domain=domain, objectives=objectives)
        review_demo.seed_reviews(domain=domain, language=organization.language, now=now)


HEALTH_TREND_WEEKS = 6


def seed_health_trend(organization: Organization, *, now: datetime | None = None) -> int:
    """A few weeks of health snapshots for the portal's sparkline: a real snapshot taken now
    and weekly ones before it, derived from it with plausible changes (deterministic per
    organisation). Only when the organisation has no snapshot yet (idempotent); returns how
    many were written."""
    if HealthSnapshot.objects.filter(organization=organization).exists():
        return 0
    now = now or timezone.now()
    real = health_snapshot_take(organization, now=now)
    rng = random.Random(organization.slug)  # noqa: S311 - demo figures, not security
    earlier = [_earlier_snapshot(real, weeks, rng) for weeks in range(HEALTH_TREND_WEEKS - 1, 0, -1)]
    HealthSnapshot.objects.bulk_create(earlier)
    return len(earlier) + 1


def _earlier_snapshot(real: HealthSnapshot, weeks: int, rng: random.Random) -> HealthSnapshot:
    """``real`` as it might have looked ``weeks`` weeks earlier: fewer KRs done or on track
    (more not started yet), discipline and escalations wobbling."""
    taken_at = real.taken_at - timedelta(weeks=weeks)
    counts = {field: getattr(real, field) for field in HealthSnapshot.STATUS_FIELDS}
    # Earlier in the cycle, some of today's done / on-track KRs had not started yet.
    to_move = round(real.key_results_in_cycle * 0.08 * weeks)
    for source in ("kr_done", "kr_on_track", "kr_at_risk"):
        moved = min(to_move, counts[source])
        counts[source] -= moved
        counts["kr_not_started"] += moved
        to_move -= moved
    if counts["kr_on_track"] and rng.random() < 0.5:  # one KR was at risk for a while
        counts["kr_on_track"] -= 1
        counts["kr_at_risk"] += 1
    discipline = real.checkin_discipline
    if discipline is not None:
        discipline = min(1.0, max(0.0, round(discipline + rng.uniform(-0.2, 0.1), 3)))

    def wobble(value: int) -> int:
        return max(0, value + rng.choice((-1, 0, 0, 1)))

    days_to_end = real.days_to_cycle_end
    return HealthSnapshot(
        organization=real.organization,
        taken_at=taken_at,
        cycle_kind=real.cycle_kind,
        cycle_start=real.cycle_start,
        cycle_end=real.cycle_end,
        days_to_cycle_end=None if days_to_end is None else days_to_end + 7 * weeks,
        people_active=real.people_active,
        objectives_in_cycle=real.objectives_in_cycle,
        key_results_in_cycle=real.key_results_in_cycle,
        **counts,
        checkin_discipline=discipline,
        escalations_open_level1=wobble(real.escalations_open_level1),
        escalations_open_level2=wobble(real.escalations_open_level2),
        escalations_open_level3=max(0, real.escalations_open_level3 - (weeks > 2)),
        reviews_overdue=wobble(real.reviews_overdue) if weeks < 3 else 0,
        last_cycle_average_score=real.last_cycle_average_score,
        last_activity_at=taken_at - timedelta(hours=rng.randint(2, 60)) if real.last_activity_at else None,
    )
