"""The OKR explorer: the alignment tree of a cycle, filters, visibility, query counts."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.urls import reverse
from django_tenants.utils import tenant_context

from accounts.models import Team, User
from okrs.models import Cycle, Objective
from okrs.selectors.explorer import NODES_PER_PAGE, ExplorerFilters, _walk, explorer_tree
from okrs.selectors.teams import team_subtree_ids
from okrs.services.alignment import alignment_propose
from okrs.services.cycles import cycle_create
from okrs.services.objectives import key_result_create, objective_create
from tests.web import get_counting, htmx, sign_in

pytestmark = pytest.mark.django_db

URL = "/okrs/"
DEMO = {
    "members": "Become the membership programme customers renew without thinking",
    "platform": "Make the platform a technology moat",
    "deploys": "Ship changes safely every day",
    "sre": "Nobody is woken up twice for the same incident",
    "growth": "Grow where customers already love us",
    "cs": "Every customer succeeds in their first 30 days",
    "sales": "Land the enterprise segment",
}

# Exact SQL queries of the company view on the demo data (tenant routing, session, user,
# cycles, teams, people, the cycle's tree structure, the drawn page's objectives, their key
# results, inbox badge; a member's reporting lines are a subquery of the visibility filter).
QUERIES_AS_ADMIN = 12
QUERIES_AS_MEMBER = 12


def _ids(acme) -> dict[str, int]:
    with tenant_context(acme):
        by_title = dict(Objective.objects.values_list("title", "pk"))
    connection.set_schema_to_public()
    return {key: by_title[title] for key, title in DEMO.items()}


def _nodes(html: str):
    """(objective id, id of the tree node containing it or None) for every tree node, in order."""
    stack: list[int | None] = []
    for match in re.finditer(r"<li\b[^>]*>|</li>", html):
        tag = match.group(0)
        if tag == "</li>":
            stack.pop()
            continue
        node = re.search(r'data-testid="tree-node" data-objective="(\d+)"', tag)
        if node:
            parents = [pk for pk in stack if pk is not None]
            yield int(node.group(1)), parents[-1] if parents else None
        stack.append(int(node.group(1)) if node else None)


def _roots(html: str) -> list[int]:
    """Objective ids of the tree's roots, in order."""
    return [pk for pk, parent in _nodes(html) if parent is None]


