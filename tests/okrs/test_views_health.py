"""The OKR health dashboard: per-dimension progress and status, check-in discipline,
the team × status heatmap and the at-risk list — for managers, org admins and consultants,
counting only objectives the viewer may see, in a constant number of queries."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Team, User
from accounts.services import user_create
from okrs.models import Cycle, Objective
from okrs.services.check_ins import check_in_record
from okrs.services.cycles import cycle_activate, cycle_create
from okrs.services.objectives import key_result_create, objective_create
from tests.web import get_counting, sign_in

pytestmark = pytest.mark.django_db

# Demo data, signed in as the org admin / as a manager (the same: a manager's reporting lines
# are a subquery of the visibility filter).
QUERIES_CEO = 13
QUERIES_MANAGER = 13


def in_acme(acme, fn):
    with tenant_context(acme):
        result = fn()
    connection.set_schema_to_public()
    return result


def parse(html: str) -> SimpleNamespace:
    """The dashboard's figures, read from its data attributes."""
    dimensions = {}
    for block in html.split('data-testid="health-dimension"')[1:]:
        name, total = re.match(r' data-dimension="(\w+)" data-total="(\d+)"', block).groups()
        statuses = block.split("</ul>")[0]
        counts = {s: int(n) for s, n in re.findall(r'<li data-status="(\w+)" data-count="(\d+)"', statuses)}
        dimensions[name] = (int(total), {s: n for s, n in counts.items() if n})
    heatmap = {}
    for row in re.findall(r'<tr data-testid="heatmap-row" data-team="(\d*)">(.*?)</tr>', html, flags=re.S):
        cells = {
            s: int(n) for s, n in re.findall(r'data-status="(\w+)" data-count="(\d+)"', row[1]) if int(n)
        }
        heatmap[int(row[0]) if row[0] else None] = cells
    discipline = [
        (int(team) if team else None, int(on_time), int(total))
        for team, on_time, total in re.findall(
            r'data-testid="discipline-row" data-team="(\d*)" data-on-time="(\d+)" data-total="(\d+)"', html
        )
    ]
    at_risk = [
        (kind, int(pk), status)
        for kind, pk, status in re.findall(
            r'data-testid="at-risk-row" data-kind="(\w+)" data-pk="(\d+)" data-status="(\w+)"', html
        )
    ]
    total = re.search(r'data-testid="health-total">(\d+)<', html)
    return SimpleNamespace(
        dimensions=dimensions,
        heatmap=heatmap,
        discipline=discipline,
        at_risk=at_risk,
        total=int(total.group(1)) if total else None,
    )


@pytest.fixture
def scenario(acme) -> SimpleNamespace:
    """A cycle half-way through (so pace is ~50%) with known statuses:

    - Platform, customer value: on track (60%); one KR checked in today, one 20 days ago (late).
    - Growth, financial return: off track (10%).
    - Growth, customer value, PRIVATE (the analyst's): at risk (30%).
    - Sales, technology moat: not started (never checked in).
    - Platform, operational excellence: a draft — not counted anywhere.
    """

    def make():
        people = {u.email.split("@")[0]: u for u in User.objects.select_related("team")}
        ceo = people["ceo"]
        today = timezone.localdate()
        cycle = cycle_create(
            actor=ceo, name="Health test", kind="custom", start_date=today - timedelta(days=45),
            end_date=today + timedelta(days=44),
        )  # fmt: skip
        cycle = cycle_activate(cycle=cycle, actor=ceo)

        def objective(owner, title, dimension, values, *, visibility="organization", state="active"):
            person = people[owner]
            made = objective_create(
                actor=ceo, cycle=cycle, owner=person, title=title, team=person.team,
                health_dimension=dimension, visibility=visibility, state=state,
            )  # fmt: skip
            krs = []
            for n, (value, days_ago) in enumerate(values):
                kr = key_result_create(
                    actor=ceo, objective=made, title=f"{title} KR{n}", kind="increase", start=0, target=100
                )
                if value is not None:
                    check_in_record(
                        key_result=kr, actor=person, value=value, confidence=5 + n,
                        recorded_at=timezone.now() - timedelta(days=days_ago),
                    )  # fmt: skip
                krs.append(kr)
            made.refresh_from_db()
            return made, krs

        platform, _ = objective("platform.lead", "Platform", "customer_value", [(60, 0), (60, 20)])
        growth, (growth_kr,) = objective("growth.lead", "Growth", "financial_return", [(10, 0)])
        private, (private_kr,) = objective(
            "analyst", "Private", "customer_value", [(30, 0)], visibility="private"
        )
        sales, _ = objective("sales.lead", "Sales", "technology_moat", [(None, 0)])
        objective("sre", "Draft", "operational_excellence", [(None, 0)], state="draft")
        teams = {t.name: t.pk for t in Team.objects.all()}
        return SimpleNamespace(
            cycle=cycle, platform=platform, growth=growth, growth_kr=growth_kr, private=private,
            private_kr=private_kr, sales=sales, teams=teams, url=f"/health/?cycle={cycle.pk}",
        )  # fmt: skip

    return in_acme(acme, make)


