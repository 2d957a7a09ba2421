"""The world the access matrix runs in: built once per module inside one outer transaction
(rolled back at the end, so nothing it adds leaks into other tests), on top of the demo
organisations the suite's session fixture commits.

- Callers ("roles"): one signed-in web client and one API token per role on acme, made once.
- Objects: one object of every kind named in a URL, chosen so the roles relate to it in a
  known way (see ``ROLE_EMAILS``), in acme ("own") and in globex ("foreign"). Every foreign
  object is renumbered to an id acme does not have, so a 404 means "refused", never "absent
  by coincidence"; the renumbering is undone by the outer rollback.
- Portal objects (public host): a method pack the consultant maintains and one a platform
  admin maintains, a coach note of the consultant on acme (the consultant serves acme, not
  globex).
- A fingerprint of every row written in the transaction (``fingerprint``)."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field

import pytest
from django.db import connection, transaction
from django.test import Client
from django_tenants.utils import tenant_context
from rest_framework.test import APIClient

from accounts.models import ApiToken, InboxItem, User
from accounts.services_api_tokens import api_token_create
from accounts.webhooks import webhook_endpoint_create
from okrs.models import AlignmentProposal, Cycle, Escalation, KeyResult, Objective
from okrs.services.comments import comment_add
from okrs.services.kpis import kpi_create
from okrs.services.objectives import initiative_create
from okrs.services.templates import template_create
from reviews.models import PeerFeedbackRequest, Review
from tenants.access import _tenant_account
from tenants.assignments import consultant_assign
from tenants.coach_notes import note_add
from tenants.demo import CONSULTANT, PLATFORM_ADMIN
from tenants.method_packs import method_pack_create
from tenants.models import Organization

# Who plays each role on a tenant host (local part of the demo e-mail; the consultant is the
# tenant account of coach@platform.example, made as entering from the portal makes it).
# The objects are chosen around "member" (sre: owns the objective "sre", its key results,
# its KPI, initiative and comment, and a contested review) whose manager is "manager"
# (platform.lead). "peer" (analyst, another team) has no relation to them, except that
# growth.lead asked them for peer feedback.
ROLE_EMAILS = {
    "org_admin": "ceo",
    "manager": "platform.lead",
    "member": "sre",
    "peer": "analyst",
    "viewer": "board",
    "consultant": None,
}
TENANT_ROLES = tuple(ROLE_EMAILS)
PUBLIC_ROLES = ("anonymous", "platform_staff", "public_consultant")

# Tables whose rows legitimately change on any request (sessions are touched, tokens record
# their last use, sign-in attempts are logged by django-axes).
VOLATILE_TABLES = frozenset(
    {"django_session", "accounts_apitoken", "axes_accessattempt", "axes_accesslog", "axes_accessfailurelog"}
)
FOREIGN_ID_BASE = 50_000_000


@dataclass
class World:
    acme: Organization
    globex: Organization
    own: dict[str, int] = field(default_factory=dict)  # kind -> acme id
    foreign: dict[str, int] = field(default_factory=dict)  # kind -> globex id unknown to acme
    users: dict[str, User] = field(default_factory=dict)  # role -> acme user
    web: dict[str, Client] = field(default_factory=dict)  # role -> signed-in client on acme
    token: dict[str, str] = field(default_factory=dict)  # role -> read_write token secret
    read_token: dict[str, str] = field(default_factory=dict)  # role -> read token secret
    public: dict[str, Client] = field(default_factory=dict)  # public role -> client on localhost
    portal: dict[str, object] = field(default_factory=dict)  # portal URL parameter -> value


def fingerprint() -> dict[str, tuple[int, int, int]]:
    """Every row written in this transaction so far, per table of every schema: PostgreSQL's
    own counters of rows inserted, updated and deleted by this transaction
    (``pg_stat_xact_user_tables``, one fast query). Equal before and after a request means the
    request wrote nothing at all (not even something it undid): stricter than comparing
    contents, and cheap enough for every cell."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT schemaname, relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables "
            "WHERE n_tup_ins + n_tup_upd + n_tup_del > 0"
        )
        return {
            f"{schema}.{table}": (ins, upd, dele)
            for schema, table, ins, upd, dele in cursor.fetchall()
            if table not in VOLATILE_TABLES
        }


def changed(before: dict, after: dict) -> list[str]:
    """The tables written between two fingerprints."""
    return sorted(t for t in before.keys() | after.keys() if before.get(t) != after.get(t))


