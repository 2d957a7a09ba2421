"""English and Simplified Chinese: the catalog is compiled and used where people read."""

from datetime import UTC, datetime

import pytest
from django.utils import translation
from django.utils.translation import gettext
from django_tenants.utils import tenant_context

from accounts.models import InboxItem, User
from okrs.services.objectives import key_result_create, objective_create

pytestmark = pytest.mark.django_db


def chinese(text: str) -> str:
    with translation.override("zh-hans"):
        return gettext(text)


def test_every_message_of_the_interface_has_a_chinese_translation():
    for text in ["Sign in", "Forgot your password?", "Sign out", "Language", "Reset your password"]:
        assert chinese(text) != text, text


def test_globex_pages_speak_chinese_and_acme_pages_english(globex_client, acme_client):
    globex = globex_client.get("/login/").content.decode()
    acme = acme_client.get("/login/").content.decode()

    assert chinese("Forgot your password?") in globex
    assert "Forgot your password?" in acme


def test_reminders_are_written_in_the_persons_language(globex):
    from okrs.models import KeyResult
    from okrs.services.cycles import cycle_activate, cycle_create
    from reviews.reminders import run_reminders

    monday_morning = datetime(2026, 11, 30, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
    with tenant_context(globex):
        admin = User.objects.get(email="ceo@globex.example")
        person = User.objects.get(email="analyst@globex.example")  # no language of their own: the org's
        cycle = cycle_create(
            actor=admin, name="Q4", kind="custom", start_date=monday_morning.date().replace(day=1),
            end_date=monday_morning.date().replace(month=12, day=31),
        )  # fmt: skip
        cycle_activate(cycle=cycle, actor=admin)
        objective = objective_create(actor=admin, cycle=cycle, owner=person, title="增长", state="active")
        key_result_create(
            actor=admin, objective=objective, title="注册 0→10", kind="increase", start=0, target=10
        )
        KeyResult.objects.filter(objective=objective).update(created_at=datetime(2026, 11, 1, tzinfo=UTC))

        run_reminders(monday_morning)

        title = InboxItem.objects.get(user=person, kind="checkin_due").title
    with translation.override("zh-hans"):
        expected = translation.ngettext(
            "Check-in day: %(n)d key result is waiting for your update",
            "Check-in day: %(n)d key results are waiting for your update",
            1,
        ) % {"n": 1}
    assert title == expected
    assert not expected.startswith("Check-in day")  # really translated


def test_the_chinese_catalog_is_complete_and_compiled():
    from pathlib import Path

    po = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    entries = po.read_text(encoding="utf-8").split("\n\n")[1:]  # the first block is the header
    untranslated = [e for e in entries if 'msgstr ""' in e.splitlines()[-1] and "msgstr[" not in e]

    assert untranslated == []
    assert mo.exists()
    assert mo.stat().st_mtime >= po.stat().st_mtime - 1  # `make messages` compiles after editing


def test_key_result_validation_messages_are_translated():
    from okrs import scoring

    with translation.override("zh-hans"):
        errors = scoring.key_result_errors("increase", start=5, target=5, weight=0)
        finite = scoring.check_in_value_errors("increase", float("inf"), 5)

    assert errors == {
        "target": "对于“提升”型关键结果，目标值必须大于起始值。",
        "weight": "权重必须大于 0。",
    }
    assert finite == {"value": "数值必须是有限数值。"}
    assert scoring.key_result_errors("increase", start=5, target=5)["target"].startswith(
        "Target must be greater"
    )
