"""Objective templates: the services (org admins only), the Method settings page (templates
grouped by function with their pack origin, check-in questions and cadence, applied packs)
and starting a new objective from a template."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django_tenants.utils import tenant_context

from accounts.models import User
from okrs.method import template_content_hash, template_is_edited
from okrs.models import KeyResult, Objective
from okrs.models_method import AppliedMethodPack, ObjectiveTemplate
from okrs.selectors import okr_settings
from okrs.services.templates import template_create, template_delete, template_update
from tests.factories import UserFactory
from tests.web import get_counting, sign_in

pytestmark = pytest.mark.django_db

METHOD = "/settings/method/"
NEW = "/settings/method/templates/new/"
CREATE = "/objectives/new/"

# Routing (3), session, user, OKR settings, templates, applied packs, inbox badge.
METHOD_QUERIES = 9
APPLIED_AT = datetime(2026, 11, 2, 9, tzinfo=UTC)

ROWS = [
    {"title": "Qualified pipeline from 1.2 M to 2 M EUR", "kind": "increase", "unit": "currency",
     "currency_code": "eur", "start": 1200000, "target": 2000000},
    {"title": "Win rate stays between 20% and 30%", "kind": "stay_between", "unit": "percent", "low": 20,
     "high": 30, "start": 5},
    {"title": "Sales playbook published", "kind": "milestone"},
]  # fmt: skip


# --- Helpers --------------------------------------------------------------------------------------------


def in_acme(acme, fn):
    with tenant_context(acme):
        result = fn()
    connection.set_schema_to_public()
    return result


def person(acme, local: str) -> User:
    return in_acme(acme, lambda: User.objects.get(email=f"{local}@acme.example"))


def stored_templates(acme) -> list[tuple]:
    """Everything stored about the templates, to show that a refused write changed nothing."""
    return in_acme(
        acme,
        lambda: list(
            ObjectiveTemplate.objects.order_by("pk").values_list(
                "pk", "function", "title", "description", "key_results", "pack_slug", "pack_version",
                "applied_hash", "updated_at",
            )
        ),
    )  # fmt: skip


def pack_template(*, title: str = "Grow qualified pipeline", function: str = "sales") -> ObjectiveTemplate:
    """A template as a method pack wrote it (with the pack's record): inside the tenant."""
    rows = [{"title": "Pipeline from 10 to 20", "kind": "increase", "start": 0, "target": 20}]
    AppliedMethodPack.objects.update_or_create(
        pack_slug="okr-starter",
        defaults={"pack_name": "OKR Starter", "version": 2, "applied_at": APPLIED_AT,
                  "applied_by": "coach@platform.example", "template_keys": [title]},
    )  # fmt: skip
    return ObjectiveTemplate.objects.create(
        function=function, title=title, description="", key_results=rows, pack_slug="okr-starter",
        pack_key=title.lower().replace(" ", "-"), pack_version=2,
        applied_hash=template_content_hash(function, title, "", rows),
    )  # fmt: skip


def own_templates(acme, count: int, *, function: str = "engineering") -> None:
    def make():
        ceo = User.objects.get(email="ceo@acme.example")
        for n in range(count):
            template_create(
                actor=ceo, function=function, title=f"Template {n}",
                key_results=[{"title": f"Metric {n}: 0 → 10", "kind": "increase", "start": 0, "target": 10}],
            )  # fmt: skip

    in_acme(acme, make)


def row_data(index: int, **values) -> dict:
    blank = {"title": "", "kind": "increase", "unit": "number", "currency_code": "", "unit_label": "",
             "start": "", "target": "", "low": "", "high": ""}  # fmt: skip
    return {f"kr-{index}-{name}": value for name, value in {**blank, **values}.items()}


def template_data(*rows: dict, **fields) -> dict:
    data = {
        "function": "customer_success",
        "title": "Customers renew because they succeed",
        "description": "Retention is cheaper than acquisition.",
        "kr-TOTAL_FORMS": str(len(rows)),
        "kr-INITIAL_FORMS": "0",
        "kr-MIN_NUM_FORMS": "0",
        "kr-MAX_NUM_FORMS": "10",
    }
    for index, row in enumerate(rows):
        data.update(row_data(index, **row))
    data.update(fields)
    return data


# --- Services --------------------------------------------------------------------------------------------


def test_an_org_admin_creates_a_template_with_canonical_key_results(acme):
    def run():
        ceo = User.objects.get(email="ceo@acme.example")
        template = template_create(
            actor=ceo, function="sales", title="  Grow the pipeline  ", description=" Why ", key_results=ROWS
        )
        return ObjectiveTemplate.objects.get(pk=template.pk)

    template = in_acme(acme, run)
    assert (template.function, template.title, template.description) == ("sales", "Grow the pipeline", "Why")
    assert (template.pack_slug, template.pack_key, template.pack_version, template.applied_hash) == (
        "",
        "",
        None,
        "",
    )
    assert template.key_results == [
        {"title": "Qualified pipeline from 1.2 M to 2 M EUR", "kind": "increase", "unit": "currency",
         "currency_code": "EUR", "unit_label": "", "start": 1200000.0, "target": 2000000.0, "low": None,
         "high": None, "weight": 1.0},
        {"title": "Win rate stays between 20% and 30%", "kind": "stay_between", "unit": "percent",
         "currency_code": "", "unit_label": "", "start": None, "target": None, "low": 20.0, "high": 30.0,
         "weight": 1.0},
        {"title": "Sales playbook published", "kind": "milestone", "unit": "number", "currency_code": "",
         "unit_label": "", "start": None, "target": None, "low": None, "high": None, "weight": 1.0},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"function": "finance"}, "function", "Choose a function."),
        ({"title": "   "}, "title", "Give the objective a title."),
        ({"title": "x" * 201}, "title", "Keep the title to 200 characters."),
        ({"title": "bad\x00title"}, "title", "Remove the character that is not allowed."),
        ({"description": "x" * 2001}, "description", "Keep the description to 2000 characters."),
        ({"key_results": [ROWS[2]] * 11}, "key_results", "A template suggests at most 10 key results."),
        ({"key_results": "not a list"}, "key_results", "The key results must be a list."),
        (
            {"key_results": [ROWS[2], {"title": "Churn down", "kind": "decrease", "start": 5}]},
            "key_results",
            "Key result 2: ",
        ),
    ],
)
def test_bad_templates_are_refused_on_their_field_and_nothing_is_saved(acme, changes, field, message):
    before = stored_templates(acme)

    def run():
        ceo = User.objects.get(email="ceo@acme.example")
        values = {"function": "sales", "title": "Grow", "description": "", "key_results": ROWS, **changes}
        with pytest.raises(ValidationError) as error:
            template_create(actor=ceo, **values)
        return error.value.message_dict

    errors = in_acme(acme, run)
    assert list(errors) == [field]
    assert errors[field][0].startswith(message)
    assert stored_templates(acme) == before


