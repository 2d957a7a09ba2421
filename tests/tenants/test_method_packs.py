"""Method packs: content validation (YAML, template rows, thresholds), publishing numbers,
and applying versions to a client without overwriting what the client changed."""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_tenants.utils import tenant_context

from accounts.models import User
from okrs import method as okr_method
from okrs.method import key_result_rows_errors, template_content_hash, template_is_edited
from okrs.models import OkrSettings
from okrs.models_method import AppliedMethodPack, ObjectiveTemplate
from reviews.models import ReviewSettings
from tenants.demo import CONSULTANT
from tenants.method_packs import (
    method_pack_apply,
    method_pack_create,
    method_pack_publish,
    method_pack_update,
)
from tenants.models import (
    ConsultantAssignment,
    MethodPack,
    MethodPackApplication,
    MethodPackVersion,
    PlatformEvent,
)
from tenants.pack_content import (
    STARTER_CONTENT,
    pack_content_errors,
    pack_content_from_yaml,
    pack_content_to_yaml,
    templates_by_function,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SLUG = "test-pack"


def kr(title, kind="increase", **values):
    return {
        "title": title,
        "kind": kind,
        **({"start": 0, "target": 10} if kind == "increase" else {}),
        **values,
    }


def template(key, title, function="sales", krs=None, description=""):
    return {
        "key": key,
        "function": function,
        "title": title,
        "description": description,
        "key_results": krs if krs is not None else [kr(f"{title} KR")],
    }


V1 = {
    "templates": [
        template("alpha", "Alpha v1"),
        template("bravo", "Bravo v1", function="engineering"),
        template("charlie", "Charlie v1", function="hr"),
        template("delta", "Delta v1", function="operations"),
        template("echo", "Echo v1", function="general"),
    ],
    "checkin_questions": ["What moved?", "What blocks you?"],
    "review_prompts": ["What did we learn?"],
    "thresholds": {"at_risk_gap": 0.1, "off_track_gap": 0.25},
    "cadence": "weekly",
}


@pytest.fixture
def coach() -> User:
    return User.objects.get(email=CONSULTANT)


@pytest.fixture
def other_consultant() -> User:
    return UserFactory(email="h2.other.coach@platform.example", role=User.Role.CONSULTANT)


@pytest.fixture
def acme_served(acme, coach):
    """acme assigned to the coach, with the method settings as a fresh organisation has them
    (whatever the demo applied there), so each test starts from the model defaults."""
    ConsultantAssignment.objects.update_or_create(
        organization=acme, consultant=coach, defaults={"revoked_at": None, "revoked_by": ""}
    )
    with tenant_context(acme):
        OkrSettings.objects.filter(pk=1).delete()
        ReviewSettings.objects.filter(pk=1).update(review_prompts=[])
        ObjectiveTemplate.objects.filter(pack_slug=SLUG).delete()
        AppliedMethodPack.objects.filter(pack_slug=SLUG).delete()
    return acme


@pytest.fixture
def pack(coach) -> MethodPack:
    return method_pack_create(
        slug=SLUG,
        name="Test pack",
        description="For tests",
        content=copy.deepcopy(V1),
        owner=coach,
        actor=coach,
    )


def templates_in(organization) -> dict[str, dict]:
    with tenant_context(organization):
        return {
            t.pack_key: {
                "title": t.title,
                "function": t.function,
                "pack_version": t.pack_version,
                "edited": template_is_edited(t),
            }
            for t in ObjectiveTemplate.objects.filter(pack_slug=SLUG)
        }


def settings_in(organization) -> dict:
    with tenant_context(organization):
        okr = OkrSettings.objects.filter(pk=1).first() or OkrSettings()
        review = ReviewSettings.objects.filter(pk=1).first() or ReviewSettings()
        return {
            "at_risk_gap": okr.at_risk_gap,
            "off_track_gap": okr.off_track_gap,
            "default_cadence": okr.default_cadence,
            "checkin_questions": okr.checkin_questions,
            "review_prompts": review.review_prompts,
        }


def state_of(organization) -> dict:
    """Everything an application may change, in the tenant and in public."""
    with tenant_context(organization):
        tenant_rows = {
            "templates": list(ObjectiveTemplate.objects.order_by("id").values()),
            "applied": list(AppliedMethodPack.objects.order_by("id").values()),
            "okr_settings": list(OkrSettings.objects.values()),
            "review_settings": list(ReviewSettings.objects.values()),
        }
    return {
        **tenant_rows,
        "applications": list(MethodPackApplication.objects.order_by("id").values()),
        "events": list(PlatformEvent.objects.order_by("id").values()),
        "versions": list(MethodPackVersion.objects.order_by("id").values()),
    }


# --- Content ------------------------------------------------------------------------------------------


def test_starter_content_is_valid_and_round_trips_through_yaml():
    assert pack_content_errors(STARTER_CONTENT) == []
    functions = {t["function"] for t in STARTER_CONTENT["templates"]}
    assert functions == set(ObjectiveTemplate.Function.values)
    for function in functions:
        group = [t for t in STARTER_CONTENT["templates"] if t["function"] == function]
        assert len(group) == 2
        assert all(2 <= len(t["key_results"]) <= 3 for t in group)
    assert len(STARTER_CONTENT["checkin_questions"]) == 4
    assert len(STARTER_CONTENT["review_prompts"]) == 4
    text = pack_content_to_yaml(STARTER_CONTENT)
    assert text.startswith("templates:\n")
    assert pack_content_from_yaml(text) == STARTER_CONTENT
    assert [label for label, _templates in templates_by_function(STARTER_CONTENT)] == [
        "Sales", "Engineering", "Customer success", "Operations", "People (HR)", "General",
    ]  # fmt: skip


def test_yaml_syntax_error_names_the_line():
    text = "cadence: weekly\ncheckin_questions:\n  - What moved?\n  - [unclosed\nthresholds: {}\n"
    with pytest.raises(ValidationError) as caught:
        pack_content_from_yaml(text)
    (message,) = caught.value.message_dict["content"]
    assert message.startswith("YAML error on line 5, column 11:")


def test_yaml_aliases_and_empty_text_are_refused():
    with pytest.raises(ValidationError) as caught:
        pack_content_from_yaml("a: &x [1, 2]\nb: *x\n")
    assert caught.value.message_dict["content"] == [
        "YAML error on line 2, column 4: aliases (*name) are not allowed in a method pack."
    ]
    with pytest.raises(ValidationError) as caught:
        pack_content_from_yaml("  \n")
    assert caught.value.message_dict["content"] == ["The content is empty."]


def test_key_result_rows_errors_apply_the_workspace_rules():
    rows = [
        {"title": "Fine", "kind": "increase", "start": 0, "target": 5},
        {"title": "No target", "kind": "increase", "start": 0},
        {"title": "Backwards", "kind": "decrease", "start": 1, "target": 5},
        {"title": "", "kind": "sideways"},
        {"title": "Band", "kind": "stay_between", "low": 9, "high": 3},
        {"title": "Money", "kind": "increase", "unit": "currency", "start": 0, "target": 9},
        {"title": "Typed", "kind": "increase", "start": "0", "target": 9, "colour": "red"},
        {"title": "Words", "kind": "increase", "start": "0", "target": True},
        "just text",
        {"title": "Done", "kind": "milestone"},
    ]
    assert key_result_rows_errors(rows) == [
        "Key result 2: Give a target value.",
        "Key result 3: Target must be less than start for a decreasing key result.",
        "Key result 4: A title is required.",
        "Key result 4: Choose the kind among: increase, decrease, stay_above, stay_below, stay_between, "
        "milestone.",
        "Key result 5: The upper bound must be greater than the lower bound.",
        "Key result 6: Give the three-letter currency code, for example EUR or CNY.",
        "Key result 7: Unknown field(s) “colour”; the fields are: title, kind, unit, currency_code, "
        "unit_label, start, target, low, high, weight.",
        "Key result 8: “start” must be a number.",
        "Key result 8: “target” must be a number.",
        "Key result 9: Give it as a mapping with a title, a kind and its values.",
    ]
    assert key_result_rows_errors([kr(f"KR {n}") for n in range(11)]) == [
        "A template suggests at most 10 key results."
    ]
    assert key_result_rows_errors("nope") == ["The key results must be a list."]


def test_pack_content_errors_shape_keys_thresholds_and_texts():
    content = {
        "templates": [
            template("pipeline", "Pipeline", krs=[kr("No target", start=0, target=None)]),
            template("pipeline", "Again"),
            template("Bad Key!", "Bad key"),
            {**template("func", "Function"), "function": "finance"},
            template("long", "x" * 201, krs=[]),
        ],
        "checkin_questions": ["Fine?", "", "q" * 501],
        "review_prompts": "not a list",
        "thresholds": {"at_risk_gap": 0.4, "off_track_gap": 0.3},
        "cadence": "daily",
    }
    assert pack_content_errors(content) == [
        "Template 1 (pipeline): Key result 1: Give a target value.",
        "Template 2 (pipeline): The key “pipeline” is used by another template.",
        "Template 3 (Bad Key!): Give a key of lowercase letters, digits and hyphens (at most 80 characters), "
        "for example “sales-pipeline”.",
        "Template 4 (func): Choose the function among: sales, engineering, customer_success, operations, hr, "
        "general.",
        "Template 5 (long): The title is longer than 200 characters.",
        "Check-in question 2: give a text.",
        "Check-in question 3: at most 500 characters.",
        "Review prompt: give a list of texts.",
        "Thresholds: they must satisfy 0 < at_risk_gap < off_track_gap ≤ 1.",
        "Cadence: choose one of weekly, biweekly, monthly.",
    ]
    assert pack_content_errors({"thresholds": {"at_risk_gap": 0, "off_track_gap": 0.3}}) == [
        "Thresholds: they must satisfy 0 < at_risk_gap < off_track_gap ≤ 1."
    ]
    assert pack_content_errors({"thresholds": {"at_risk_gap": 0.2, "off_track_gap": 1.5}}) == [
        "Thresholds: they must satisfy 0 < at_risk_gap < off_track_gap ≤ 1."
    ]
    assert pack_content_errors({"thresholds": {"at_risk_gap": 0.2}}) == [
        "Thresholds: give both at_risk_gap and off_track_gap (and nothing else)."
    ]
    assert pack_content_errors({}) == [
        "The pack is empty: give at least templates, questions, prompts, thresholds or a cadence."
    ]
    assert pack_content_errors({"cadence": "weekly", "extra": 1}) == [
        "Unknown part(s) “extra”; the parts are: templates, checkin_questions, review_prompts, thresholds, "
        "cadence."
    ]
    assert pack_content_errors(["a list"]) == [
        "The content must be a mapping with some of: templates, checkin_questions, review_prompts, "
        "thresholds, cadence."
    ]
    assert pack_content_errors({"templates": [template(str(n), f"T{n}") for n in range(101)]}) == [
        "Templates: at most 100."
    ]
    assert pack_content_errors({"checkin_questions": [f"Q{n}" for n in range(21)]}) == [
        "Check-in question: at most 20."
    ]


def test_content_hash_is_canonical():
    rows = [{"title": "Grow", "kind": "increase", "start": 0, "target": 100}]
    same = [{"target": 100.0, "start": 0.0, "kind": "increase", "title": "Grow ", "unit": "number", "low": 3}]
    assert template_content_hash("sales", "T", "", rows) == template_content_hash("sales", "T ", None, same)
    assert template_content_hash("sales", "T", "", rows) != template_content_hash("hr", "T", "", rows)
    changed = [{"title": "Grow", "kind": "increase", "start": 0, "target": 101}]
    assert template_content_hash("sales", "T", "", rows) != template_content_hash("sales", "T", "", changed)


# --- Creating and publishing --------------------------------------------------------------------------


def test_create_makes_version_one_and_publish_numbers_the_next(pack, coach):
    assert (pack.slug, pack.name, pack.description, pack.owner) == (SLUG, "Test pack", "For tests", coach)
    assert list(pack.versions.values_list("number", "created_by", "notes")) == [(1, coach.pk, "")]
    second = method_pack_publish(
        pack=pack, content={**V1, "cadence": "monthly"}, notes="Monthly", actor=coach
    )
    third = method_pack_publish(pack=pack, content={**V1, "cadence": "biweekly"}, notes="", actor=None)
    assert (second.number, second.notes, second.created_by) == (2, "Monthly", coach)
    assert (third.number, third.created_by) == (3, None)
    assert list(pack.versions.order_by("number").values_list("number", flat=True)) == [1, 2, 3]


def test_publish_refuses_content_identical_to_the_latest(pack, coach):
    versions = list(MethodPackVersion.objects.filter(pack=pack).values())
    with pytest.raises(ValidationError) as caught:
        method_pack_publish(pack=pack, content=copy.deepcopy(V1), notes="again", actor=coach)
    assert caught.value.message_dict == {
        "content": ["This is the same content as version 1: change something before publishing."]
    }
    assert list(MethodPackVersion.objects.filter(pack=pack).values()) == versions


def test_only_the_maintainer_publishes(pack, other_consultant):
    versions = list(MethodPackVersion.objects.filter(pack=pack).values())
    with pytest.raises(PermissionDenied):
        method_pack_publish(pack=pack, content={**V1, "cadence": "monthly"}, notes="", actor=other_consultant)
    assert list(MethodPackVersion.objects.filter(pack=pack).values()) == versions
    staff = User.objects.get(email="admin@platform.example")
    assert method_pack_publish(pack=pack, content={**V1, "cadence": "monthly"}, actor=staff).number == 2


def test_create_validates_every_field_and_changes_nothing(coach, pack):
    packs = list(MethodPack.objects.values())
    with pytest.raises(ValidationError) as caught:
        method_pack_create(
            slug=SLUG,
            name=" ",
            description="d" * 2001,
            content={"cadence": "daily"},
            owner=coach,
            actor=coach,
        )
    assert caught.value.message_dict == {
        "slug": ["A method pack with the short name “test-pack” exists already."],
        "name": ["This field is required."],
        "description": ["At most 2000 characters."],
        "content": ["Cadence: choose one of weekly, biweekly, monthly."],
    }
    with pytest.raises(ValidationError) as caught:
        method_pack_create(slug="Not A Slug", name="N", content=V1, owner=coach, actor=coach)
    assert list(caught.value.message_dict) == ["slug"]
    member = UserFactory(email="member@platform.example")
    with pytest.raises(PermissionDenied):
        method_pack_create(slug="other", name="N", content=V1, owner=member, actor=member)
    with pytest.raises(ValidationError) as caught:
        method_pack_create(slug="other", name="N", content=V1, owner=member, actor=coach)
    assert caught.value.message_dict == {
        "owner": ["The maintainer must be an active consultant or platform admin."]
    }
    assert list(MethodPack.objects.values()) == packs


# --- Applying -----------------------------------------------------------------------------------------


def test_apply_creates_templates_and_settings(acme_served, pack, coach):
    version = pack.versions.get(number=1)
    application = method_pack_apply(organization=acme_served, version=version, actor=coach)

    # 5 templates, and 5 settings (2 thresholds, cadence, questions, prompts) never written before.
    assert application.result == {
        "added": 10, "updated": 0, "unchanged": 0, "kept": 0, "removed": 0, "kept_items": [],
    }  # fmt: skip
    assert (application.organization, application.version, application.applied_by) == (
        acme_served, version, CONSULTANT,
    )  # fmt: skip
    assert templates_in(acme_served) == {
        key: {"title": f"{key.capitalize()} v1", "function": function, "pack_version": 1, "edited": False}
        for key, function in [
            ("alpha", "sales"), ("bravo", "engineering"), ("charlie", "hr"), ("delta", "operations"),
            ("echo", "general"),
        ]
    }  # fmt: skip
    assert settings_in(acme_served) == {
        "at_risk_gap": 0.1,
        "off_track_gap": 0.25,
        "default_cadence": "weekly",
        "checkin_questions": ["What moved?", "What blocks you?"],
        "review_prompts": ["What did we learn?"],
    }
    with tenant_context(acme_served):
        applied = AppliedMethodPack.objects.get(pack_slug=SLUG)
        stored = ObjectiveTemplate.objects.get(pack_slug=SLUG, pack_key="alpha")
    assert (applied.pack_name, applied.version, applied.applied_by) == ("Test pack", 1, CONSULTANT)
    assert applied.template_keys == ["alpha", "bravo", "charlie", "delta", "echo"]
    assert applied.settings_written == {
        "at_risk_gap": 0.1, "off_track_gap": 0.25, "default_cadence": "weekly",
        "checkin_questions": ["What moved?", "What blocks you?"], "review_prompts": ["What did we learn?"],
    }  # fmt: skip
    assert stored.key_results == [
        {"title": "Alpha v1 KR", "kind": "increase", "unit": "number", "currency_code": "", "unit_label": "",
         "start": 0.0, "target": 10.0, "low": None, "high": None, "weight": 1.0},
    ]  # fmt: skip
    event = PlatformEvent.objects.filter(organization=acme_served).latest("id")
    assert (event.action, event.actor_email) == (PlatformEvent.Action.PACK_APPLIED, CONSULTANT)
    assert event.detail == {
        "pack": SLUG, "version": 1, "added": 10, "updated": 0, "unchanged": 0, "kept": 0, "removed": 0,
    }  # fmt: skip


def test_reapplying_a_new_version_respects_what_the_client_changed(acme_served, pack, coach):
    method_pack_apply(organization=acme_served, version=pack.versions.get(number=1), actor=coach)
    with tenant_context(acme_served):
        templates = {t.pack_key: t for t in ObjectiveTemplate.objects.filter(pack_slug=SLUG)}
        templates["bravo"].title = "Bravo, our way"  # the client edits bravo
        templates["bravo"].save()
        templates["charlie"].delete()  # ... deletes charlie
        templates["echo"].key_results = [*templates["echo"].key_results, kr("Our own KR")]  # ... edits echo
        templates["echo"].save()
        settings = OkrSettings.objects.get(pk=1)
        settings.checkin_questions = ["Our question"]  # ... and changes the questions
        settings.save()

    v2 = copy.deepcopy(V1)
    v2["templates"] = [
        template("alpha", "Alpha v2"),  # untouched by the client -> updated
        template("bravo", "Bravo v2", function="engineering"),  # edited -> kept
        template("charlie", "Charlie v2", function="hr"),  # deleted -> not re-created
        # delta (untouched) and echo (edited) are dropped: delta removed, echo kept
        template("foxtrot", "Foxtrot v2", function="sales"),  # new -> added
    ]
    v2["checkin_questions"] = ["What moved this week?"]
    v2["review_prompts"] = ["What did we learn?", "What do we stop?"]
    v2["thresholds"] = {"at_risk_gap": 0.2, "off_track_gap": 0.4}
    version = method_pack_publish(pack=pack, content=v2, notes="v2", actor=coach)
    application = method_pack_apply(organization=acme_served, version=version, actor=coach)

    assert application.result == {
        "added": 1, "updated": 4, "unchanged": 1, "kept": 4, "removed": 1,
        "kept_items": ["template bravo", "template charlie", "template echo", "setting checkin_questions"],
    }  # fmt: skip
    assert templates_in(acme_served) == {
        "alpha": {"title": "Alpha v2", "function": "sales", "pack_version": 2, "edited": False},
        "bravo": {"title": "Bravo, our way", "function": "engineering", "pack_version": 1, "edited": True},
        "echo": {"title": "Echo v1", "function": "general", "pack_version": 1, "edited": True},
        "foxtrot": {"title": "Foxtrot v2", "function": "sales", "pack_version": 2, "edited": False},
    }
    assert settings_in(acme_served) == {
        "at_risk_gap": 0.2,
        "off_track_gap": 0.4,
        "default_cadence": "weekly",
        "checkin_questions": ["Our question"],
        "review_prompts": ["What did we learn?", "What do we stop?"],
    }
    with tenant_context(acme_served):
        applied = AppliedMethodPack.objects.get(pack_slug=SLUG)
    assert applied.version == 2
    # delta was removed by the pack (forgotten); charlie stays remembered as deleted by the client.
    assert applied.template_keys == ["alpha", "bravo", "charlie", "echo", "foxtrot"]
    assert applied.settings_written["checkin_questions"] == ["What moved?", "What blocks you?"]

    # A third version bringing delta back creates it again (the pack removed it, not the client);
    # charlie stays deleted.
    v3 = copy.deepcopy(v2)
    v3["templates"].append(template("delta", "Delta v3", function="operations"))
    version3 = method_pack_publish(pack=pack, content=v3, actor=coach)
    result = method_pack_apply(organization=acme_served, version=version3, actor=coach).result
    assert (result["added"], result["kept_items"]) == (
        1, ["template bravo", "template charlie", "template echo", "setting checkin_questions"],
    )  # fmt: skip
    assert sorted(templates_in(acme_served)) == ["alpha", "bravo", "delta", "echo", "foxtrot"]


def test_reapplying_the_same_version_changes_nothing(acme_served, pack, coach):
    version = pack.versions.get(number=1)
    method_pack_apply(organization=acme_served, version=version, actor=coach)
    with tenant_context(acme_served):
        before = list(ObjectiveTemplate.objects.filter(pack_slug=SLUG).order_by("id").values("id", "title"))
    result = method_pack_apply(organization=acme_served, version=version, actor=None).result
    assert result == {"added": 0, "updated": 0, "unchanged": 10, "kept": 0, "removed": 0, "kept_items": []}
    with tenant_context(acme_served):
        assert (
            list(ObjectiveTemplate.objects.filter(pack_slug=SLUG).order_by("id").values("id", "title"))
            == before
        )
    assert MethodPackApplication.objects.filter(organization=acme_served).latest("id").applied_by == "system"


def test_thresholds_are_kept_together_when_the_client_changed_one(acme_served, pack, coach):
    method_pack_apply(organization=acme_served, version=pack.versions.get(number=1), actor=coach)
    with tenant_context(acme_served):
        OkrSettings.objects.filter(pk=1).update(off_track_gap=0.5)
    version = method_pack_publish(
        pack=pack, content={**V1, "thresholds": {"at_risk_gap": 0.3, "off_track_gap": 0.45}}, actor=coach
    )
    result = method_pack_apply(organization=acme_served, version=version, actor=coach).result
    assert result["kept_items"] == ["setting at_risk_gap", "setting off_track_gap"]
    assert (settings_in(acme_served)["at_risk_gap"], settings_in(acme_served)["off_track_gap"]) == (0.1, 0.5)


def test_settings_the_client_changed_before_any_pack_are_kept(acme_served, pack, coach):
    with tenant_context(acme_served):
        OkrSettings.objects.create(pk=1, default_cadence="monthly")
    result = method_pack_apply(
        organization=acme_served, version=pack.versions.get(number=1), actor=coach
    ).result
    assert result["kept_items"] == ["setting default_cadence"]
    assert settings_in(acme_served)["default_cadence"] == "monthly"


def test_new_thresholds_recalculate_cached_statuses(acme_served, pack, coach, monkeypatch):
    calls = []
    monkeypatch.setattr(okr_method, "recalculate_all", lambda clock: calls.append(clock.thresholds))
    method_pack_apply(organization=acme_served, version=pack.versions.get(number=1), actor=coach)
    assert [(t.at_risk_gap, t.off_track_gap) for t in calls] == [(0.1, 0.25)]


def test_apply_to_a_client_not_assigned_is_refused_and_changes_nothing(
    acme_served, globex, pack, other_consultant
):
    version = pack.versions.get(number=1)
    before = state_of(acme_served), state_of(globex)
    with pytest.raises(PermissionDenied):
        method_pack_apply(organization=acme_served, version=version, actor=other_consultant)
    assignment = ConsultantAssignment.objects.create(organization=globex, consultant=other_consultant)
    assignment.revoked_at = assignment.assigned_at
    assignment.save()
    with pytest.raises(PermissionDenied):
        method_pack_apply(organization=globex, version=version, actor=other_consultant)
    assert (state_of(acme_served), state_of(globex)) == (before[0], before[1])


def test_apply_to_a_suspended_client_is_refused(acme_served, pack, coach):
    acme_served.status = acme_served.Status.SUSPENDED
    acme_served.save()
    before = state_of(acme_served)
    with pytest.raises(PermissionDenied):
        method_pack_apply(organization=acme_served, version=pack.versions.get(number=1), actor=coach)
    with pytest.raises(ValidationError):
        method_pack_apply(organization=acme_served, version=pack.versions.get(number=1), actor=None)
    assert state_of(acme_served) == before


def test_a_failing_application_leaves_nothing_behind(acme_served, pack, coach, monkeypatch):
    """A failure at the last step in the client's schema (after templates and settings were
    written) rolls everything back, in the tenant and in public."""

    def fail(clock):
        raise RuntimeError("recalculation failed")

    monkeypatch.setattr(okr_method, "recalculate_all", fail)
    before = state_of(acme_served)
    with pytest.raises(RuntimeError):
        method_pack_apply(organization=acme_served, version=pack.versions.get(number=1), actor=coach)
    assert state_of(acme_served) == before


def test_a_version_edited_behind_the_services_back_is_refused(acme_served, pack, coach):
    version = pack.versions.get(number=1)
    MethodPackVersion.objects.filter(pk=version.pk).update(content={**V1, "cadence": "daily"})
    version.refresh_from_db()
    before = state_of(acme_served)
    with pytest.raises(ValidationError) as caught:
        method_pack_apply(organization=acme_served, version=version, actor=coach)
    assert caught.value.message_dict == {"version": ["Cadence: choose one of weekly, biweekly, monthly."]}
    assert state_of(acme_served) == before


def test_update_renames_and_hands_over_for_the_maintainer_only(pack, coach, other_consultant):
    before = list(MethodPack.objects.filter(pk=pack.pk).values())
    with pytest.raises(PermissionDenied):
        method_pack_update(
            pack=pack, name="Mine", description="", owner=other_consultant, actor=other_consultant
        )
    with pytest.raises(ValidationError) as caught:
        method_pack_update(pack=pack, name="", description="", owner=coach, actor=coach)
    assert caught.value.message_dict == {"name": ["This field is required."]}
    assert list(MethodPack.objects.filter(pk=pack.pk).values()) == before
    updated = method_pack_update(
        pack=pack, name=" Handed over ", description="", owner=other_consultant, actor=coach
    )
    assert (updated.name, updated.owner, updated.slug) == ("Handed over", other_consultant, SLUG)
    with pytest.raises(PermissionDenied):
        method_pack_publish(pack=updated, content={**V1, "cadence": "monthly"}, actor=coach)
    assert (
        method_pack_publish(pack=updated, content={**V1, "cadence": "monthly"}, actor=other_consultant).number
        == 2
    )


def test_content_yaml_can_write_but_never_passes_nul_characters_or_huge_numbers():
    content = pack_content_from_yaml('checkin_questions: ["What\\0moved?"]\n')
    assert content == {"checkin_questions": ["What\x00moved?"]}
    assert pack_content_errors(content) == ["The content contains a NUL character; remove it."]
    huge = pack_content_from_yaml(
        "thresholds: {at_risk_gap: 1" + "0" * 400 + ", off_track_gap: 0.3}\n"
        "templates:\n  - {key: k, function: sales, title: T, key_results: [{title: K, kind: increase, "
        "start: 0, target: 1" + "0" * 400 + "}]}\n"
    )
    assert pack_content_errors(huge) == [
        "Template 1 (k): Key result 1: “target” must be a number.",
        "Thresholds: both must be numbers (fractions, e.g. 0.15).",
    ]
