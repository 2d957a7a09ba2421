"""A large, deterministic organisation for benchmarks (``make bench``).

    python manage.py seed_bench --schema bench --users 2000 --objectives 10000 \\
        --key-results 40000 --check-ins 400000 [--seed 42] [--force]

Rows are streamed into the tenant's tables with COPY and explicit ids, so every
reference (team, manager, owner, parent objective, parent KR, corrected check-in) is
computed in Python without a round trip. No simple-history rows are written. The same
``--seed`` and ``--anchor`` (default: today, UTC) give the same rows, ids included.
Afterwards the cached progress/status columns are filled by ``recalculate_all()``.
"""

from __future__ import annotations

import random
import sys
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

import psycopg
from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context
from psycopg import sql
from tqdm import tqdm

from okrs import scoring
from okrs.recalculation import recalculate_all
from tenants.models import Organization
from tenants.seeding import Trajectory
from tenants.seeding import confidence as random_confidence
from tenants.services import organization_provision

BENCH_PASSWORD = "okr-bench-2026"  # noqa: S105 - printed on purpose: benchmark accounts only
MIGRATE_HINT = "run `python manage.py migrate_platform` first"

# Tables that get explicit ids (their identity sequences are reset afterwards).
LOADED_TABLES = (
    "accounts_team",
    "accounts_user",
    "okrs_cycle",
    "okrs_objective",
    "okrs_keyresult",
    "okrs_checkin",
)

CHECK_IN_WINDOW = timedelta(weeks=10)
CORRECTION_SHARE = 0.01
DORMANT_KEY_RESULT_SHARE = 0.08  # key results nobody checked in on (status not_started)
ALIGNED_SHARE = 0.30
ALIGNED_TO_KEY_RESULT_SHARE = 0.25  # of the aligned objectives
COMPANY_SHARE = 0.10
VIEWER_SHARE = 0.02

# (kind, cumulative share): mostly metrics, some guard rails and milestones.
KR_KINDS = [
    (scoring.INCREASE, 0.45),
    (scoring.DECREASE, 0.70),
    (scoring.STAY_ABOVE, 0.78),
    (scoring.STAY_BELOW, 0.85),
    (scoring.STAY_BETWEEN, 0.92),
    (scoring.MILESTONE, 1.00),
]
VERBS = ["Grow", "Improve", "Reduce", "Launch", "Delight", "Scale", "Simplify", "Secure", "Win", "Automate"]
NOUNS = [
    "customer retention", "onboarding", "platform reliability", "enterprise sales", "release cadence",
    "support quality", "unit economics", "data quality", "partner channel", "mobile experience",
]  # fmt: skip
METRICS = [
    "weekly active users", "NPS", "p95 latency (ms)", "churned accounts", "qualified leads",
    "open incidents", "deploys per week", "ticket backlog", "gross margin (%)", "activation rate (%)",
]  # fmt: skip
HEALTH_DIMENSIONS = ["customer_value", "technology_moat", "financial_return", "operational_excellence"]

USER_COLUMNS = [
    "id", "password", "is_superuser", "email", "full_name", "role", "team_id", "manager_id",
    "timezone", "language", "is_active", "is_staff", "date_joined",
]  # fmt: skip
CYCLE_COLUMNS = [
    "id",
    "name",
    "kind",
    "start_date",
    "end_date",
    "parent_id",
    "state",
    "cadence",
    "created_at",
]
OBJECTIVE_COLUMNS = [
    "id", "title", "description", "cycle_id", "owner_id", "team_id", "level", "kind",
    "health_dimension", "visibility", "state", "parent_objective_id", "parent_key_result_id",
    "carried_from_id", "progress", "status", "expected_progress", "score", "closing_note",
    "created_at", "updated_at",
]  # fmt: skip
KEY_RESULT_COLUMNS = [
    "id", "objective_id", "title", "owner_id", "kind", "unit", "currency_code", "unit_label",
    "start", "target", "low", "high", "weight", "position", "progress", "status", "created_at",
    "updated_at",
]  # fmt: skip
CHECK_IN_COLUMNS = [
    "id", "key_result_id", "author_id", "value", "confidence", "what_moved", "blockers",
    "next_step", "corrects_id", "effective_at", "created_at",
]  # fmt: skip