@pytest.mark.parametrize("local", ["cto", "sre", "board"])
def test_only_org_admins_write_templates_and_a_refusal_changes_nothing(acme, local):
    template = in_acme(acme, pack_template)
    before = stored_templates(acme)

    def run():
        actor = User.objects.get(email=f"{local}@acme.example")
        consultant = UserFactory(role=User.Role.CONSULTANT)
        for who in (actor, consultant):
            with pytest.raises(PermissionDenied, match=r"Only org admins change the objective templates\."):
                template_create(actor=who, function="sales", title="Mine", key_results=[])
            with pytest.raises(PermissionDenied):
                template_update(
                    template=template, actor=who, function="sales", title="Changed", key_results=[]
                )
            with pytest.raises(PermissionDenied):
                template_delete(template=template, actor=who)

    in_acme(acme, run)
    assert stored_templates(acme) == before


def test_updating_a_pack_template_keeps_its_origin_and_marks_it_edited(acme):
    def run():
        ceo = User.objects.get(email="ceo@acme.example")
        template = pack_template()
        assert not template_is_edited(template)
        same = template_update(
            template=template, actor=ceo, function="sales", title=template.title, description="",
            key_results=template.key_results,
        )  # fmt: skip
        assert same.updated_at == template.updated_at  # nothing differed: nothing saved
        template_update(
            template=template, actor=ceo, function="sales", title="Grow the pipeline our way",
            key_results=[ROWS[2]],
        )  # fmt: skip
        return ObjectiveTemplate.objects.get(pk=template.pk)

    template = in_acme(acme, run)
    assert (template.title, template.pack_slug, template.pack_version) == (
        "Grow the pipeline our way",
        "okr-starter",
        2,
    )
    assert [row["title"] for row in template.key_results] == ["Sales playbook published"]
    assert template_is_edited(template)


