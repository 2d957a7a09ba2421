"""Demo data for `make run` and the test suite: idempotent, through the real services."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django_tenants.utils import tenant_context

from accounts.models import Team, User
from accounts.services import team_create, user_create
from okrs import demo as okr_demo
from reviews import demo as review_demo
from tenants.models import Organization
from tenants.services import organization_provision, organization_url

DEMO_PASSWORD = "okr-demo-2026"  # noqa: S105 - printed on purpose: demo accounts only

PLATFORM_ADMIN = "admin@platform.example"
CONSULTANT = "coach@platform.example"

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


def seed_demo() -> DemoSummary:
    created: list[str] = []
    password_hash = make_password(DEMO_PASSWORD)
    _ensure_public_user(PLATFORM_ADMIN, "Platform Admin", staff=True, role=User.Role.MEMBER)
    _ensure_public_user(CONSULTANT, "Olivia Coach", staff=False, role=User.Role.CONSULTANT)
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
        seed_organization(organization, objectives=objectives, password_hash=password_hash)
        urls[slug] = organization_url(organization)
    return DemoSummary(created=created, urls=urls)


def seed_organization(organization: Organization, *, objectives, password_hash: str | None = None) -> None:
    """The demo people, teams, OKRs and reviews in one organisation (idempotent); people
    are <local part>@<slug>.example with the demo password."""
    domain = f"{organization.slug}.example"
    with transaction.atomic(), tenant_context(organization):
        _ensure_people(domain, password_hash or make_password(DEMO_PASSWORD))
        okr_demo.seed_okrs(domain=domain, objectives=objectives)
        review_demo.seed_reviews(domain=domain, language=organization.language)
