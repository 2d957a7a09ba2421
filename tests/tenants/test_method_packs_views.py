"""The method pack pages of the consultant portal: library, create, pack page, publish
(maintainer only), apply to one of my clients; YAML errors shown and nothing changed;
query counts that do not grow with packs, versions or clients."""

from __future__ import annotations

import copy

import pytest
from django.test import Client
from django_tenants.utils import tenant_context

from accounts.models import User
from okrs.models import OkrSettings
from okrs.models_method import AppliedMethodPack, ObjectiveTemplate
from reviews.models import ReviewSettings
from tenants.demo import CONSULTANT
from tenants.method_packs import method_pack_apply, method_pack_create, method_pack_publish
from tenants.models import (
    ConsultantAssignment,
    MethodPack,
    MethodPackApplication,
    MethodPackVersion,
    PlatformEvent,
)
from tenants.pack_content import STARTER_CONTENT, pack_content_to_yaml
from tests.factories import UserFactory
from tests.web import get_counting

pytestmark = pytest.mark.django_db

CONTENT = {
    "templates": [
        {
            "key": "grow",
            "function": "sales",
            "title": "Grow revenue",
            "description": "",
            "key_results": [{"title": "New customers", "kind": "increase", "start": 0, "target": 20}],
        }
    ],
    "checkin_questions": ["What moved?"],
    "cadence": "weekly",
}


@pytest.fixture
def coach() -> User:
    """The demo consultant, with no client until a test assigns one (whatever the demo did)."""
    coach = User.objects.get(email=CONSULTANT)
    ConsultantAssignment.objects.filter(consultant=coach).delete()
    return coach


@pytest.fixture
def other_consultant() -> User:
    return UserFactory(email="h2.views.coach@platform.example", role=User.Role.CONSULTANT)


@pytest.fixture
def coach_client(public_client: Client, coach) -> Client:
    public_client.force_login(coach)
    return public_client


@pytest.fixture
def other_client(other_consultant) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(other_consultant)
    return client


@pytest.fixture
def acme_assigned(acme, coach):
    ConsultantAssignment.objects.create(organization=acme, consultant=coach)
    with tenant_context(acme):  # the method settings as a fresh organisation has them
        OkrSettings.objects.filter(pk=1).delete()
        ReviewSettings.objects.filter(pk=1).update(review_prompts=[])
    return acme


def make_pack(owner: User, slug: str, versions: int = 1) -> MethodPack:
    pack = method_pack_create(
        slug=slug, name=f"Pack {slug}", content=copy.deepcopy(CONTENT), owner=owner, actor=owner
    )
    for number in range(2, versions + 1):
        method_pack_publish(
            pack=pack,
            content={**CONTENT, "checkin_questions": [f"Q{number}"]},
            notes=f"v{number}",
            actor=owner,
        )
    return pack


def public_state() -> dict:
    return {
        "packs": list(MethodPack.objects.order_by("id").values()),
        "versions": list(MethodPackVersion.objects.order_by("id").values()),
        "applications": list(MethodPackApplication.objects.order_by("id").values()),
        "events": list(PlatformEvent.objects.order_by("id").values()),
    }


def tenant_state(organization) -> dict:
    with tenant_context(organization):
        return {
            "templates": list(ObjectiveTemplate.objects.order_by("id").values()),
            "applied": list(AppliedMethodPack.objects.order_by("id").values()),
        }


# --- Access -------------------------------------------------------------------------------------------


def test_pages_are_for_consultants(public_client, coach):
    pack = make_pack(coach, "access")
    assert public_client.get("/portal/packs/").status_code == 302
    member = UserFactory(email="h2.member@platform.example")
    public_client.force_login(member)
    for url in ("/portal/packs/", "/portal/packs/new/", f"/portal/packs/{pack.slug}/"):
        assert public_client.get(url).status_code == 403
    assert public_client.post(f"/portal/packs/{pack.slug}/apply/", {}).status_code == 403