def test_an_org_admin_deletes_a_template(acme):
    def run():
        ceo = User.objects.get(email="ceo@acme.example")
        template = pack_template()
        template_delete(template=template, actor=ceo)
        with pytest.raises(ValidationError, match="deleted in the meantime"):
            template_update(template=template, actor=ceo, function="sales", title="Too late")
        return ObjectiveTemplate.objects.filter(pk=template.pk).exists()

    assert in_acme(acme, run) is False


# --- The Method settings page ---------------------------------------------------------------------------


def test_method_page_groups_templates_by_function_with_their_origin(acme, acme_client):
    def setup():
        ceo = User.objects.get(email="ceo@acme.example")
        ObjectiveTemplate.objects.all().delete()
        AppliedMethodPack.objects.all().delete()
        pack_template(title="Grow qualified pipeline")
        edited = pack_template(title="Ship reliably", function="engineering")
        template_update(template=edited, actor=ceo, function="engineering", title="Ship reliably, weekly")
        template_create(actor=ceo, function="sales", title="Our own sales objective")
        return edited

    edited = in_acme(acme, setup)
    sign_in(acme_client, acme, "ceo@acme.example")

    response, queries = get_counting(acme_client, METHOD)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<a href="/settings/method/" aria-current="page">Method</a>' in html
    assert "3 objective templates" in html
    # Sales before engineering? No: in the order of the function choices.
    assert html.index('data-function="sales"') < html.index('data-function="engineering"')
    assert html.count('data-testid="template-row"') == 3
    assert html.count('data-testid="template-pack"') == 2
    assert html.count("from OKR Starter v2") == 2
    assert html.count('data-testid="template-edited"') == 1
    edited_row = html[html.index(f'data-template="{edited.pk}"') :]
    assert edited_row.index('data-testid="template-edited"') < edited_row.index("</tr>")
    assert html.count('data-testid="applied-pack"') == 1
    assert "coach@platform.example" in html
    assert 'data-testid="method-settings-form"' in html
    assert '<label for="id_checkin_questions">' in html
    assert '<label for="id_default_cadence">' in html
    assert queries == METHOD_QUERIES


def test_method_page_queries_do_not_grow_with_templates(acme, acme_client):
    in_acme(acme, lambda: ObjectiveTemplate.objects.all().delete())
    own_templates(acme, 3)
    sign_in(acme_client, acme, "ceo@acme.example")
    response, few = get_counting(acme_client, METHOD)
    assert response.content.decode().count('data-testid="template-row"') == 3

    own_templates(acme, 27, function="operations")
    response, many = get_counting(acme_client, METHOD)

    assert response.content.decode().count('data-testid="template-row"') == 30
    assert few == many == METHOD_QUERIES


def test_method_page_without_templates_says_what_to_do(acme, acme_client):
    in_acme(
        acme, lambda: (ObjectiveTemplate.objects.all().delete(), AppliedMethodPack.objects.all().delete())
    )
    sign_in(acme_client, acme, "ceo@acme.example")
    html = acme_client.get(METHOD).content.decode()
    assert 'data-testid="templates-empty"' in html
    assert 'data-testid="packs-empty"' in html