def test_statuses_of_the_scenario(scenario):
    assert scenario.platform.status == "on_track"
    assert scenario.growth.status == "off_track"
    assert scenario.private.status == "at_risk"
    assert scenario.sales.status == "not_started"


def test_org_admin_sees_every_figure(acme, acme_client, scenario):
    sign_in(acme_client, acme, "ceo@acme.example")
    response, queries = get_counting(acme_client, scenario.url)
    assert response.status_code == 200
    assert queries == QUERIES_CEO
    html = response.content.decode()
    page = parse(html)
    teams = scenario.teams
    assert page.total == 4  # the draft is not counted
    assert page.dimensions == {
        "customer_value": (2, {"on_track": 1, "at_risk": 1}),
        "technology_moat": (1, {"not_started": 1}),
        "financial_return": (1, {"off_track": 1}),
        "operational_excellence": (0, {}),
    }
    assert page.heatmap == {
        teams["Growth"]: {"at_risk": 1, "off_track": 1},
        teams["Platform"]: {"on_track": 1},
        teams["Sales"]: {"not_started": 1},
    }
    # Least disciplined first: Sales never checked in, Platform has one late KR.
    assert page.discipline == [(teams["Sales"], 0, 1), (teams["Platform"], 1, 2), (teams["Growth"], 2, 2)]
    # Off track before at risk; an objective before its KR when equally behind.
    assert page.at_risk == [
        ("objective", scenario.growth.pk, "off_track"),
        ("key_result", scenario.growth_kr.pk, "off_track"),
        ("objective", scenario.private.pk, "at_risk"),
        ("key_result", scenario.private_kr.pk, "at_risk"),
    ]
    assert f'href="/objectives/{scenario.growth.pk}/#kr-{scenario.growth_kr.pk}"' in html
    # The average progress of customer value: (60% + 30%) / 2.
    assert 'aria-valuenow="45" aria-label="Average progress: Customer value"' in html


def test_private_objectives_are_not_counted_for_a_manager_who_may_not_see_them(acme, acme_client, scenario):
    sign_in(acme_client, acme, "platform.lead@acme.example")
    response, queries = get_counting(acme_client, scenario.url)
    assert response.status_code == 200
    assert queries == QUERIES_MANAGER
    html = response.content.decode()
    page = parse(html)
    assert page.total == 3
    assert page.dimensions["customer_value"] == (1, {"on_track": 1})
    assert page.heatmap[scenario.teams["Growth"]] == {"off_track": 1}
    assert (scenario.teams["Growth"], 1, 1) in page.discipline
    assert [pk for _, pk, _ in page.at_risk] == [scenario.growth.pk, scenario.growth_kr.pk]
    assert "Private" not in html


def test_the_analysts_manager_counts_the_private_objective(acme, acme_client, scenario):
    sign_in(acme_client, acme, "growth.lead@acme.example")
    page = parse(acme_client.get(scenario.url).content.decode())
    assert page.total == 4
    assert page.dimensions["customer_value"] == (2, {"on_track": 1, "at_risk": 1})


def test_team_filter_includes_the_teams_below(acme, acme_client, scenario):
    sign_in(acme_client, acme, "ceo@acme.example")
    engineering = scenario.teams["Product & Engineering"]
    page = parse(acme_client.get(f"{scenario.url}&team={engineering}").content.decode())
    assert page.total == 3
    assert set(page.heatmap) == {scenario.teams["Growth"], scenario.teams["Platform"]}
    page = parse(acme_client.get(f"{scenario.url}&team={scenario.teams['Platform']}").content.decode())
    assert page.total == 1
    assert page.at_risk == []


