"""Many realistic organisations, for the reminders benchmark (``bench/reminders.py``).

    python manage.py seed_many --organizations 200 --people 50 [--seed 7] [--prefix many] \\
        [--anchor YYYY-MM-DD]

Each organisation is provisioned through ``organization_provision`` (clone of the template
schema, no invitation) as ``<prefix>-001`` … and filled with a few bulk INSERTs: five teams,
``--people`` people (the org admin included: ~10% managers leading the teams, one viewer,
the rest members, with reporting lines; one shared password), the current quarter and its
annual parent (both active), about one objective per two people (company, team and
individual, aligned upwards), 2–3 key results each and 2–6 check-ins per key result over the
six weeks before the anchor, by the key result's owner. About a tenth of the owners last
checked in 15–30 days ago, so check-in reminders are due for them; the rest within the last
ten days. Then ``recalculate_all()``, and a check-in review opened through
``reviews.services`` on the anchor day, due three days later (review reminders are due).

Idempotent: organisations whose slug exists are skipped. Organisation *n* gets the same
rows for the same ``--seed``, ``--people`` and ``--anchor`` (default: today, UTC), whatever
the prefix and whichever organisations already existed. Provisioning and seeding of one
organisation are one transaction: an organisation exists complete or not at all. Each
organisation gets a fresh database session (outside an enclosing transaction): in one long-lived
session, every clone of the template is slower than the one before.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

from django.contrib.auth.hashers import make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django_tenants.utils import tenant_context
from tqdm import tqdm

from accounts.models import Team, User
from accounts.notifications import notification_settings
from okrs import scoring
from okrs.models import AlignmentProposal, CheckIn, Cycle, KeyResult, Objective
from okrs.recalculation import Clock, recalculate_all
from reviews.models import Review, ReviewCycle
from reviews.services import review_cycle_create, review_cycle_open
from tenants.management.progress import bar_stream
from tenants.models import Organization
from tenants.seeding import Trajectory, confidence
from tenants.services import organization_provision, template_state
from tenants.validators import slug_errors

MANY_PASSWORD = "okr-many-2026"  # noqa: S105 - printed on purpose: benchmark accounts only
MIGRATE_HINT = "run `python manage.py migrate_platform` first"
MAX_ORGANIZATIONS = 999  # slugs have three digits

# (time zone, legal form): the organisations cycle through these.
LOCALES = [
    ("Europe/Berlin", "GmbH"),
    ("Asia/Shanghai", "有限公司"),
    ("America/New_York", "Inc."),
    ("Europe/London", "Ltd"),
    ("Asia/Tokyo", "K.K."),
    ("America/Los_Angeles", "Inc."),
    ("Australia/Sydney", "Pty Ltd"),
    ("Asia/Kolkata", "Pvt Ltd"),
]
CHINESE_ZONES = {"Asia/Shanghai"}

N_TEAMS = 5  # a leadership team and four departments under it
MANAGER_SHARE = 0.10
STALE_OWNER_SHARE = 0.10  # owners whose last check-in is 15–30 days old
WINDOW = timedelta(weeks=6)
RECENT_DAYS = (1, 10)  # last check-in of everyone else, days before the anchor
STALE_DAYS = (15, 30)
REVIEW_DUE_DAYS = 3

FIRST_NAMES = {
    "Europe/Berlin": ["Anna", "Lukas", "Lena", "Jonas", "Mia", "Felix", "Laura", "Paul", "Sophie", "Max"],
    "Asia/Shanghai": ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "婷", "浩"],
    "Asia/Tokyo": ["Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi", "Yuto", "Sakura", "Riku", "Mei"],
    "Asia/Kolkata": ["Aarav", "Priya", "Rohan", "Ananya", "Vikram", "Diya", "Arjun", "Kavya", "Ishaan"],
    "": ["Olivia", "James", "Emma", "Noah", "Ava", "Liam", "Isla", "Jack", "Grace", "Ethan", "Chloe"],
}
LAST_NAMES = {
    "Europe/Berlin": ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"],
    "Asia/Shanghai": ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴"],
    "Asia/Tokyo": ["Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura"],
    "Asia/Kolkata": ["Sharma", "Patel", "Gupta", "Das", "Banerjee", "Iyer", "Reddy", "Nair"],
    "": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Garcia", "Miller"],
}

TEXT = {
    "en": {
        "leadership": "Leadership",
        "departments": ["Product", "Engineering", "Sales", "Customer Success", "Marketing", "Operations",
                        "Finance", "People"],
        "verbs": ["Grow", "Improve", "Strengthen", "Launch", "Rethink", "Scale",
                  "Simplify", "Secure", "Win", "Automate"],
        "nouns": ["customer retention", "onboarding", "platform reliability", "enterprise sales",
                  "release cadence", "support quality", "unit economics", "data quality", "partner channel",
                  "mobile experience"],
        "what_moved": ["Numbers from the weekly dashboard.", "Shipped the first iteration.",
                       "Two big deals slipped.", "Steady week.", "Experiment results are in."],
        "annual": "FY{year}",
        "quarter": "Q{q} {year}",
        "review": "Check-in review {quarter}",
    },
    "zh-hans": {
        "leadership": "管理层",
        "departments": ["产品", "工程", "销售", "客户成功", "市场", "运营", "财务", "人力资源"],
        "verbs": ["提升", "改善", "降低", "上线", "优化", "扩大", "简化", "保障", "赢得", "自动化"],
        "nouns": ["客户留存", "新用户引导", "平台稳定性", "企业销售", "发布节奏", "客服质量", "单位经济",
                  "数据质量", "渠道合作", "移动端体验"],
        "what_moved": ["每周看板数据。", "第一版已上线。", "两个大单延期了。", "本周平稳。",
                       "实验结果出来了。"],
        "annual": "{year} 财年",
        "quarter": "{year} 年第 {q} 季度",
        "review": "{quarter} 检查回顾",
    },
}  # fmt: skip

# (English name, Chinese name, unit, unit label)
METRICS = [
    ("Weekly active users", "周活跃用户", "number", "users"),
    ("NPS", "净推荐值", "number", "NPS"),
    ("p95 latency", "p95 延迟", "number", "ms"),
    ("Churned accounts", "流失客户", "number", "accounts"),
    ("Qualified leads", "合格线索", "number", "leads"),
    ("Open incidents", "未关闭事故", "number", "incidents"),
    ("Deploys per week", "每周部署次数", "number", "deploys"),
    ("Ticket backlog", "工单积压", "number", "tickets"),
    ("Gross margin", "毛利率", "percent", ""),
    ("Activation rate", "激活率", "percent", ""),
]
# (kind, cumulative share)
KR_KINDS = [
    (scoring.INCREASE, 0.45),
    (scoring.DECREASE, 0.70),
    (scoring.STAY_ABOVE, 0.78),
    (scoring.STAY_BELOW, 0.85),
    (scoring.STAY_BETWEEN, 0.92),
    (scoring.MILESTONE, 1.00),
]
HEALTH_DIMENSIONS = [choice for choice, _label in Objective.HealthDimension.choices]


class Command(BaseCommand):
    help = (
        "Create many realistic organisations (provisioned by clone, then bulk-filled with people, "
        "OKRs, check-ins and an open review cycle) for the reminders benchmark. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organizations", type=int, default=200, help="How many (default 200)")
        parser.add_argument(
            "--people", type=int, default=50, help="People per organisation, org admin included (default 50)"
        )
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--prefix", default="many", help="Slugs are <prefix>-001, <prefix>-002, …")
        parser.add_argument(
            "--anchor",
            default=None,
            help="The 'today' of the data (YYYY-MM-DD; default: today, UTC): the quarter contains it, "
            "check-ins lie in the six weeks before it, the review cycle opens on it.",
        )

    def handle(self, *args, **options):
        started = time.perf_counter()
        count, people, prefix = options["organizations"], options["people"], options["prefix"]
        prefix = (prefix or "").strip().lower()
        _validate(count, people, prefix)
        anchor = _anchor(options["anchor"])
        slugs = {index: f"{prefix}-{index:03d}" for index in range(1, count + 1)}

        try:
            existing = set(
                Organization.objects.filter(slug__in=slugs.values()).values_list("slug", flat=True)
            )
            state = template_state()
        except DatabaseError as exc:
            raise CommandError(f"The platform tables are missing ({exc}): {MIGRATE_HINT}.") from exc
        finally:
            connection.set_schema_to_public()
        missing = [index for index, slug in slugs.items() if slug not in existing]
        span = f"{slugs[1]} … {slugs[count]}" if count > 1 else slugs[1]
        if not missing:
            self.stdout.write(
                f"Nothing new: all {count} organisations ({span}) exist already "
                f"({time.perf_counter() - started:.1f} s)."
            )
            return
        if state == "missing":
            raise CommandError(
                f"The template schema is missing, so organisations cannot be cloned: {MIGRATE_HINT}."
            )

        seeder = Seeder(
            people=people, seed=options["seed"], anchor=anchor, password=make_password(MANY_PASSWORD)
        )
        totals: Counter[str] = Counter()
        provision_seconds = seed_seconds = 0.0
        provision_samples = []
        bar = tqdm(
            missing, desc="[seed_many] organisations", unit="org", file=bar_stream(self),
            disable=options["verbosity"] == 0, dynamic_ncols=True,
        )  # fmt: skip
        for index in bar:
            counts, provisioned, seeded = self._create(index, slugs[index], prefix, seeder)
            if not connection.in_atomic_block:
                # A fresh database session per organisation: in a long-lived one, each clone
                # gets slower than the last (from ~1 s to ~10 s after a hundred organisations).
                connection.close()
            totals.update(counts)
            provision_seconds += provisioned
            provision_samples.append(provisioned)
            seed_seconds += seeded
        bar.close()

        total = time.perf_counter() - started
        created = len(missing)
        skipped = f"; {len(existing)} existed already" if existing else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {created} organisation{'s' * (created != 1)} ({span}{skipped}) "
                f"in {total:.1f} s: provisioning {provision_seconds:.1f} s "
                f"({provision_seconds / created * 1000:.0f} ms each; first {provision_samples[0]:.2f} s, "
                f"last {provision_samples[-1]:.2f} s), "
                f"seeding {seed_seconds:.1f} s ({seed_seconds / created * 1000:.0f} ms each)."
            )
        )
        for name in ("people", "teams", "cycles", "objectives", "key results", "check-ins", "reviews"):
            self.stdout.write(f"  {name:<14}{totals[name]:>10}")
        first = slugs[missing[0]]
        self.stdout.write(
            f"  anchor {anchor.isoformat()}; sign in as admin@{first}.example, user001@{first}.example … "
            f"with the password {MANY_PASSWORD}"
        )

    def _create(self, index: int, slug: str, prefix: str, seeder: Seeder) -> tuple[Counter, float, float]:
        zone, legal_form = LOCALES[(index - 1) % len(LOCALES)]
        language = "zh-hans" if zone in CHINESE_ZONES else "en"
        try:
            with transaction.atomic():
                result = organization_provision(
                    name=f"{prefix.capitalize()} {index:03d} {legal_form}", slug=slug,
                    admin_email=f"admin@{slug}.example", timezone=zone, language=language, actor=None,
                    send_invitation=False,
                )  # fmt: skip
                seeding_started = time.perf_counter()
                with tenant_context(result.organization):
                    counts = seeder.fill(result.organization, result.admin, index)
                seeded = time.perf_counter() - seeding_started
        except ValidationError as exc:
            details = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in exc.message_dict.items())
            raise CommandError(f"Could not create “{slug}”: {details}") from exc
        except (IntegrityError, PermissionDenied) as exc:
            raise CommandError(
                f"Seeding “{slug}” failed ({exc}); nothing of it was kept. If the schema or data is "
                f"unexpected, {MIGRATE_HINT} and run seed_many again."
            ) from exc
        except DatabaseError as exc:
            raise CommandError(f"Could not create “{slug}” ({exc}): {MIGRATE_HINT}.") from exc
        finally:
            connection.set_schema_to_public()
        return counts, result.seconds, seeded


def _validate(count: int, people: int, prefix: str) -> None:
    if not 1 <= count <= MAX_ORGANIZATIONS:
        raise CommandError(f"--organizations must be between 1 and {MAX_ORGANIZATIONS}.")
    if people < 4:
        raise CommandError("--people must be at least 4 (an org admin, a manager, a member and a viewer).")
    if problems := slug_errors(f"{prefix}-001"):
        raise CommandError(f"--prefix “{prefix}” does not make valid subdomains: {' '.join(problems)}")


def _anchor(value: str | None) -> date:
    if value is None:
        return timezone.now().astimezone(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--anchor must be a date like 2026-11-23, not “{value}”.") from exc


def quarter_of(day: date) -> tuple[date, date]:
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    end = date(day.year + (first_month == 10), (first_month + 2) % 12 + 1, 1) - timedelta(days=1)
    return start, end


@dataclass
class _Org:
    """What one organisation's generation needs to remember between the INSERTs."""

    rng: random.Random
    zone: str
    text: dict
    admin: User
    leadership: Team | None = None
    departments: list[Team] = field(default_factory=list)
    managers: list[User] = field(default_factory=list)
    members: list[User] = field(default_factory=list)
    lead_of: dict[int, User] = field(default_factory=dict)  # team id → its manager
    owner_team: dict[int, Team] = field(default_factory=dict)  # user id → team
    counts: Counter = field(default_factory=Counter)