@pytest.mark.parametrize("email", ["cto@acme.example", "sre@acme.example", "board@acme.example"])
def test_non_admins_get_a_403_on_every_method_page_and_change_nothing(acme, acme_client, email):
    template = in_acme(acme, pack_template)
    before, settings = stored_templates(acme), in_acme(acme, lambda: okr_settings().checkin_questions)
    sign_in(acme_client, acme, email)
    edit = f"/settings/method/templates/{template.pk}/"
    for url in (METHOD, NEW, edit):
        assert acme_client.get(url).status_code == 403
    assert (
        acme_client.post(METHOD, {"checkin_questions": "Mine?", "default_cadence": "weekly"}).status_code
        == 403
    )
    assert acme_client.post(NEW, template_data(ROWS[2])).status_code == 403
    assert acme_client.post(edit, template_data(ROWS[2])).status_code == 403
    assert acme_client.post(f"{edit}delete/").status_code == 403
    assert stored_templates(acme) == before
    assert in_acme(acme, lambda: okr_settings().checkin_questions) == settings


def test_creating_a_template_on_the_page(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    new = acme_client.get(NEW)
    assert new.status_code == 200
    assert new.content.decode().count('data-testid="template-kr-row"') == 3

    response = acme_client.post(
        NEW,
        template_data(
            {"title": "Net revenue retention from 95% to 105%", "kind": "increase", "unit": "percent",
             "start": "95", "target": "105"},
            {},  # an empty row is skipped
            {"title": "Onboarding guide published", "kind": "milestone"},
        ),
    )  # fmt: skip

    assert response.status_code == 302
    assert response["Location"] == METHOD
    template = in_acme(
        acme, lambda: ObjectiveTemplate.objects.get(title="Customers renew because they succeed")
    )
    assert template.function == "customer_success"
    assert [(row["title"], row["kind"], row["start"], row["target"]) for row in template.key_results] == [
        ("Net revenue retention from 95% to 105%", "increase", 95.0, 105.0),
        ("Onboarding guide published", "milestone", None, None),
    ]
    assert (
        "Template “Customers renew because they succeed” saved." in acme_client.get(METHOD).content.decode()
    )


def test_a_bad_row_shows_its_error_and_saves_nothing(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    before = stored_templates(acme)

    response = acme_client.post(
        NEW,
        template_data(
            {"title": "Churn from 5% to 3%", "kind": "decrease", "start": "5"},  # no target
            {"title": "Revenue up", "kind": "increase", "unit": "currency", "start": "1", "target": "2"},
            title="",
        ),
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert 'data-testid="field-error-title"' in html
    assert 'id="id_kr-0-target_error"' in html
    assert 'id="id_kr-1-currency_code_error"' in html
    assert "Give the three-letter currency code" in html
    assert stored_templates(acme) == before


def test_add_another_row_keeps_the_input_and_saves_nothing(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    before = stored_templates(acme)
    response = acme_client.post(NEW, template_data({"title": "Typed so far"}, add_kr="1"))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('data-testid="template-kr-row"') == 2
    assert 'value="Typed so far"' in html
    assert 'value="Customers renew because they succeed"' in html
    assert stored_templates(acme) == before


def test_editing_a_template_prefills_its_rows_and_removes_a_row(acme, acme_client):
    template = in_acme(
        acme,
        lambda: template_create(
            actor=User.objects.get(email="ceo@acme.example"), function="sales", title="Grow", key_results=ROWS
        ),
    )
    sign_in(acme_client, acme, "ceo@acme.example")
    url = f"/settings/method/templates/{template.pk}/"
    page = acme_client.get(url).content.decode()
    assert page.count('data-testid="template-kr-row"') == 5  # three rows and two empty ones
    assert 'value="Sales playbook published"' in page
    assert 'name="kr-0-DELETE"' in page
    assert 'name="kr-3-DELETE"' not in page  # an empty row has nothing to remove

    response = acme_client.post(
        url,
        template_data(
            {"title": "Pipeline from 1 to 2", "kind": "increase", "start": "1", "target": "2"},
            {"title": "Win rate", "kind": "stay_between", "low": "20", "high": "30", "DELETE": "on"},
            function="sales",
            title="Grow, differently",
        ),
    )

    assert response.status_code == 302
    template = in_acme(acme, lambda: ObjectiveTemplate.objects.get(pk=template.pk))
    assert template.title == "Grow, differently"
    assert [row["title"] for row in template.key_results] == ["Pipeline from 1 to 2"]


def test_deleting_a_template_on_the_page(acme, acme_client):
    template = in_acme(acme, pack_template)
    sign_in(acme_client, acme, "ceo@acme.example")
    url = f"/settings/method/templates/{template.pk}/delete/"
    assert acme_client.get(url).status_code == 405
    response = acme_client.post(url, follow=True)
    assert response.redirect_chain == [(METHOD, 302)]
    assert "Template “Grow qualified pipeline” deleted." in response.content.decode()
    assert in_acme(acme, lambda: ObjectiveTemplate.objects.filter(pk=template.pk).exists()) is False
    assert acme_client.post(url).status_code == 404
    assert acme_client.get("/settings/method/templates/999999/").status_code == 404


def test_saving_check_in_questions_and_the_default_cadence(acme, acme_client):
    sign_in(acme_client, acme, "ceo@acme.example")
    response = acme_client.post(
        METHOD,
        {
            "checkin_questions": "What moved?\r\n\r\n  What is in the way?  \r\nWhat next?",
            "default_cadence": "weekly",
        },
    )
    assert response.status_code == 302
    settings = in_acme(acme, okr_settings)
    assert settings.checkin_questions == ["What moved?", "What is in the way?", "What next?"]
    assert settings.default_cadence == "weekly"
    html = acme_client.get(METHOD).content.decode()
    assert "Check-in questions and cadence saved." in html
    assert "What moved?\nWhat is in the way?\nWhat next?</textarea>" in html
    assert '<option value="weekly" selected>' in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"checkin_questions": "\n".join(f"Q{n}?" for n in range(21))}, "checkin_questions",
         "Give at most 20, one per line (there are 21)."),
        ({"checkin_questions": "Fine?\n" + "x" * 501}, "checkin_questions",
         "Line 2 is longer than 500 characters."),
        ({"default_cadence": "daily"}, "default_cadence", "Select a valid choice."),
    ],
)  # fmt: skip
def test_bad_method_settings_are_a_422_and_change_nothing(acme, acme_client, data, field, message):
    sign_in(acme_client, acme, "ceo@acme.example")
    before = in_acme(acme, lambda: (okr_settings().checkin_questions, okr_settings().default_cadence))
    response = acme_client.post(METHOD, {"checkin_questions": "", "default_cadence": "monthly", **data})
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    assert f'data-testid="field-error-{field}"' in response.content.decode()
    assert in_acme(acme, lambda: (okr_settings().checkin_questions, okr_settings().default_cadence)) == before


