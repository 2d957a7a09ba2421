"""manage.py onboard_client --file client.yaml: the example file works; every problem
is reported clearly, exits 1 and creates nothing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_exists, tenant_context

from accounts.models import Team, User
from okrs.models import Cycle
from tenants.method_packs import method_pack_create, method_pack_publish
from tenants.models import ConsultantAssignment, MethodPack, MethodPackVersion, Organization, PlatformEvent
from tenants.pack_content import STARTER_CONTENT

pytestmark = pytest.mark.django_db

EXAMPLES = Path(settings.BASE_DIR) / "docs" / "examples"


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("onboard_client", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(*args) -> str:
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert caught.value.returncode == 1
    return str(caught.value)


@pytest.fixture
def workdir(tmp_path) -> Path:
    """A copy of the example (YAML + people.csv) to edit, without its method pack (the test
    database has none; the tests that want one put it back)."""
    text = (EXAMPLES / "client.yaml").read_text()
    assert "pack:\n  slug: scale-up-starter\n  version: 2" in text
    (tmp_path / "client.yaml").write_text(
        text.replace(
            "pack:\n  slug: scale-up-starter\n  version: 2", "# pack:\n#   slug: okr-starter\n#   version: 1"
        )
    )
    shutil.copy(EXAMPLES / "people.csv", tmp_path / "people.csv")
    return tmp_path


def edit(workdir: Path, old: str, new: str) -> Path:
    path = workdir / "client.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


@pytest.fixture
def platform_state(db):
    def state() -> dict:
        return {
            "organizations": Organization.objects.count(),
            "assignments": ConsultantAssignment.objects.count(),
            "events": PlatformEvent.objects.count(),
            "initrode_schema": schema_exists("initrode"),
        }

    return state


@pytest.fixture
def demo_pack(db) -> MethodPack:
    """The pack the example file names (seed_demo makes it; the test database has no demo pack)."""
    coach = User.objects.get(email="coach@platform.example")
    pack = method_pack_create(
        slug="scale-up-starter", name="Scale-up OKR starter",
        content={**STARTER_CONTENT, "cadence": "biweekly"}, owner=coach, actor=None,
    )  # fmt: skip
    method_pack_publish(pack=pack, content=STARTER_CONTENT, actor=None)
    return pack


def test_the_example_file_onboards_initrode(django_capture_on_commit_callbacks, demo_pack):
    with django_capture_on_commit_callbacks(execute=True):
        out, err = run("--file", str(EXAMPLES / "client.yaml"), "--consultant", "coach@platform.example")

    organization = Organization.objects.get(slug="initrode")
    assert (organization.name, organization.timezone, organization.language) == (
        "Initrode",
        "Europe/Berlin",
        "en",
    )
    assert out.splitlines()[0].startswith("Onboarded Initrode at http://initrode.localhost/ in ")
    assert [re.sub(r" \(\d+\.\d\d s\)$", "", line) for line in out.splitlines()[1:7]] == [
        "  ✓ Check the details",
        "  ✓ Create the organisation (schema, address, org admin) — initrode.localhost (clone)",
        f"  ✓ Open the first cycles — {', '.join(sorted(organization_cycles(organization)))}",
        "  ✓ Import the people — 5 invited, 0 updated",
        "  ✓ Assign the consultants — coach@platform.example",
        "  ✓ Apply the method pack — Scale-up OKR starter v2",
    ]
    assert out.splitlines()[-2] == "The org admin bill.lumbergh@initech.example sets a password here:"
    assert out.splitlines()[-1].startswith("  http://initrode.localhost/")
    assert "Import the people" in err  # the progress bar names the steps
    with tenant_context(organization):
        assert User.objects.count() == 6
        assert User.objects.get(email="michael.bolton@initech.example").manager.email == (
            "peter.gibbons@initech.example"
        )
        assert sorted(Team.objects.values_list("name", flat=True)) == [
            "Engineering",
            "Operations",
            "Platform",
        ]
    assert list(
        ConsultantAssignment.objects.filter(organization=organization).values_list(
            "consultant__email", flat=True
        )
    ) == ["coach@platform.example"]
    assert len(mail.outbox) == 6
    assert organization.pack_applications.get().version.number == 2


def organization_cycles(organization: Organization) -> list[str]:
    with tenant_context(organization):
        return list(Cycle.objects.values_list("name", flat=True))


def test_a_pack_is_found_by_slug_and_its_latest_version_applied(workdir):
    coach = User.objects.get(email="coach@platform.example")
    pack = MethodPack.objects.create(slug="okr-starter", name="OKR starter", owner=coach)
    MethodPackVersion.objects.create(pack=pack, number=1, content={"cadence": "weekly"})
    latest = MethodPackVersion.objects.create(pack=pack, number=2, content={"cadence": "monthly"})
    path = edit(workdir, "# pack:\n#   slug: okr-starter\n#   version: 1", "pack:\n  slug: okr-starter")

    run("--file", str(path), "--consultant", "coach@platform.example")

    organization = Organization.objects.get(slug="initrode")
    assert organization.pack_applications.get().version == latest
    with tenant_context(organization):
        assert set(Cycle.objects.values_list("cadence", flat=True)) == {"monthly"}


def test_a_yaml_syntax_error_names_its_line_and_creates_nothing(workdir, platform_state):
    path = edit(workdir, "admin:                         #", "admin: [unclosed\n  #")
    before = platform_state()

    message = refused("--file", str(path))

    assert message.startswith("Nothing was created:\n  client.yaml, line ")
    assert re.search(r"client\.yaml, line \d+: the YAML is not valid", message)
    assert platform_state() == before


def test_the_command_exits_with_1_and_the_line_in_its_own_process(workdir):
    path = edit(workdir, "admin:                         #", "admin: [unclosed\n  #")
    environment = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "OKR_TEST_DATABASE_NAME": connection.settings_dict["NAME"],
    }  # fmt: skip

    finished = subprocess.run(
        [sys.executable, "manage.py", "onboard_client", "--file", str(path)],
        cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert finished.returncode == 1
    assert re.search(
        r"CommandError: Nothing was created:\n  client\.yaml, line \d+: the YAML is not valid",
        finished.stderr,
    )
    assert finished.stdout == ""


def test_a_failure_after_provisioning_leaves_nothing_in_a_real_transaction(workdir):
    """In its own process the onboarding's transaction is the outermost one (not a test's
    savepoint): the schema, cloned before the people file failed, is gone after the rollback."""
    (workdir / "people.csv").write_text("email,manager_email\nann@initech.example,nobody@initech.example\n")
    path = edit(workdir, "slug: initrode ", "slug: initech-sub ")
    environment = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "OKR_TEST_DATABASE_NAME": connection.settings_dict["NAME"],
    }  # fmt: skip

    finished = subprocess.run(
        [sys.executable, "manage.py", "onboard_client", "--file", str(path), "-v", "0"],
        cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip

    assert finished.returncode == 1, finished.stderr
    assert "Nothing was created (stopped at: Import the people)." in finished.stderr
    assert not Organization.objects.filter(slug="initech-sub").exists()
    assert not schema_exists("initech_sub")
    assert not PlatformEvent.objects.filter(organization_slug="initech-sub").exists()


def test_a_missing_file_is_reported(tmp_path):
    assert (
        refused("--file", str(tmp_path / "nope.yaml"))
        == f"Nothing was created:\n  {tmp_path / 'nope.yaml'}: no such file."
    )


def test_every_problem_of_the_file_is_listed_at_once(workdir, platform_state):
    path = edit(
        workdir, "people_csv: people.csv", "people_csv: missing.csv\npack: {slug: nowhere}\ncolour: red"
    )
    path = edit(
        workdir, "  - coach@platform.example", "  - coach@platform.example\n  - ghost@platform.example"
    )
    before = platform_state()

    message = refused("--file", str(path), "--consultant", "coach@platform.example")

    assert message.splitlines() == [
        "Nothing was created:",
        "  unknown key(s) colour; use admin, consultants, cycle, language, name, pack, people_csv, slug, "
        "status, timezone.",
        f"  people_csv: no file {workdir / 'missing.csv'}.",
        "  pack.slug: no method pack “nowhere”.",
        "  consultants: ghost@platform.example is not a consultant account.",
    ]
    assert platform_state() == before


def test_an_unknown_pack_version_lists_the_known_ones(workdir):
    coach = User.objects.get(email="coach@platform.example")
    pack = MethodPack.objects.create(slug="okr-starter", name="OKR starter", owner=coach)
    MethodPackVersion.objects.create(pack=pack, number=1, content={"cadence": "weekly"})
    path = edit(
        workdir, "# pack:\n#   slug: okr-starter\n#   version: 1", "pack:\n  slug: okr-starter\n  version: 7"
    )

    assert refused("--file", str(path)) == (
        "Nothing was created:\n  pack.version: “okr-starter” has no version 7 (it has 1)."
    )


def test_an_unknown_acting_consultant_is_refused(platform_state):
    before = platform_state()

    message = refused("--file", str(EXAMPLES / "client.yaml"), "--consultant", "nobody@platform.example")

    assert message == "Nothing was created: nobody@platform.example is not an active consultant account."
    assert platform_state() == before


def test_bad_people_rows_are_listed_and_nothing_is_created(
    workdir, platform_state, django_capture_on_commit_callbacks
):
    (workdir / "people.csv").write_text(
        "email,name,manager_email,role\nann@initech.example,Ann,nobody@initech.example,member\nbob@initech.example,Bob,,boss\n"
    )
    before = platform_state()

    with django_capture_on_commit_callbacks() as callbacks:
        message = refused("--file", str(workdir / "client.yaml"))

    assert message.splitlines() == [
        "Nothing was created (stopped at: Import the people).",
        "  people_csv: The people file has problems (listed by row); nothing was imported.",
        "    people_csv row 2, column manager_email: Nobody with the e-mail address nobody@initech.example "
        "is in the organisation or in this file.",
        "    people_csv row 3, column role: Unknown role “boss”: use org_admin, manager, member or viewer.",
    ]
    assert platform_state() == before
    assert callbacks == []


def test_rule_errors_name_the_yaml_keys(workdir, platform_state):
    path = edit(workdir, "slug: initrode ", "slug: acme ")
    path = edit(
        workdir,
        "  plan: annual_and_quarter",
        "  plan: custom\n  name: Pilot\n  start: 2026-05-01\n  end: 2026-04-01",
    )
    before = platform_state()

    message = refused("--file", str(path))

    assert message.splitlines() == [
        "Nothing was created (stopped at: Check the details).",
        "  slug: The subdomain “acme” is already taken.",
        "  cycle.end: The cycle must end on or after its start date.",
    ]
    assert platform_state() == before