def _objects(domain: str, users: dict[str, User]) -> dict[str, object]:
    """The objects of every kind in the current schema, made the same way in both schemas."""
    member, admin = users["member"], users["org_admin"]
    objective = Objective.objects.filter(owner=member).order_by("id").first()
    key_result = KeyResult.objects.filter(objective=objective).order_by("id").first()
    initiative = initiative_create(
        actor=member, key_result=key_result, title="Matrix initiative", owner=member
    )
    escalation = Escalation.objects.filter(
        key_result=key_result, level=1
    ).first() or Escalation.objects.create(key_result=key_result, level=1)
    kpi = kpi_create(
        actor=member, name="Matrix KPI", owner=member, direction="higher_is_better",
        green_threshold=10, red_threshold=5,
    )  # fmt: skip
    review = Review.objects.filter(participant=member, review_cycle__state="open").first()
    feedback = PeerFeedbackRequest.objects.get(reviewer=users["peer"], answered_at__isnull=True)
    webhook = webhook_endpoint_create(
        actor=admin, url="https://hooks.example.com/okr", events=["check_in.created"]
    )
    token_pk = api_token_create(actor=member, name="matrix", scope=ApiToken.Scope.READ_WRITE).token.pk
    return {
        "objective": objective,
        "key_result": key_result,
        "initiative": initiative,
        "proposal": AlignmentProposal.objects.filter(state="proposed").order_by("id").first(),
        "escalation": escalation,
        "kpi": kpi,
        "comment": comment_add(objective=objective, actor=member, body="Matrix comment"),
        "template": template_create(actor=admin, function="engineering", title="Matrix template"),
        "review": review,
        "feedback_review": feedback.review,
        "feedback_request": feedback,
        "cycle": Cycle.objects.filter(state="active").order_by("start_date").last(),
        "review_cycle": review.review_cycle,
        "person": member,
        "team": member.team,
        "webhook": webhook.endpoint,
        "token": ApiToken.objects.get(pk=token_pk),
        "inbox_item": InboxItem.objects.filter(user=member).order_by("id").first()
        or InboxItem.objects.create(user=member, kind="digest", title="Matrix"),
    }


def _renumber(objects: dict[str, object]) -> dict[str, int]:
    """Give every globex object an id above anything acme has. Rows pointing at it keep the
    old id: triggers (foreign keys, the check-ins' append-only guard) are off for these
    updates, so nothing is queued for checking, and the outer rollback restores the ids."""
    ids = {}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        for n, (kind, obj) in enumerate(objects.items(), start=1):
            if obj is None:
                continue
            new = FOREIGN_ID_BASE + n
            cursor.execute(f'UPDATE "{obj._meta.db_table}" SET id = %s WHERE id = %s', [new, obj.pk])
            ids[kind] = new
        cursor.execute("SET LOCAL session_replication_role = origin")
    return ids


def _people(domain: str) -> dict[str, User]:
    return {role: User.objects.get(email=f"{local}@{domain}") for role, local in ROLE_EMAILS.items() if local}


@pytest.fixture(scope="module", autouse=True)
def _quiet_refusals():
    """Thousands of refusals are this package's point: not logging each 4xx as a warning
    keeps the run fast (a 500 is still logged, at ERROR)."""
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.setLevel(logging.ERROR)
    yield
    logger.setLevel(level)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build()
        finally:
            connection.set_schema_to_public()
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def _build() -> World:
    acme = Organization.objects.get(slug="acme")
    globex = Organization.objects.get(slug="globex")
    world = World(acme=acme, globex=globex)
    staff = User.objects.get(email=PLATFORM_ADMIN)
    coach = User.objects.get(email=CONSULTANT)
    consultant_assign(organization=acme, consultant=coach, actor=None)
    for role, user in (("platform_staff", staff), ("public_consultant", coach)):
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        world.public[role] = client
    world.public["anonymous"] = Client(HTTP_HOST="localhost")
    content = {"templates": [], "checkin_questions": ["What moved?"], "cadence": "weekly"}
    own_pack = method_pack_create(
        slug="matrix-own", name="Matrix own", content=content, owner=coach, actor=coach
    )
    other_pack = method_pack_create(
        slug="matrix-other", name="Matrix other", content=content, owner=staff, actor=staff
    )
    note = note_add(organization=acme, body="Matrix note", actor=coach)
    world.portal = {"client": acme.slug, "foreign_client": globex.slug, "own_pack": own_pack.slug,
                    "other_pack": other_pack.slug, "note": note.pk}  # fmt: skip

    with tenant_context(globex):
        foreign_objects = _objects("globex.example", _people("globex.example"))
        world.foreign = _renumber(foreign_objects)
        world.foreign["consultant_user"] = FOREIGN_ID_BASE
    with tenant_context(acme):
        users = _people("acme.example")
        users["consultant"] = _tenant_account(coach)
        world.users = users
        world.own = {kind: obj.pk for kind, obj in _objects("acme.example", users).items() if obj is not None}
        world.own["consultant_user"] = coach.pk
        for role, user in users.items():
            client = Client(HTTP_HOST="acme.localhost")
            client.force_login(user)
            world.web[role] = client
            scope = ApiToken.Scope.READ if role == "viewer" else ApiToken.Scope.READ_WRITE
            world.token[role] = api_token_create(actor=user, name=f"matrix {role}", scope=scope).secret
            world.read_token[role] = api_token_create(
                actor=user, name=f"matrix {role} read", scope=ApiToken.Scope.READ
            ).secret
    world.web["anonymous"] = Client(HTTP_HOST="acme.localhost")
    connection.set_schema_to_public()
    return world


def api_as(world: World, role: str, *, host: str = "acme.localhost", read_only: bool = False) -> APIClient:
    client = APIClient(HTTP_HOST=host)
    if role != "anonymous":
        secret = (world.read_token if read_only else world.token)[role]
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def session_api_as(world: World, role: str, *, host: str = "acme.localhost") -> APIClient:
    """An API client sending ``role``'s acme session cookie (to ``host``)."""
    client = APIClient(HTTP_HOST=host)
    # A copy: responses on another host must not overwrite the shared client's session cookie.
    client.cookies = copy.deepcopy(world.web[role].cookies)
    return client