def test_unknown_pack_and_version_are_404(coach_client, coach):
    make_pack(coach, "known")
    assert coach_client.get("/portal/packs/unknown/").status_code == 404
    assert coach_client.get("/portal/packs/known/?version=9").status_code == 404
    assert coach_client.get("/portal/packs/known/?version=x").status_code == 404


# --- Library ------------------------------------------------------------------------------------------


def test_library_lists_packs_with_my_clients_in_constant_queries(
    coach_client, coach, other_consultant, acme_assigned, globex
):
    first = make_pack(coach, "first", versions=2)
    method_pack_apply(organization=acme_assigned, version=first.versions.get(number=1), actor=coach)
    # Applied to globex, which is not my client: never shown to me.
    ConsultantAssignment.objects.create(organization=globex, consultant=other_consultant)
    method_pack_apply(organization=globex, version=first.versions.get(number=2), actor=other_consultant)

    response, few = get_counting(coach_client, "/portal/packs/")
    assert response.status_code == 200
    rows = response.content.decode()
    assert 'data-pack="first"' in rows
    assert 'data-client="acme"' in rows
    assert 'data-client="globex"' not in rows
    assert "Acme Corp · v1 · older" in rows

    for n in range(5):
        pack = make_pack(other_consultant, f"more-{n}", versions=2)
        method_pack_apply(organization=acme_assigned, version=pack.versions.get(number=2), actor=coach)
    response, many = get_counting(coach_client, "/portal/packs/")
    assert response.content.decode().count('data-testid="pack-row"') == MethodPack.objects.count()
    assert few == many == 7  # host and session (5), packs, applications


# --- Create -------------------------------------------------------------------------------------------


def test_create_page_is_prefilled_with_the_starter_pack(coach_client):
    response = coach_client.get("/portal/packs/new/")
    assert response.status_code == 200
    assert response.context["form"]["content"].value() == pack_content_to_yaml(STARTER_CONTENT)