def test_globex_method_page_renders_in_chinese(globex, globex_client):
    sign_in(globex_client, globex, "ceo@globex.example")
    response = globex_client.get(METHOD)
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    assert 'data-testid="method-settings-form"' in response.content.decode()


# --- Starting a new objective from a template -------------------------------------------------------------


def test_the_create_page_offers_templates_grouped_by_function(acme, acme_client):
    def setup():
        ObjectiveTemplate.objects.all().delete()
        pack_template(title="Grow qualified pipeline", function="sales")
        pack_template(title="Ship reliably", function="engineering")

    in_acme(acme, setup)
    sign_in(acme_client, acme, "analyst@acme.example")
    html = acme_client.get(CREATE).content.decode()
    assert 'data-testid="template-picker"' in html
    assert '<optgroup label="Sales">' in html
    assert '<optgroup label="Engineering">' in html
    assert html.index('<optgroup label="Sales">') < html.index('<optgroup label="Engineering">')
    assert 'data-autosubmit=""' in html


def test_no_templates_no_picker(acme, acme_client):
    in_acme(acme, lambda: ObjectiveTemplate.objects.all().delete())
    sign_in(acme_client, acme, "analyst@acme.example")
    assert 'data-testid="template-picker"' not in acme_client.get(CREATE).content.decode()