class Seeder:
    """Fills the current tenant; one ``random.Random`` per organisation, derived from the seed
    and the organisation's number (so skipping existing organisations changes nothing)."""

    def __init__(self, *, people: int, seed: int, anchor: date, password: str):
        self.people, self.seed, self.anchor, self.password = people, seed, anchor, password
        self.base = datetime.combine(anchor, clock_time(0), tzinfo=UTC)  # check-ins lie before it
        self.window_start = self.base - WINDOW
        self.created = self.window_start - timedelta(days=3)
        today = timezone.now().astimezone(UTC).date()
        # The cached statuses as of the anchor (the real clock when the anchor is today).
        self.clock_now = None if anchor == today else self.base + timedelta(hours=12)

    def fill(self, organization: Organization, admin: User, index: int) -> Counter:
        rng = random.Random(self.seed * 1_000_003 + index)  # noqa: S311 - test data, not secrets
        language = "zh-hans" if organization.timezone in CHINESE_ZONES else "en"
        org = _Org(rng=rng, zone=organization.timezone, text=TEXT[language], admin=admin)
        self._teams(org)
        self._people(org)
        quarter = self._cycles(org)
        objectives = self._objectives(org, quarter)
        key_results = self._key_results(org, objectives)
        self._check_ins(org, key_results)
        for model in (Team, Cycle, Objective, KeyResult):  # auto_now_add stamped them "now"
            fields = {"created_at": self.created}
            if model in (Objective, KeyResult):
                fields["updated_at"] = self.created
            model.objects.update(**fields)
        recalculate_all(Clock.current(now=self.clock_now))
        notification_settings()  # the defaults: check-in day Monday, digest day Friday
        self._review_cycle(org, quarter)
        return org.counts

    # --- people ------------------------------------------------------------------------

    def _name(self, org: _Org) -> str:
        zone = org.zone if org.zone in FIRST_NAMES else ""
        first, last = org.rng.choice(FIRST_NAMES[zone]), org.rng.choice(LAST_NAMES[zone])
        return f"{last}{first}" if zone in CHINESE_ZONES else f"{first} {last}"

    def _teams(self, org: _Org) -> None:
        org.leadership = Team.objects.bulk_create([Team(name=org.text["leadership"])])[0]
        names = org.rng.sample(org.text["departments"], N_TEAMS - 1)
        org.departments = Team.objects.bulk_create(Team(name=name, parent=org.leadership) for name in names)
        org.counts["teams"] = N_TEAMS

    def _people(self, org: _Org) -> None:
        """The org admin leads; ~10% managers (the first ones lead the departments), one viewer
        (the board), members in the departments reporting to the department's lead."""
        rng, admin, slug = org.rng, org.admin, connection.tenant.slug
        User.objects.filter(pk=admin.pk).update(
            full_name=self._name(org), team=org.leadership, password=self.password,
            date_joined=self.created - timedelta(days=365),
        )  # fmt: skip
        admin.team = org.leadership
        org.owner_team[admin.pk] = org.leadership
        n_managers = max(1, round(self.people * MANAGER_SHARE))
        n_members = self.people - 1 - n_managers - 1
        joined = [self.created - timedelta(days=rng.randrange(30, 900)) for _ in range(self.people - 1)]
        number = iter(range(1, self.people))

        def person(role: str, team: Team, manager: User) -> User:
            n = next(number)
            return User(
                email=f"user{n:03d}@{slug}.example", full_name=self._name(org), role=role, team=team,
                manager=manager, password=self.password, date_joined=joined[n - 1],
            )  # fmt: skip

        teams = org.departments
        org.managers = User.objects.bulk_create(
            person(User.Role.MANAGER, teams[i] if i < len(teams) else org.leadership, admin)
            for i in range(n_managers)
        )
        for manager, team in zip(org.managers, teams, strict=False):
            org.lead_of[team.pk] = manager
        rest = []
        for _ in range(n_members):
            team = rng.choice(teams)
            rest.append(person(User.Role.MEMBER, team, org.lead_of.get(team.pk, admin)))
        rest.append(person(User.Role.VIEWER, org.leadership, admin))
        created = User.objects.bulk_create(rest)
        org.members = created[:-1]
        for user in [*org.managers, *org.members]:
            org.owner_team[user.pk] = user.team
        org.counts["people"] = self.people

    # --- OKRs ---------------------------------------------------------------------------

    def _cycles(self, org: _Org) -> Cycle:
        year = self.anchor.year
        q_start, q_end = quarter_of(self.anchor)
        annual = Cycle.objects.bulk_create([
            Cycle(name=org.text["annual"].format(year=year), kind=Cycle.Kind.ANNUAL,
                  start_date=date(year, 1, 1), end_date=date(year, 12, 31), state=Cycle.State.ACTIVE,
                  cadence=Cycle.Cadence.MONTHLY)
        ])[0]  # fmt: skip
        quarter = Cycle.objects.bulk_create([
            Cycle(name=org.text["quarter"].format(year=year, q=(q_start.month + 2) // 3),
                  kind=Cycle.Kind.QUARTER, start_date=q_start, end_date=q_end, parent=annual,
                  state=Cycle.State.ACTIVE, cadence=Cycle.Cadence.BIWEEKLY)
        ])[0]  # fmt: skip
        org.counts["cycles"] = 2
        return quarter

    def _objective(self, org: _Org, quarter: Cycle, owner: User, level: str, parent: Objective | None):
        rng, text = org.rng, org.text
        title = f"{rng.choice(text['verbs'])} {rng.choice(text['nouns'])}"
        if text is TEXT["zh-hans"]:
            title = title.replace(" ", "")
        return Objective(
            title=title, cycle=quarter, owner=owner, team=org.owner_team[owner.pk], level=level,
            kind=Objective.Kind.COMMITTED if rng.random() < 0.7 else Objective.Kind.ASPIRATIONAL,
            health_dimension=rng.choice(HEALTH_DIMENSIONS), state=Objective.State.ACTIVE,
            parent_objective=parent,
        )  # fmt: skip

    def _objectives(self, org: _Org, quarter: Cycle) -> list[Objective]:
        """About one per two people: company objectives (org admin), one per manager (team),
        the rest individual, owned by distinct members where there are enough; team
        objectives align to a company objective, most individual ones to their lead's."""
        rng = org.rng
        n_objectives = max(1, self.people // 2)
        n_company = 1 if n_objectives < 6 else 2
        company = Objective.objects.bulk_create(
            self._objective(org, quarter, org.admin, Objective.Level.COMPANY, None) for _ in range(n_company)
        )
        leads = org.managers[: max(0, n_objectives - n_company)]
        team = Objective.objects.bulk_create(
            self._objective(org, quarter, lead, Objective.Level.TEAM, rng.choice(company)) for lead in leads
        )
        of_lead = {objective.owner_id: objective for objective in team}
        n_individual = n_objectives - n_company - len(team)
        owners = rng.sample(org.members, min(n_individual, len(org.members)))
        owners += [rng.choice(org.members) for _ in range(n_individual - len(owners))]
        individual = Objective.objects.bulk_create(
            self._objective(
                org, quarter, owner, Objective.Level.INDIVIDUAL,
                of_lead.get(owner.manager_id) if rng.random() < 0.7 else None,
            )
            for owner in owners
        )  # fmt: skip
        objectives = [*company, *team, *individual]
        decided_at = self.created + timedelta(days=1)
        AlignmentProposal.objects.bulk_create(
            AlignmentProposal(
                child=objective,
                parent_objective=objective.parent_objective,
                state=AlignmentProposal.State.ACCEPTED,
                proposed_by=objective.owner,
                decided_by=objective.parent_objective.owner,
                decided_at=decided_at,
            )
            for objective in objectives
            if objective.parent_objective is not None
        )
        AlignmentProposal.objects.update(created_at=self.created)
        org.counts["objectives"] = len(objectives)
        return objectives

    def _key_results(self, org: _Org, objectives: list[Objective]) -> list[KeyResult]:
        rng = org.rng
        chinese = org.text is TEXT["zh-hans"]
        titles = KR_TITLES["zh-hans" if chinese else "en"]
        by_team: dict[int, list[User]] = {}
        for user in [org.admin, *org.managers, *org.members]:
            by_team.setdefault(org.owner_team[user.pk].pk, []).append(user)
        rows = []
        for objective in objectives:
            for position in range(1, rng.choice((2, 3)) + 1):
                kind, start, target, low, high = _definition(rng)
                if errors := scoring.key_result_errors(kind, start=start, target=target, low=low, high=high):
                    raise CommandError(f"seed_many generated an invalid key result ({kind}): {errors}")
                english, chinese_name, unit, label = rng.choice(METRICS)
                if kind == scoring.MILESTONE:
                    unit, label = "number", ""
                owner = objective.owner
                if rng.random() < 0.3:
                    owner = rng.choice(by_team.get(objective.team_id) or [owner])
                rows.append(
                    KeyResult(
                        objective=objective, title=titles[kind].format(
                            metric=chinese_name if chinese else english, start=start, target=target, low=low,
                            high=high,
                        ),
                        owner=owner, kind=kind, unit=unit, unit_label=label, start=start, target=target,
                        low=low, high=high, position=position,
                    )
                )  # fmt: skip
        key_results = KeyResult.objects.bulk_create(rows)
        org.counts["key results"] = len(key_results)
        return key_results

    def _check_ins(self, org: _Org, key_results: list[KeyResult]) -> None:
        """2–6 per KR by its owner in the six weeks before the anchor, the last one within
        the last ten days — or 15–30 days ago for about a tenth of the owners."""
        rng = org.rng
        owners = list(dict.fromkeys(kr.owner_id for kr in key_results))  # first-seen order
        stale = set(rng.sample(owners, max(1, round(len(owners) * STALE_OWNER_SHARE))))
        span = (self.base - self.window_start).total_seconds()
        rows = []
        for kr in key_results:
            days = STALE_DAYS if kr.owner_id in stale else RECENT_DAYS
            last = self.base - timedelta(seconds=rng.uniform(days[0] * 86400, days[1] * 86400))
            earliest = (last - self.window_start).total_seconds() - 86400  # a day before the last at most
            offsets = sorted(rng.uniform(0, earliest) for _ in range(rng.randint(2, 6) - 1))
            moments = [*(self.window_start + timedelta(seconds=s) for s in offsets), last]
            path = Trajectory(rng, kr.kind, (kr.start, kr.target, kr.low, kr.high))
            for moment in moments:
                at = moment.replace(microsecond=0)
                rows.append(
                    CheckIn(
                        key_result=kr, author_id=kr.owner_id,
                        value=path.value((at - self.window_start).total_seconds() / span),
                        confidence=confidence(rng),
                        what_moved=rng.choice(org.text["what_moved"]), effective_at=at,
                        created_at=at + timedelta(minutes=rng.randrange(1, 90)),
                    )
                )  # fmt: skip
        CheckIn.objects.bulk_create(rows)
        org.counts["check-ins"] = len(rows)

    # --- review cycle -----------------------------------------------------------------------

    def _review_cycle(self, org: _Org, quarter: Cycle) -> None:
        review_cycle = review_cycle_create(
            actor=org.admin, cycle=quarter, kind=ReviewCycle.Kind.CHECKIN_REVIEW,
            name=org.text["review"].format(quarter=quarter.name), opens_on=self.anchor,
            due_on=self.anchor + timedelta(days=REVIEW_DUE_DAYS),
        )  # fmt: skip
        review_cycle_open(review_cycle=review_cycle, actor=org.admin)
        org.counts["reviews"] = Review.objects.filter(review_cycle=review_cycle).count()


def _definition(rng: random.Random) -> tuple[str, float | None, float | None, float | None, float | None]:
    """kind, start, target, low, high: valid per scoring.key_result_errors."""
    draw = rng.random()
    kind = next(k for k, cumulative in KR_KINDS if draw < cumulative)
    if kind == scoring.INCREASE:
        start = float(rng.randrange(10, 500))
        return kind, start, start + rng.randrange(10, 500), None, None
    if kind == scoring.DECREASE:
        start = float(rng.randrange(50, 1000))
        return kind, start, float(round(start * rng.uniform(0.2, 0.8))), None, None
    if kind == scoring.STAY_ABOVE:  # start: where it is; target: the floor
        start = float(rng.randrange(60, 200))
        return kind, start, float(round(start * rng.uniform(0.7, 0.95))), None, None
    if kind == scoring.STAY_BELOW:  # target: the ceiling
        start = float(rng.randrange(20, 100))
        return kind, start, float(round(start * rng.uniform(1.05, 1.5))), None, None
    if kind == scoring.STAY_BETWEEN:
        low = float(rng.randrange(0, 100))
        return kind, None, None, low, low + rng.randrange(5, 50)
    return kind, 0.0, 1.0, None, None  # milestone, stored as key_result_create does


KR_TITLES = {
    "en": {
        scoring.INCREASE: "{metric} from {start:g} to {target:g}",
        scoring.DECREASE: "{metric} down from {start:g} to {target:g}",
        scoring.STAY_ABOVE: "{metric} stays above {target:g}",
        scoring.STAY_BELOW: "{metric} stays below {target:g}",
        scoring.STAY_BETWEEN: "{metric} stays between {low:g} and {high:g}",
        scoring.MILESTONE: "{metric}: milestone reached",
    },
    "zh-hans": {
        scoring.INCREASE: "{metric}从 {start:g} 提升到 {target:g}",
        scoring.DECREASE: "{metric}从 {start:g} 降到 {target:g}",
        scoring.STAY_ABOVE: "{metric}保持在 {target:g} 以上",
        scoring.STAY_BELOW: "{metric}保持在 {target:g} 以下",
        scoring.STAY_BETWEEN: "{metric}保持在 {low:g} 到 {high:g} 之间",
        scoring.MILESTONE: "{metric}里程碑达成",
    },
}