class Command(BaseCommand):
    help = (
        "Build a large deterministic organisation for benchmarks with COPY "
        "(people, teams, cycles, objectives, key results, check-ins)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--schema", default="bench", help="Slug (= schema) of the bench organisation")
        parser.add_argument("--users", type=int, default=2000)
        parser.add_argument("--objectives", type=int, default=10000)
        parser.add_argument("--key-results", type=int, default=40000)
        parser.add_argument("--check-ins", type=int, default=400000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument(
            "--anchor",
            default=None,
            help="The 'today' of the data set (YYYY-MM-DD; default: today, UTC). Cycles and check-ins "
            "are placed relative to it.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="If the organisation exists: delete its OKR data and people (except the org admin) "
            "and build them again",
        )

    def handle(self, *args, **options):
        started = time.perf_counter()
        slug = (options["schema"] or "").strip().lower()
        sizes = Sizes(
            users=options["users"], objectives=options["objectives"],
            key_results=options["key_results"], check_ins=options["check_ins"],
        )  # fmt: skip
        sizes.validate()
        anchor = _anchor(options["anchor"])

        try:
            organization = Organization.objects.filter(slug=slug).first()
        except DatabaseError as exc:
            raise CommandError(f"The platform tables are missing: {MIGRATE_HINT}.") from exc
        finally:
            connection.set_schema_to_public()
        existed = organization is not None
        if existed and not options["force"]:
            raise CommandError(
                f"The organisation “{slug}” (schema {organization.schema_name}) already exists. "
                "Pass --force to delete its OKR data and people (except the org admin) and build "
                "them again, or choose another --schema."
            )
        if existed:
            self.stdout.write(f"Organisation “{slug}” exists: rebuilding its OKR data and people (--force).")
        else:
            organization = self._provision(slug)
            self.stdout.write(f"Provisioned organisation “{slug}” (schema {organization.schema_name}).")
        _require_migrated(organization.schema_name)

        builder = Builder(
            schema=organization.schema_name, slug=slug, sizes=sizes, seed=options["seed"],
            anchor=anchor, quiet=options["verbosity"] == 0,
        )  # fmt: skip
        try:
            with tenant_context(organization), transaction.atomic():
                if existed:
                    builder.phase("reset", builder.reset)
                builder.build()
        except (IntegrityError, psycopg.IntegrityError) as exc:
            state = "its data is as before" if existed else "the organisation exists but is empty"
            raise CommandError(
                f"Seeding “{slug}” failed on a constraint ({state}): {exc}. If other data refers to this "
                "organisation's people, delete the organisation (platform admin) and run seed_bench again; "
                "otherwise run it again with --force."
            ) from exc
        finally:
            connection.set_schema_to_public()

        total = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Bench organisation “{slug}” ready in {total:.1f} s"))
        for name, count in builder.counts.items():
            self.stdout.write(f"  {name:<24}{count:>10}")
        for name, seconds in builder.timings.items():
            self.stdout.write(f"  {name + ' (s)':<24}{seconds:>10.2f}")
        self.stdout.write(f"  people: user00001@{slug}.example … password {BENCH_PASSWORD}")

    def _provision(self, slug: str) -> Organization:
        try:
            result = organization_provision(
                name="Bench Co", slug=slug, admin_email=f"admin@{slug}.example", timezone="Europe/Berlin",
                language="en", actor=None, send_invitation=False,
            )  # fmt: skip
        except ValidationError as exc:
            lines = [f"  {field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()]
            raise CommandError("Could not create the bench organisation:\n" + "\n".join(lines)) from exc
        except DatabaseError as exc:
            raise CommandError(f"Could not create the bench organisation ({exc}): {MIGRATE_HINT}.") from exc
        return result.organization


def _anchor(value: date | str | None) -> date:
    if value is None:
        return timezone.now().astimezone(UTC).date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--anchor must be a date like 2026-11-15, not “{value}”.") from exc


def _require_migrated(schema: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f'"{schema}".okrs_checkin'])
        if cursor.fetchone()[0] is None:
            raise CommandError(f"The schema “{schema}” has no OKR tables: {MIGRATE_HINT}.")


@dataclass(frozen=True)
class Sizes:
    users: int
    objectives: int
    key_results: int
    check_ins: int

    def validate(self) -> None:
        if self.users < 1:
            raise CommandError("--users must be at least 1.")
        if min(self.objectives, self.key_results, self.check_ins) < 0:
            raise CommandError("--objectives, --key-results and --check-ins must not be negative.")
        if self.key_results and not self.objectives:
            raise CommandError("Key results need objectives: give --objectives of at least 1.")
        if self.check_ins and not self.key_results:
            raise CommandError("Check-ins need key results: give --key-results of at least 1.")


@dataclass
class _Objective:
    index: int  # id - 1
    title: str
    cycle: int
    owner: int  # user index
    team: int | None
    level: str
    kind: str
    health: str
    created: datetime
    parent: int | None = None  # objective index
    parent_kr: int | None = None  # key result id


class Builder:
    """Generates the rows (one ``random.Random(seed)`` for everything) and COPYs them."""

    def __init__(self, *, schema: str, slug: str, sizes: Sizes, seed: int, anchor: date, quiet: bool):
        self.schema, self.slug, self.sizes, self.quiet = schema, slug, sizes, quiet
        self.rng = random.Random(seed)  # noqa: S311 - test data, not secrets
        self.anchor = anchor
        self.now = datetime.combine(anchor, clock_time(0), tzinfo=UTC)
        self.window_start = self.now - CHECK_IN_WINDOW
        self.counts: dict[str, int] = {}
        self.timings: dict[str, float] = {}
        self.user_base = 1

    # --- plumbing -------------------------------------------------------------------

    def phase(self, name: str, function, *args):
        started = time.perf_counter()
        result = function(*args)
        self.timings[name] = time.perf_counter() - started
        return result

    def table(self, name: str) -> sql.Identifier:
        return sql.Identifier(self.schema, name)

    def execute(self, statement, params: Sequence | None = None):
        # The psycopg connection under Django's: same transaction (the atomic block's).
        with connection.connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else None

    def copy(self, label: str, table: str, columns: Sequence[str], rows: Iterable[tuple], total: int) -> None:
        """COPY ``rows`` into ``table`` with a progress bar; counts them under ``label``."""
        columns, extra = self.complete(table, columns)
        if extra:
            rows = (row + extra for row in rows)
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            self.table(table), sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        written, step = 0, 5000
        bar = tqdm(
            total=total, desc=f"[seed_bench] {label}", unit=" rows", unit_scale=True, file=sys.stderr,
            disable=self.quiet, mininterval=0.5, dynamic_ncols=True,
        )  # fmt: skip
        with bar, connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
                written += 1
                if written % step == 0:
                    bar.update(step)
            bar.update(written % step)
        self.counts[label] = written

    def complete(self, table: str, columns: Sequence[str]) -> tuple[list[str], tuple]:
        """The columns to COPY and the values to append to every row: NOT NULL columns
        without a database default that the generator does not fill (added by a later
        migration, say) get their model field's default."""
        described = self.execute(
            "SELECT column_name, is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO' "
            "AND is_generated = 'NEVER' FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            [self.schema, table],
        )
        unknown = sorted(set(columns) - {name for name, _ in described})
        if unknown:
            raise CommandError(f"{self.schema}.{table} has no column {', '.join(unknown)}: {MIGRATE_HINT}.")
        model = next((m for m in apps.get_models() if m._meta.db_table == table), None)
        fields = {f.column: f for f in model._meta.concrete_fields} if model else {}
        added, values = [], []
        for name, required in described:
            if not required or name in columns:
                continue
            field = fields.get(name)
            if field is None or not (field.has_default() or (field.empty_strings_allowed and not field.null)):
                raise CommandError(
                    f"{table}.{name} needs a value and has no default: add it to seed_bench "
                    "(tenants/management/commands/seed_bench.py)."
                )
            added.append(name)
            values.append(field.get_default())
        return [*columns, *added], tuple(values)

    # --- phases ----------------------------------------------------------------------

    def reset(self) -> None:
        """--force: empty every okrs table; remove the teams and everyone but the org admin."""
        tables = [
            name
            for (name,) in self.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s", [self.schema]
            )
            if name.startswith("okrs_")
        ]
        if tables:
            self.execute(
                sql.SQL("TRUNCATE {} CASCADE").format(
                    sql.SQL(", ").join(self.table(t) for t in sorted(tables))
                )
            )
        # The org admin made by provisioning (else the oldest org admin) stays.
        admin_email = f"admin@{self.slug}.example"
        admins = self.execute(
            sql.SQL(
                "SELECT id FROM {} WHERE email = %s OR role = 'org_admin' ORDER BY email <> %s, id"
            ).format(self.table("accounts_user")),
            [admin_email, admin_email],
        )
        keep = [admins[0][0]] if admins else []
        for link in ("accounts_user_groups", "accounts_user_user_permissions"):
            self.execute(
                sql.SQL("DELETE FROM {} WHERE NOT (user_id = ANY(%s))").format(self.table(link)), [keep]
            )
        users = self.table("accounts_user")
        self.execute(sql.SQL("UPDATE {} SET team_id = NULL, manager_id = NULL").format(users))
        self.execute(sql.SQL("DELETE FROM {} WHERE NOT (id = ANY(%s))").format(users), [keep])
        self.execute(sql.SQL("DELETE FROM {}").format(self.table("accounts_team")))
        # Rows elsewhere that still point at deleted people fail here, not at commit.
        self.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.execute("SET CONSTRAINTS ALL DEFERRED")

    def build(self) -> None:
        self.user_base = self.execute(
            sql.SQL("SELECT COALESCE(max(id), 0) + 1 FROM {}").format(self.table("accounts_user"))
        )[0][0]
        self.phase("people", self.people)
        self.phase("cycles", self.cycles)
        self.phase("objectives", self.objectives_and_key_results)
        self.phase("check-ins", self.check_ins)
        # Django creates foreign keys DEFERRABLE INITIALLY DEFERRED: check them all now.
        self.phase("constraints", self.execute, "SET CONSTRAINTS ALL IMMEDIATE")
        self.execute("SET CONSTRAINTS ALL DEFERRED")
        self.phase("analyze", self.analyze)
        self.phase("recalculate", recalculate_all)

    def people(self) -> None:
        rng, n_users = self.rng, self.sizes.users
        joined = self.now - timedelta(days=180)
        # Teams: a two-level tree, about one team per 20 people.
        n_teams = max(1, n_users // 20)
        n_top = max(1, n_teams // 10)
        teams = [(i + 1, f"Department {i + 1:02d}", None, joined) for i in range(n_top)]
        teams += [
            (i + 1, f"Team {i + 1:03d}", rng.randrange(n_top) + 1, joined) for i in range(n_top, n_teams)
        ]
        self.copy("teams", "accounts_team", ["id", "name", "parent_id", "created_at"], teams, len(teams))
        self.leaf_teams = [t[0] for t in teams if t[2] is not None] or [t[0] for t in teams]

        # ~10 executives at the top, a lead per leaf team reporting to one of them,
        # everyone else in a team reporting to its lead. User ids: user_base + index.
        n_execs = min(10, max(1, n_users // 10))
        team_of, manager_of, role_of = [], [], []
        self.lead_of_team: dict[int, int] = {}
        for i in range(n_users):
            if i < n_execs:
                team, manager, role = (i % n_top) + 1, None, "manager"
            elif i - n_execs < len(self.leaf_teams):
                team, manager, role = self.leaf_teams[i - n_execs], rng.randrange(n_execs), "manager"
                self.lead_of_team[team] = i
            else:
                team = rng.choice(self.leaf_teams)
                manager = self.lead_of_team.get(team)
                if manager is None:
                    manager = rng.randrange(n_execs)
                role = "viewer" if rng.random() < VIEWER_SHARE else "member"
            team_of.append(team)
            manager_of.append(manager)
            role_of.append(role)
        self.user_team = team_of
        self.execs = list(range(n_execs))
        self.owners = [i for i in range(n_users) if role_of[i] != "viewer"]  # may check in
        self.team_owners: dict[int, list[int]] = {}
        for i in self.owners:
            self.team_owners.setdefault(team_of[i], []).append(i)

        salt = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(22))
        password = make_password(BENCH_PASSWORD, salt=salt)
        base, slug = self.user_base, self.slug

        def rows():
            for i in range(n_users):
                manager = None if manager_of[i] is None else base + manager_of[i]
                email, name = f"user{i + 1:05d}@{slug}.example", f"Person {i + 1:05d}"
                yield (base + i, password, False, email, name, role_of[i], team_of[i], manager,
                       "", "", True, False, joined)  # fmt: skip

        self.copy("people", "accounts_user", USER_COLUMNS, rows(), n_users)

    def cycles(self) -> None:
        year, quarter = self.anchor.year, (self.anchor.month - 1) // 3
        q_start = date(year, quarter * 3 + 1, 1)
        q_end = date(year + (quarter == 3), (quarter * 3 + 3) % 12 + 1, 1) - timedelta(days=1)
        created = self.now - timedelta(days=200)
        rows = [
            (
                1,
                f"FY{year}",
                "annual",
                date(year, 1, 1),
                date(year, 12, 31),
                None,
                "active",
                "monthly",
                created,
            ),
            (2, f"Q{quarter + 1} {year}", "quarter", q_start, q_end, 1, "active", "biweekly", created),
        ]
        self.copy("cycles", "okrs_cycle", CYCLE_COLUMNS, rows, len(rows))

    def objectives_and_key_results(self) -> None:
        objectives = self._objectives()
        key_results, first_kr, per_objective = self._key_results(objectives)
        # Aligned to one of the parent's KRs where the parent has any (else to the parent).
        for objective in objectives:
            if objective.parent_kr is not None:  # marked in _objectives(): wants a KR
                parent = objective.parent
                objective.parent_kr = None
                if per_objective[parent]:
                    objective.parent_kr = first_kr[parent] + self.rng.randrange(per_objective[parent])
                    objective.parent = None

        base = self.user_base

        def objective_rows():
            for o in objectives:
                parent = None if o.parent is None else o.parent + 1
                yield (o.index + 1, o.title, "", o.cycle, base + o.owner, o.team, o.level, o.kind, o.health,
                       "organization", "active", parent, o.parent_kr, None, 0.0, "not_started", 0.0, None, "",
                       o.created, o.created)  # fmt: skip

        def key_result_rows():
            for kid, oid, title, owner, kind, *definition, weight, position, created in key_results:
                yield (kid, oid, title, base + owner, kind, "number", "", "", *definition, weight, position,
                       0.0, "not_started", created, created)  # fmt: skip

        self.copy("objectives", "okrs_objective", OBJECTIVE_COLUMNS, objective_rows(), len(objectives))
        self.counts["aligned to objective"] = sum(o.parent is not None for o in objectives)
        self.counts["aligned to key result"] = sum(o.parent_kr is not None for o in objectives)
        self.copy("key results", "okrs_keyresult", KEY_RESULT_COLUMNS, key_result_rows(), len(key_results))
        # What the check-ins need: (id, owner's user id, kind, start, target, low, high).
        self.kr_specs = [(k[0], base + k[3], k[4], k[5], k[6], k[7], k[8]) for k in key_results]

    def _objectives(self) -> list[_Objective]:
        """~10% company objectives in the annual cycle, the rest team/individual ones in the
        quarter; ~30% aligned to an objective with a smaller id (so: a forest), a quarter of
        those to one of its KRs (``parent_kr`` = -1 marks them until KRs exist)."""
        rng, n_obj = self.rng, self.sizes.objectives
        n_company = min(n_obj, max(1, round(n_obj * COMPANY_SHARE))) if n_obj else 0
        objectives = []
        for i in range(n_obj):
            if i < n_company:
                cycle, level, owner, team = 1, "company", rng.choice(self.execs), None
            elif rng.random() < 0.6:
                cycle, level, team = 2, "team", rng.choice(self.leaf_teams)
                owner = self.lead_of_team.get(team)
                if owner is None or rng.random() < 0.3:
                    owner = rng.choice(self.team_owners.get(team) or self.owners)
            else:
                cycle, level, owner = 2, "individual", rng.choice(self.owners)
                team = self.user_team[owner]
            objective = _Objective(
                index=i, title=f"{rng.choice(VERBS)} {rng.choice(NOUNS)} #{i + 1}", cycle=cycle,
                owner=owner, team=team, level=level,
                kind="committed" if rng.random() < 0.7 else "aspirational",
                health=rng.choice(HEALTH_DIMENSIONS),
                created=self.window_start - timedelta(seconds=rng.randrange(14 * 86400)),
            )  # fmt: skip
            if i and rng.random() < ALIGNED_SHARE:
                if i >= n_company and (i == n_company or rng.random() < 0.5):
                    objective.parent = rng.randrange(n_company)  # a company objective (annual cycle)
                else:
                    objective.parent = rng.randrange(n_company if i > n_company else 0, i)  # same cycle
                if rng.random() < ALIGNED_TO_KEY_RESULT_SHARE:
                    objective.parent_kr = -1
            objectives.append(objective)
        return objectives

    def _key_results(self, objectives: list[_Objective]):
        """At least one KR per objective when there are enough, ~4 on average; ids in
        objective order. Returns (rows, first KR id per objective, KR count per objective)."""
        rng, n_obj, n_kr = self.rng, len(objectives), self.sizes.key_results
        per_objective = [0] * n_obj
        if n_kr >= n_obj:
            per_objective = [1] * n_obj
            for _ in range(n_kr - n_obj):
                per_objective[rng.randrange(n_obj)] += 1
        else:
            for i in rng.sample(range(n_obj), n_kr):
                per_objective[i] = 1
        first_kr = [0] * n_obj
        key_results = []
        for objective, count in zip(objectives, per_objective, strict=True):
            first_kr[objective.index] = len(key_results) + 1
            owner_pool = self.team_owners.get(objective.team) or self.owners
            for position in range(1, count + 1):
                kind, start, target, low, high = _definition(rng)
                owner = objective.owner if rng.random() < 0.6 else rng.choice(owner_pool)
                weight = 2.0 if rng.random() < 0.2 else 1.0
                created = objective.created + timedelta(seconds=rng.randrange(86400))
                title = f"{rng.choice(METRICS)} ({kind.replace('_', ' ')}) {objective.index + 1}.{position}"
                key_results.append(
                    (len(key_results) + 1, objective.index + 1, title, owner, kind, start, target, low, high,
                     weight, position, created)
                )  # fmt: skip
        return key_results, first_kr, per_objective

    def check_ins(self) -> None:
        rng, n_ci, specs = self.rng, self.sizes.check_ins, self.kr_specs
        self.corrections = 0
        if n_ci:
            # How many check-ins each KR gets: some KRs none, the rest a random share.
            weights = [
                0.0 if rng.random() < DORMANT_KEY_RESULT_SHARE else rng.uniform(0.5, 1.5) for _ in specs
            ]
            if not any(weights):
                weights[0] = 1.0
            per_kr = Counter(rng.choices(range(len(specs)), weights=weights, k=n_ci))
            # Corrections: ~1% of the slots, at most half of a KR's check-ins.
            marks = sorted(rng.sample(range(n_ci), round(n_ci * CORRECTION_SHARE)))
            rows = self._check_in_rows(specs, per_kr, marks)
        else:
            rows = iter(())
        self.copy("check-ins", "okrs_checkin", CHECK_IN_COLUMNS, rows, n_ci)
        self.counts["corrections"] = self.corrections

    def _check_in_rows(self, specs, per_kr: Counter, marks: list[int]) -> Iterator[tuple]:
        """Per KR: check-ins at random instants of the window, by its owner; corrections
        come hours to days after the check-in they correct and take its effective_at.
        Ids follow created_at within a KR, so a correction has a larger id."""
        rng, window = self.rng, int(CHECK_IN_WINDOW.total_seconds())
        next_id, slot = 1, 0
        for k, (kr_id, author, kind, start, target, low, high) in enumerate(specs):
            count = per_kr.get(k, 0)
            if not count:
                continue
            n_corr = min(bisect_left(marks, slot + count) - bisect_left(marks, slot), count // 2)
            slot += count
            originals = count - n_corr
            shape = Trajectory(rng, kind, (start, target, low, high))
            offsets = sorted(rng.random() for _ in range(originals))
            # [sort key, id, value, confidence, corrected entry, effective_at, created_at]
            entries = []
            for j, t in enumerate(offsets):
                at = self.window_start + timedelta(seconds=int(t * window))
                entries.append([(at, 0, j), 0, shape.value(t), random_confidence(rng), None, at, at])
            for j in rng.sample(range(originals), n_corr):
                original = entries[j]
                created = min(original[6] + timedelta(seconds=rng.randrange(3600, 3 * 86400)), self.now)
                entries.append(
                    [
                        (created, 1, j),
                        0,
                        shape.value(offsets[j]),
                        random_confidence(rng),
                        original,
                        original[5],
                        created,
                    ]
                )
            entries.sort(key=lambda entry: entry[0])
            for entry in entries:
                entry[1] = next_id
                next_id += 1
            self.corrections += n_corr
            for _, cid, value, confidence, corrected, effective_at, created in entries:
                corrects = None if corrected is None else corrected[1]
                yield (cid, kr_id, author, value, confidence, "", "", "", corrects, effective_at, created)

    def analyze(self) -> None:
        """Identity sequences continue after the explicit ids; fresh planner statistics."""
        for name in LOADED_TABLES:
            table = self.table(name)
            self.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(max(id), 1), "
                    "max(id) IS NOT NULL) FROM {}"
                ).format(table),
                [f'"{self.schema}"."{name}"'],
            )
            self.execute(sql.SQL("ANALYZE {}").format(table))


def _definition(rng: random.Random) -> tuple[str, float | None, float | None, float | None, float | None]:
    """A valid key result definition (scoring.key_result_errors): kind, start, target, low, high."""
    draw = rng.random()
    kind = next(k for k, cumulative in KR_KINDS if draw < cumulative)
    if kind == scoring.INCREASE:
        start = round(rng.uniform(0, 500), rng.choice([0, 2]))
        return kind, start, round(start + rng.uniform(5, 500), 1), None, None
    if kind == scoring.DECREASE:
        start = round(rng.uniform(50, 1000), rng.choice([0, 2]))
        return kind, start, round(start - rng.uniform(5, start * 0.9), 1), None, None
    if kind == scoring.STAY_ABOVE:
        start = round(rng.uniform(50, 200), 1)
        return kind, start, round(start * rng.uniform(0.7, 0.95), 1), None, None
    if kind == scoring.STAY_BELOW:
        start = round(rng.uniform(50, 200), 1)
        return kind, start, round(start * rng.uniform(1.05, 1.3), 1), None, None
    if kind == scoring.STAY_BETWEEN:
        low = round(rng.uniform(0, 100), 1)
        return kind, None, None, low, round(low + rng.uniform(5, 50), 1)
    return kind, 0.0, 1.0, None, None  # milestone, stored as key_result_create does