def test_choosing_a_template_prefills_the_objective_and_its_key_results(acme, acme_client):
    template = in_acme(
        acme,
        lambda: template_create(
            actor=User.objects.get(email="ceo@acme.example"), function="sales", title="Grow the pipeline",
            description="Because the plan says so.", key_results=ROWS,
        ),
    )  # fmt: skip
    sign_in(acme_client, acme, "analyst@acme.example")

    response = acme_client.get(f"{CREATE}?template={template.pk}")

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="template-chosen"' in html
    assert f'<option value="{template.pk}" selected>' in html
    assert 'name="title" value="Grow the pipeline"' in html
    assert "Because the plan says so.</textarea>" in html
    assert html.count('data-testid="kr-row"') == 3
    assert 'name="kr-0-title" value="Qualified pipeline from 1.2 M to 2 M EUR"' in html
    assert 'name="kr-0-currency_code" value="EUR"' in html
    assert 'data-kind="stay_between"' in html
    assert 'name="kr-1-low" value="20.0"' in html
    assert 'data-kind="milestone"' in html


def test_an_objective_made_from_a_template_gets_its_key_results_owned_by_its_owner(acme, acme_client):
    template = in_acme(
        acme,
        lambda: template_create(
            actor=User.objects.get(email="ceo@acme.example"), function="sales", title="Grow the pipeline",
            key_results=ROWS,
        ),
    )  # fmt: skip
    analyst = sign_in(acme_client, acme, "analyst@acme.example")
    page = acme_client.get(f"{CREATE}?template={template.pk}")
    # Post the form as the page prefilled it.
    form = page.context["objective_form"]
    data = {name: form[name].value() for name in form.fields}
    data.update({name: "" if value is None else value for name, value in data.items()})
    formset = page.context["formset"]
    data.update(
        {
            "kr-TOTAL_FORMS": str(len(formset.forms)), "kr-INITIAL_FORMS": "0", "kr-MIN_NUM_FORMS": "0",
            "kr-MAX_NUM_FORMS": "10", "align-q": "", "align-parent": "", "align-message": "",
        }
    )  # fmt: skip
    for row in formset.forms:
        for name in row.fields:
            value = row[name].value()
            data[row.add_prefix(name)] = "" if value is None else value

    response = acme_client.post(CREATE, data)

    assert response.status_code == 302

    def created():
        objective = Objective.objects.get(title="Grow the pipeline")
        return objective, list(
            objective.key_results.order_by("position").values_list("title", "kind", "owner_id")
        )

    objective, key_results = in_acme(acme, created)
    assert objective.owner_id == analyst.pk
    assert key_results == [
        ("Qualified pipeline from 1.2 M to 2 M EUR", "increase", analyst.pk),
        ("Win rate stays between 20% and 30%", "stay_between", analyst.pk),
        ("Sales playbook published", "milestone", analyst.pk),
    ]
    assert (
        in_acme(acme, lambda: KeyResult.objects.get(objective=objective, kind="increase").currency_code)
        == "EUR"
    )


@pytest.mark.parametrize("value", ["999999", "abc", "1e3", "-1", "\x00"])
def test_a_template_that_does_not_exist_is_a_clear_message(acme, acme_client, value):
    in_acme(acme, pack_template)
    sign_in(acme_client, acme, "analyst@acme.example")
    response = acme_client.get(CREATE, {"template": value})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="template-missing"' in html
    assert html.count('data-testid="kr-row"') == 2  # a blank objective


def test_create_page_queries_do_not_grow_with_templates(acme, acme_client):
    in_acme(acme, lambda: ObjectiveTemplate.objects.all().delete())
    own_templates(acme, 3)
    sign_in(acme_client, acme, "platform.lead@acme.example")
    _, few = get_counting(acme_client, CREATE)
    template = in_acme(acme, ObjectiveTemplate.objects.first)
    _, chosen = get_counting(acme_client, f"{CREATE}?template={template.pk}")
    own_templates(acme, 27, function="hr")
    response, many = get_counting(acme_client, CREATE)
    assert response.content.decode().count("<option value=") >= 30
    assert few == chosen == many