def test_create_a_pack(coach_client, coach):
    response = coach_client.post(
        "/portal/packs/new/",
        {
            "name": "Sales basics",
            "slug": "sales-basics",
            "description": "",
            "content": pack_content_to_yaml(CONTENT),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/portal/packs/sales-basics/"
    pack = MethodPack.objects.get(slug="sales-basics")
    assert (pack.name, pack.owner) == ("Sales basics", coach)
    assert list(pack.versions.values_list("number", "content")) == [(1, CONTENT)]


def test_create_with_a_yaml_error_shows_the_line_and_creates_nothing(coach_client):
    before = public_state()
    text = "templates:\n  - key: grow\n    title: [oops\n"
    response = coach_client.post(
        "/portal/packs/new/", {"name": "Broken", "slug": "broken", "description": "", "content": text}
    )
    assert response.status_code == 422
    errors = response.context["form"].errors["content"]
    assert len(errors) == 1
    assert errors[0].startswith("YAML error on line 4, column 1:")
    assert 'data-testid="field-error-content"' in response.content.decode()
    assert public_state() == before


def test_create_with_invalid_content_lists_every_problem(coach_client):
    before = public_state()
    content = {"cadence": "daily", "thresholds": {"at_risk_gap": 0.5, "off_track_gap": 0.2}}
    response = coach_client.post(
        "/portal/packs/new/",
        {"name": "Bad", "slug": "bad", "description": "", "content": pack_content_to_yaml(content)},
    )
    assert response.status_code == 422
    assert response.context["form"].errors["content"] == [
        "Thresholds: they must satisfy 0 < at_risk_gap < off_track_gap ≤ 1.",
        "Cadence: choose one of weekly, biweekly, monthly.",
    ]
    assert public_state() == before


def test_create_with_a_taken_or_reserved_slug_is_refused(coach_client, coach):
    make_pack(coach, "taken")
    before = public_state()
    for slug in ("taken", "new"):
        response = coach_client.post(
            "/portal/packs/new/",
            {"name": "Again", "slug": slug, "description": "", "content": pack_content_to_yaml(CONTENT)},
        )
        assert response.status_code == 422
        assert list(response.context["form"].errors) == ["slug"]
    assert public_state() == before


# --- Pack page ----------------------------------------------------------------------------------------


def test_pack_page_shows_the_latest_content_history_and_my_clients(coach_client, coach, acme_assigned):
    pack = method_pack_create(
        slug="starter", name="Starter", content=STARTER_CONTENT, owner=coach, actor=coach
    )
    method_pack_apply(organization=acme_assigned, version=pack.versions.get(), actor=coach)
    response = coach_client.get("/portal/packs/starter/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-testid="template"') == len(STARTER_CONTENT["templates"])
    assert page.count('data-testid="template-group"') == 6
    assert "Qualified pipeline at 3× the quarterly target" in page
    assert "from 150 % to 300 %" in page
    assert "stay between 6 and 10" in page
    assert 'Cost to serve per customer per month <span class="muted">— from 120 EUR to 95 EUR' in page
    assert STARTER_CONTENT["checkin_questions"][0] in page
    assert STARTER_CONTENT["review_prompts"][0] in page
    assert "Weekly" in page
    assert 'data-testid="pack-publish-link"' in page
    assert 'data-client="acme"' in page
    assert response.context["apply_form"].fields["organization"].choices == [
        ("", "Choose a client"), (acme_assigned.pk, "Acme Corp"),
    ]  # fmt: skip


def test_pack_page_queries_do_not_grow_with_versions_or_clients(coach_client, coach, acme_assigned, globex):
    pack = make_pack(coach, "counted")
    method_pack_apply(organization=acme_assigned, version=pack.versions.get(), actor=coach)
    _response, few = get_counting(coach_client, "/portal/packs/counted/")
    for number in range(2, 7):
        method_pack_publish(
            pack=pack, content={**CONTENT, "cadence": ["monthly", "biweekly"][number % 2]}, actor=coach
        )
    ConsultantAssignment.objects.create(organization=globex, consultant=coach)
    method_pack_apply(organization=globex, version=pack.versions.get(number=6), actor=coach)
    response, many = get_counting(coach_client, "/portal/packs/counted/")
    assert response.content.decode().count('data-testid="version-row"') == 6
    assert response.content.decode().count("data-client=") == 2
    # host and session (5), pack, versions, my clients using it, my serving clients (the apply form)
    assert few == many == 9


def test_an_older_version_can_be_shown(coach_client, coach):
    make_pack(coach, "older", versions=2)
    response = coach_client.get("/portal/packs/older/?version=1")
    assert response.context["shown"].number == 1
    assert "What moved?" in response.content.decode()


def test_other_consultants_do_not_get_the_publish_link(other_client, coach):
    make_pack(coach, "theirs")
    page = other_client.get("/portal/packs/theirs/").content.decode()
    assert 'data-testid="pack-publish-link"' not in page
    assert 'data-testid="apply-no-clients"' in page


# --- Publish ------------------------------------------------------------------------------------------


def test_only_the_maintainer_publishes(other_client, coach):
    pack = make_pack(coach, "guarded")
    before = public_state()
    assert other_client.get("/portal/packs/guarded/publish/").status_code == 403
    response = other_client.post(
        "/portal/packs/guarded/publish/",
        {"content": pack_content_to_yaml({**CONTENT, "cadence": "monthly"}), "notes": "mine now"},
    )
    assert response.status_code == 403
    assert public_state() == before
    assert pack.versions.count() == 1


def test_maintainer_publishes_a_new_version(coach_client, coach):
    pack = make_pack(coach, "mine")
    response = coach_client.get("/portal/packs/mine/publish/")
    assert response.status_code == 200
    assert response.context["form"]["content"].value() == pack_content_to_yaml(CONTENT)
    response = coach_client.post(
        "/portal/packs/mine/publish/",
        {"content": pack_content_to_yaml({**CONTENT, "cadence": "monthly"}), "notes": "Monthly now"},
    )
    assert response.status_code == 302
    assert list(pack.versions.order_by("number").values_list("number", "notes")) == [
        (1, ""),
        (2, "Monthly now"),
    ]


def test_publish_with_a_yaml_error_or_the_same_content_changes_nothing(coach_client, coach):
    make_pack(coach, "careful")
    before = public_state()
    response = coach_client.post(
        "/portal/packs/careful/publish/", {"content": "cadence: [weekly\n", "notes": ""}
    )
    assert response.status_code == 422
    assert response.context["form"].errors["content"][0].startswith("YAML error on line 2, column 1:")
    response = coach_client.post(
        "/portal/packs/careful/publish/", {"content": pack_content_to_yaml(CONTENT), "notes": "same"}
    )
    assert response.status_code == 422
    assert response.context["form"].errors["content"] == [
        "This is the same content as version 1: change something before publishing."
    ]
    assert public_state() == before


# --- Apply --------------------------------------------------------------------------------------------


def test_apply_to_my_client_shows_the_counts_and_what_was_kept(coach_client, coach, acme_assigned):
    pack = make_pack(coach, "applied")
    with tenant_context(acme_assigned):
        ObjectiveTemplate.objects.filter(pack_slug="applied").delete()
        AppliedMethodPack.objects.filter(pack_slug="applied").delete()
    version = pack.versions.get()
    response = coach_client.post(
        "/portal/packs/applied/apply/", {"organization": acme_assigned.pk, "version": version.pk}
    )
    application = MethodPackApplication.objects.get(organization=acme_assigned, version=version)
    assert response.status_code == 302
    assert response["Location"] == f"/portal/packs/applied/?applied={application.pk}"
    with tenant_context(acme_assigned):
        assert list(
            ObjectiveTemplate.objects.filter(pack_slug="applied").values_list("pack_key", flat=True)
        ) == ["grow"]
        template = ObjectiveTemplate.objects.get(pack_slug="applied")
        template.title = "Grow revenue, our way"
        template.save()

    second = method_pack_publish(
        pack=pack,
        content={**CONTENT, "templates": [{**CONTENT["templates"][0], "title": "Grow v2"}]},
        actor=coach,
    )
    response = coach_client.post(
        "/portal/packs/applied/apply/", {"organization": acme_assigned.pk, "version": second.pk}, follow=True
    )
    page = response.content.decode()
    assert 'data-testid="apply-result"' in page
    assert '<dd data-count="kept">1</dd>' in page
    assert "Template “grow”" in page
    messages = [str(m) for m in response.context["messages"]]
    assert messages[-1:] == [
        "“Pack applied” version 2 applied to Acme Corp: 0 added, 0 updated, 2 unchanged, "
        "1 kept as the client changed them, 0 removed."
    ]


def test_apply_to_a_client_not_mine_is_refused_and_changes_nothing(coach_client, coach, globex):
    pack = make_pack(coach, "not-mine")
    before = public_state(), tenant_state(globex)
    response = coach_client.post(
        "/portal/packs/not-mine/apply/", {"organization": globex.pk, "version": pack.versions.get().pk}
    )
    assert response.status_code == 422
    assert list(response.context["apply_form"].errors) == ["organization"]
    assert (public_state(), tenant_state(globex)) == before


def test_another_consultants_result_is_not_shown(coach_client, coach, other_consultant, globex):
    pack = make_pack(coach, "private-result")
    ConsultantAssignment.objects.create(organization=globex, consultant=other_consultant)
    application = method_pack_apply(organization=globex, version=pack.versions.get(), actor=other_consultant)
    page = coach_client.get(f"/portal/packs/private-result/?applied={application.pk}").content.decode()
    assert 'data-testid="apply-result"' not in page
    assert "Globex" not in page


# --- Admin --------------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(demo_password) -> Client:
    client = Client(HTTP_HOST="localhost")
    assert client.login(username="admin@platform.example", password=demo_password)
    return client


def test_admin_adds_a_pack_through_the_service(staff_client, coach):
    response = staff_client.get("/admin/tenants/methodpack/add/")
    assert response.status_code == 200
    assert response.context["adminform"].form["content"].value() == pack_content_to_yaml(STARTER_CONTENT)
    response = staff_client.post(
        "/admin/tenants/methodpack/add/",
        {
            "slug": "admin-pack", "name": "Admin pack", "description": "", "owner": coach.pk,
            "content": pack_content_to_yaml(CONTENT), "notes": "First",
            "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0",
        },
    )  # fmt: skip
    assert response.status_code == 302
    pack = MethodPack.objects.get(slug="admin-pack")
    staff = User.objects.get(email="admin@platform.example")
    assert (pack.name, pack.owner) == ("Admin pack", coach)
    assert list(pack.versions.values_list("number", "notes", "created_by", "content")) == [
        (1, "First", staff.pk, CONTENT)
    ]


def test_admin_publishes_a_changed_content_as_the_next_version(staff_client, coach):
    pack = make_pack(coach, "admin-edit")
    url = f"/admin/tenants/methodpack/{pack.pk}/change/"
    form = {
        "name": "Renamed", "description": "Now described", "owner": coach.pk, "notes": "",
        "content": pack_content_to_yaml(CONTENT),
        "versions-TOTAL_FORMS": "1", "versions-INITIAL_FORMS": "1",
        "versions-0-id": pack.versions.get().pk, "versions-0-pack": pack.pk,
    }  # fmt: skip
    assert staff_client.post(url, form).status_code == 302  # same content: no new version
    pack.refresh_from_db()
    assert (pack.name, pack.description, pack.versions.count()) == ("Renamed", "Now described", 1)

    changed = {**form, "content": pack_content_to_yaml({**CONTENT, "cadence": "monthly"}), "notes": "Monthly"}
    assert staff_client.post(url, changed).status_code == 302
    assert list(pack.versions.order_by("number").values_list("number", "notes")) == [(1, ""), (2, "Monthly")]


def test_admin_shows_yaml_and_field_errors_and_changes_nothing(staff_client, coach):
    pack = make_pack(coach, "admin-bad")
    before = public_state()
    response = staff_client.post(
        f"/admin/tenants/methodpack/{pack.pk}/change/",
        {
            "name": "", "description": "", "owner": coach.pk, "notes": "", "content": "cadence: [weekly\n",
            "versions-TOTAL_FORMS": "1", "versions-INITIAL_FORMS": "1",
            "versions-0-id": pack.versions.get().pk, "versions-0-pack": pack.pk,
        },
    )  # fmt: skip
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["name"] == ["This field is required."]
    assert errors["content"][0].startswith("YAML error on line 2, column 1:")
    response = staff_client.post(
        "/admin/tenants/methodpack/add/",
        {
            "slug": "admin-bad", "name": "Dup", "description": "", "owner": "", "notes": "",
            "content": pack_content_to_yaml(CONTENT),
            "versions-TOTAL_FORMS": "0", "versions-INITIAL_FORMS": "0",
        },
    )  # fmt: skip
    assert response.context["adminform"].form.errors == {
        "slug": ["A method pack with the short name “admin-bad” exists already."]
    }
    assert public_state() == before


def test_admin_lists_applications_read_only(staff_client, coach, acme_assigned):
    pack = make_pack(coach, "admin-applied")
    application = method_pack_apply(organization=acme_assigned, version=pack.versions.get(), actor=coach)
    response = staff_client.get("/admin/tenants/methodpackapplication/")
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [application]
    assert "3 added, 0 updated, 0 unchanged, 0 kept, 0 removed" in response.content.decode()
    assert staff_client.get("/admin/tenants/methodpackapplication/add/").status_code == 403
    assert staff_client.get("/admin/tenants/methodpack/").status_code == 200