def _shown(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-testid="tree-node" data-objective="(\d+)"', html)}


def _parent_in_tree(html: str, child: int) -> int | None:
    """The objective id of the tree node that contains ``child`` directly."""
    for pk, parent in _nodes(html):
        if pk == child:
            return parent
    raise AssertionError(f"objective {child} is not in the tree")


# --- Rendering, roles and the tree --------------------------------------------------------------------------


def test_company_view_is_the_alignment_tree_of_the_current_quarter(acme, acme_client):
    ids = _ids(acme)
    sign_in(acme_client, acme, "ceo@acme.example")

    response, queries = get_counting(acme_client, URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert queries == QUERIES_AS_ADMIN
    assert 'data-testid="explorer-summary"' in html
    assert "5 objectives in Q4 2026" in html  # the year's context roots are not counted
    # The year's strategic objectives are the roots above the quarter's objectives.
    assert _roots(html)[:2] == [ids["members"], ids["platform"]]
    assert html.count('data-testid="context-chip"') == 2
    assert _parent_in_tree(html, ids["deploys"]) == ids["platform"]  # through a parent KR
    assert _parent_in_tree(html, ids["sre"]) == ids["deploys"]
    assert _parent_in_tree(html, ids["growth"]) == ids["members"]
    # A proposal not accepted yet does not nest; an unaligned objective is a root too.
    assert _parent_in_tree(html, ids["cs"]) is None
    assert _parent_in_tree(html, ids["sales"]) is None
    # Every node: link, owner, progress, KRs with their progress and check-in buttons.
    assert f'href="/objectives/{ids["sre"]}/"' in html
    assert "Owner: Mei Wang" in html
    assert f'id="objective-{ids["deploys"]}-progress"' in html
    assert html.count('data-testid="tree-kr"') == 16
    assert 'data-testid="node-confidence"' in html
    assert "<details" in html
    assert "<summary>" in html
    assert 'data-testid="check-in-' in html
    assert "<script>" not in html.split("</head>", 1)[1]
    assert " onclick=" not in html


def test_member_view_and_query_count(acme, acme_client):
    sign_in(acme_client, acme, "analyst@acme.example")

    response, queries = get_counting(acme_client, URL)

    assert response.status_code == 200
    assert queries == QUERIES_AS_MEMBER
    html = response.content.decode()
    # A member checks in only where they own the KR or the objective: the analyst owns none.
    assert 'data-testid="check-in-' not in html
    assert 'data-testid="new-objective"' in html


def test_viewer_sees_the_tree_without_any_edit_control(acme, acme_client):
    sign_in(acme_client, acme, "board@acme.example")

    response = acme_client.get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="tree-node"' in html
    assert 'data-testid="check-in-' not in html
    assert 'data-testid="new-objective"' not in html


def test_sign_in_is_required(acme_client):
    response = acme_client.get(URL)

    assert response.status_code == 302
    assert "/login" in response["Location"] or "sign-in" in response["Location"]


def test_an_annual_cycle_shows_its_own_objectives(acme, acme_client):
    ids = _ids(acme)
    with tenant_context(acme):
        year = Cycle.objects.get(kind="annual")
    connection.set_schema_to_public()
    sign_in(acme_client, acme, "ceo@acme.example")

    html = acme_client.get(URL, {"cycle": year.pk}).content.decode()

    assert _shown(html) == {ids["members"], ids["platform"]}
    assert 'data-testid="context-chip"' not in html


# --- Filters ------------------------------------------------------------------------------------------------


def test_search_finds_key_result_titles_and_keeps_the_match_as_a_root(acme, acme_client):
    ids = _ids(acme)
    sign_in(acme_client, acme, "ceo@acme.example")

    html = acme_client.get(URL, {"q": "runbooks"}).content.decode()

    assert _shown(html) == {ids["sre"]}
    assert _roots(html) == [ids["sre"]]
    # Its parent is filtered out, so the node says what it contributes to.
    assert 'data-testid="contributes-to"' in html
    assert f'href="/objectives/{ids["deploys"]}/"' in html
    assert 'data-testid="clear-filters"' in html


def test_search_matches_titles_and_descriptions_case_insensitively(acme, acme_client):
    ids = _ids(acme)
    sign_in(acme_client, acme, "ceo@acme.example")

    html = acme_client.get(URL, {"q": "ENTERPRISE"}).content.decode()

    assert _shown(html) == {ids["sales"]}


def test_status_and_dimension_filters(acme, acme_client):
    ids = _ids(acme)
    with tenant_context(acme):
        at_risk = set(
            Objective.objects.filter(status="at_risk", cycle__kind="quarter").values_list("pk", flat=True)
        )
    connection.set_schema_to_public()
    sign_in(acme_client, acme, "ceo@acme.example")

    by_status = acme_client.get(URL, {"status": "at_risk"}).content.decode()
    by_dimension = acme_client.get(URL, {"dimension": "financial_return"}).content.decode()

    assert _shown(by_status) == at_risk
    assert _shown(by_dimension) == {ids["growth"], ids["sales"]}


def test_team_view_covers_sub_teams_and_defaults_to_my_team(acme, acme_client):
    ids = _ids(acme)
    with tenant_context(acme):
        engineering = Team.objects.get(name="Product & Engineering")
    connection.set_schema_to_public()
    sign_in(acme_client, acme, "sre@acme.example")

    mine = acme_client.get(URL, {"view": "team"}).content.decode()
    engineering_html = acme_client.get(URL, {"view": "team", "team": engineering.pk}).content.decode()

    # sre is in Platform: deploys and sre are Platform's.
    assert _shown(mine) == {ids["deploys"], ids["sre"]}
    assert "Platform · Q4 2026" in mine
    # Product & Engineering has Platform and Growth below it (the CTO's year objective is
    # a context root only above objectives that are shown).
    assert _shown(engineering_html) == {ids["platform"], ids["deploys"], ids["sre"], ids["growth"]}


def test_person_view_defaults_to_me_and_includes_objectives_where_i_own_a_key_result(acme, acme_client):
    ids = _ids(acme)
    with tenant_context(acme):
        ceo, sre = User.objects.get(email="ceo@acme.example"), User.objects.get(email="sre@acme.example")
        sales = Objective.objects.get(pk=ids["sales"])
        key_result_create(actor=ceo, objective=sales, title="Pipeline reviews", kind="milestone", owner=sre)
    connection.set_schema_to_public()
    sign_in(acme_client, acme, "sre@acme.example")

    html = acme_client.get(URL, {"view": "person"}).content.decode()

    assert _shown(html) == {ids["sre"], ids["sales"]}
    assert "Mei Wang · Q4 2026" in html


def test_nothing_matches_offers_to_clear_the_filters(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")

    response = acme_client.get(URL, {"q": "no such objective anywhere"})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="explorer-empty-filters"' in html
    assert 'data-testid="okr-tree"' not in html
    assert re.search(r'href="/okrs/\?cycle=\d+"[^>]*>Clear filters', html)


def test_bad_filter_values_show_an_error_and_fall_back(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")

    response = acme_client.get(URL, {"cycle": "abc", "status": "nonsense", "team": "999999"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="field-error"') == 3
    assert 'aria-invalid="true"' in html
    assert "5 objectives in Q4 2026" in html  # the default cycle, no filter applied


def test_a_cycle_without_objectives_says_what_to_do(acme, acme_client):
    with tenant_context(acme):
        ceo = User.objects.get(email="ceo@acme.example")
        empty = cycle_create(
            actor=ceo, name="Q1 2027", kind="quarter", start_date=date(2027, 1, 1), end_date=date(2027, 3, 31)
        )
    connection.set_schema_to_public()
    sign_in(acme_client, acme, "ceo@acme.example")

    html = acme_client.get(URL, {"cycle": empty.pk}).content.decode()

    assert 'data-testid="explorer-empty-cycle"' in html
    assert f'href="/objectives/new/?cycle={empty.pk}"' in html


def test_no_cycle_yet(acme, acme_client, monkeypatch):
    monkeypatch.setattr("okrs.views.explorer.cycles_for_picker", Cycle.objects.none)
    sign_in(acme_client, acme, "ceo@acme.example")

    html = acme_client.get(URL).content.decode()

    assert 'data-testid="explorer-empty-no-cycle"' in html
    assert f'href="{reverse("settings_cycles", urlconf="config.urls_tenant")}"' in html


def test_htmx_swaps_the_explorer_body_only(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")

    partial = acme_client.get(URL, {"q": "platform"}, **htmx()).content.decode()
    restore = acme_client.get(URL, **htmx(hx_history_restore_request="true")).content.decode()
    full = acme_client.get(URL).content.decode()

    assert partial.startswith('<div id="explorer-body"')
    assert "<html" not in partial
    assert "<html" in restore
    assert 'hx-get="/okrs/"' in full
    assert 'hx-push-url="true"' in full
    assert 'hx-target="#explorer-body"' in full
    assert 'method="get"' in full  # works without JavaScript


# --- Visibility ---------------------------------------------------------------------------------------------


@pytest.fixture
def private_objective(acme):
    """A private objective of sre (Platform team), aligned under the deploys objective."""
    with tenant_context(acme):
        sre = User.objects.get(email="sre@acme.example")
        quarter = Cycle.objects.get(kind="quarter")
        objective = objective_create(
            actor=sre, cycle=quarter, owner=sre, title="Secret pager rework", visibility="private",
            team=sre.team, level="individual", state="active",
        )  # fmt: skip
        key_result_create(actor=sre, objective=objective, title="Pages from 40 to 5", kind="decrease",
                          start=40, target=5)  # fmt: skip
        alignment_propose(
            child=objective, actor=sre, parent_objective=Objective.objects.get(title=DEMO["deploys"])
        )
    connection.set_schema_to_public()
    return objective


@pytest.mark.parametrize(
    ("email", "sees"),
    [
        ("sre@acme.example", True),  # owner
        ("backend@acme.example", True),  # same team
        ("platform.lead@acme.example", True),  # manager
        ("ceo@acme.example", True),  # org admin
        ("analyst@acme.example", False),
        ("board@acme.example", False),
    ],
)
def test_private_objectives_are_invisible_and_do_not_count(acme, acme_client, private_objective, email, sees):
    sign_in(acme_client, acme, email)

    html = acme_client.get(URL).content.decode()
    searched = acme_client.get(URL, {"q": "pager"}).content.decode()

    assert ("Secret pager rework" in html) is sees
    assert ("Pages from 40 to 5" in html) is sees
    assert ("6 objectives in Q4 2026" if sees else "5 objectives in Q4 2026") in html
    assert ("Secret pager rework" in searched) is sees
    if not sees:
        assert 'data-testid="explorer-empty-filters"' in searched


# --- Query counts don't grow with the organisation ----------------------------------------------------------


def _add_objectives(acme, count: int, start: int) -> None:
    with tenant_context(acme):
        ceo = User.objects.get(email="ceo@acme.example")
        people = list(User.objects.filter(is_active=True).exclude(role="viewer").order_by("pk"))
        quarter = Cycle.objects.get(kind="quarter")
        parent = Objective.objects.get(title=DEMO["members"])
        for n in range(start, start + count):
            owner = people[n % len(people)]
            objective = objective_create(
                actor=ceo, cycle=quarter, owner=owner, team=owner.team, title=f"Extra objective {n}",
                visibility="private" if n % 5 == 0 else "organization", state="active",
            )  # fmt: skip
            key_result_create(
                actor=ceo, objective=objective, title=f"Metric {n}", kind="increase", start=0, target=10,
                owner=people[(n + 1) % len(people)],
            )  # fmt: skip
            if n % 2:
                alignment_propose(child=objective, actor=ceo, parent_objective=parent)
    connection.set_schema_to_public()


@pytest.mark.parametrize("email", ["ceo@acme.example", "analyst@acme.example"])
def test_query_count_does_not_grow_with_the_number_of_objectives(acme, acme_client, email):
    sign_in(acme_client, acme, email)
    _add_objectives(acme, 20, 0)
    small, small_queries = get_counting(acme_client, URL)
    _add_objectives(acme, 180, 20)

    large, large_queries = get_counting(acme_client, URL)
    searched, searched_queries = get_counting(acme_client, f"{URL}?q=extra&status=not_started&view=team")

    assert small.content.decode().count('data-testid="tree-node"') >= 20
    assert large.context["tree"].shown >= 200 - 36  # private ones hidden
    # A big tree is paged: every page draws a bounded number of objectives.
    assert large.content.decode().count('data-testid="tree-node"') <= NODES_PER_PAGE
    assert 'data-testid="explorer-pager"' in large.content.decode()
    assert large_queries == small_queries == searched_queries
    assert searched.status_code == 200


def test_every_objective_is_on_exactly_one_page(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    _add_objectives(acme, 150, 0)
    first = acme_client.get(URL)
    tree = first.context["tree"]
    seen, hidden = [], 0
    for page in range(1, tree.pages + 1):
        response = acme_client.get(f"{URL}?page={page}")
        seen += re.findall(r'data-testid="tree-node" data-objective="(\d+)"', response.content.decode())
        hidden += sum(node.hidden_children for node in _walk(response.context["tree"].roots))
    assert tree.pages > 1
    # Drawn once each; a subtree too big for one page says how many it leaves out.
    assert len(seen) == len(set(seen))
    assert len(seen) + hidden >= tree.shown
    assert acme_client.get(f"{URL}?page=999").status_code == 200  # past the end: the last page


# --- Selector -----------------------------------------------------------------------------------------------


def test_team_subtree():
    teams = [
        Team(pk=1, parent_id=None),
        Team(pk=2, parent_id=1),
        Team(pk=3, parent_id=2),
        Team(pk=4, parent_id=None),
    ]

    assert team_subtree_ids(teams, 1) == {1, 2, 3}
    assert team_subtree_ids(teams, 3) == {3}


def test_selector_counts_the_chosen_cycle_only(acme):
    with tenant_context(acme):
        ceo = User.objects.get(email="ceo@acme.example")
        quarter = Cycle.objects.get(kind="quarter")

        tree = explorer_tree(user=ceo, cycle=quarter, filters=ExplorerFilters())

        assert (tree.shown, tree.in_cycle) == (5, 5)
        assert sum(tree.status_counts.values()) == 5
        assert [node.is_context for node in tree.roots[:2]] == [True, True]


# --- Chinese ------------------------------------------------------------------------------------------------


def test_globex_renders_in_chinese(globex, globex_client):
    sign_in(globex_client, globex, "ceo@globex.example")

    response = globex_client.get(URL)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert "每天安全地发布变更" in html  # user content as entered
    assert html.count('data-testid="tree-node"') == 6