def test_bad_parameters_fall_back_to_the_defaults(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    default = parse(acme_client.get("/health/").content.decode())
    for query in ["?cycle=abc&team=x", "?cycle=999999&team=999999", "?cycle=-1"]:
        response = acme_client.get(f"/health/{query}")
        assert response.status_code == 200
        assert parse(response.content.decode()) == default


def test_demo_dashboard_for_the_org_admin_and_a_manager(acme, acme_client):
    def expected():
        today = timezone.localdate()
        cycle = Cycle.objects.filter(kind="quarter", start_date__lte=today, end_date__gte=today).get()
        return Objective.objects.filter(cycle=cycle, state="active").count()

    active = in_acme(acme, expected)
    for email, queries_expected in [("ceo@acme.example", QUERIES_CEO), ("cto@acme.example", QUERIES_MANAGER)]:
        sign_in(acme_client, acme, email)
        response, queries = get_counting(acme_client, "/health/")
        assert response.status_code == 200
        assert queries == queries_expected
        html = response.content.decode()
        for part in ["summary", "dimensions", "discipline", "heatmap", "at-risk", "filters"]:
            assert f'data-testid="health-{part}"' in html
        page = parse(html)
        assert page.total == active
        assert sum(total for total, _ in page.dimensions.values()) == active
        assert sum(sum(cells.values()) for cells in page.heatmap.values()) == active


@pytest.mark.parametrize(
    ("email", "status"),
    [
        ("ceo@acme.example", 200),
        ("cto@acme.example", 200),
        ("cs.lead@acme.example", 200),
        ("analyst@acme.example", 403),
        ("sre@acme.example", 403),
        ("board@acme.example", 403),
    ],
)
def test_only_managers_admins_and_consultants(acme, acme_client, email, status):
    sign_in(acme_client, acme, email)
    assert acme_client.get("/health/").status_code == status


def test_a_consultant_may_open_it(acme, acme_client):
    in_acme(
        acme,
        lambda: user_create(
            email="coach@acme.example", full_name="Coach", role=User.Role.CONSULTANT, actor=None
        ),
    )
    sign_in(acme_client, acme, "coach@acme.example")
    assert acme_client.get("/health/").status_code == 200


def test_needs_sign_in(acme_client):
    assert acme_client.get("/health/").status_code == 302


def test_nav_link_only_for_those_who_may_open_it(acme, acme_client):
    sign_in(acme_client, acme, "analyst@acme.example")
    assert b'href="/health/"' not in acme_client.get("/kpis/").content
    sign_in(acme_client, acme, "cto@acme.example")
    assert b'href="/health/"' in acme_client.get("/kpis/").content


def test_empty_cycle(acme, acme_client):
    def make():
        ceo = User.objects.get(email="ceo@acme.example")
        today = timezone.localdate()
        return cycle_create(
            actor=ceo, name="Empty", kind="custom", start_date=today, end_date=today + timedelta(days=30)
        )

    cycle = in_acme(acme, make)
    sign_in(acme_client, acme, "ceo@acme.example")
    response = acme_client.get(f"/health/?cycle={cycle.pk}")
    assert response.status_code == 200
    assert b'data-testid="health-empty"' in response.content
    assert b'data-testid="health-heatmap"' not in response.content
    assert b'data-testid="health-filters"' in response.content  # another cycle can be picked


def test_no_cycle_at_all(acme, acme_client, monkeypatch):
    monkeypatch.setattr("okrs.views.health.cycles_for_picker", list)
    sign_in(acme_client, acme, "ceo@acme.example")
    response = acme_client.get("/health/")
    assert response.status_code == 200
    assert b'data-testid="health-no-cycle"' in response.content
    assert b'href="/settings/cycles/"' in response.content  # the org admin may create one
    sign_in(acme_client, acme, "cto@acme.example")
    response = acme_client.get("/health/")
    assert b'data-testid="health-no-cycle"' in response.content
    assert b'href="/settings/cycles/"' not in response.content


def add_objectives(acme, cycle: Cycle, count: int, *, start: int) -> None:
    """``count`` active objectives spread over owners, teams, dimensions and paces, each
    with a KR checked in (some late, some never); a third of them private."""

    def make():
        people = list(User.objects.exclude(role=User.Role.VIEWER).select_related("team").order_by("id"))
        ceo = next(p for p in people if p.is_org_admin)
        dimensions = Objective.HealthDimension.values
        for n in range(start, start + count):
            owner = people[n % len(people)]
            objective = objective_create(
                actor=ceo, cycle=cycle, owner=owner, title=f"Load objective {n:03}", team=owner.team,
                health_dimension=dimensions[n % 4], state="active",
                visibility="private" if n % 3 == 0 else "organization",
            )  # fmt: skip
            kr = key_result_create(
                actor=ceo, objective=objective, title=f"Load KR {n:03}", kind="increase", start=0, target=100
            )
            if n % 5:
                check_in_record(
                    key_result=kr, actor=owner, value=(n * 7) % 100, confidence=n % 11,
                    recorded_at=timezone.now() - timedelta(days=n % 30),
                )  # fmt: skip

    in_acme(acme, make)


def test_query_count_does_not_grow_with_the_number_of_objectives(acme, acme_client, scenario):
    cycle = scenario.cycle
    add_objectives(acme, cycle, 16, start=0)  # 4 of the scenario + 16 = 20
    counts = {}
    for email in ["ceo@acme.example", "cto@acme.example"]:
        sign_in(acme_client, acme, email)
        response, counts[email] = get_counting(acme_client, scenario.url)
        assert response.status_code == 200
    assert counts == {"ceo@acme.example": QUERIES_CEO, "cto@acme.example": QUERIES_MANAGER}
    sign_in(acme_client, acme, "ceo@acme.example")
    assert parse(acme_client.get(scenario.url).content.decode()).total == 20
    add_objectives(acme, cycle, 180, start=16)  # 200
    for email in ["ceo@acme.example", "cto@acme.example"]:
        sign_in(acme_client, acme, email)
        response, queries = get_counting(acme_client, scenario.url)
        assert response.status_code == 200
        assert queries == counts[email]
        page = parse(response.content.decode())
        assert len(page.at_risk) <= 50
    sign_in(acme_client, acme, "ceo@acme.example")
    page = parse(acme_client.get(scenario.url).content.decode())
    assert page.total == 200
    assert len(page.at_risk) == 50  # bounded: many more are behind


def test_globex_renders_in_chinese(globex, globex_client):
    sign_in(globex_client, globex, "ceo@globex.example")
    response = globex_client.get("/health/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert 'data-testid="health-heatmap"' in html
    assert parse(html).total > 0
