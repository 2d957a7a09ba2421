from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from django_tenants.utils import tenant_context

from accounts.models import User
from okrs.models import Cycle
from okrs.services.cycles import cycle_activate, cycle_create

# Acme's time zone is Europe/Berlin; Q4 2026 is 92 days long.
NOW = datetime(2026, 11, 15, 11, 0, tzinfo=UTC)


@pytest.fixture
def in_acme(acme):
    with tenant_context(acme):
        yield acme


@pytest.fixture
def people(in_acme) -> SimpleNamespace:
    by_local = {u.email.split("@")[0]: u for u in User.objects.select_related("team")}
    return SimpleNamespace(
        ceo=by_local["ceo"], cto=by_local["cto"], lead=by_local["platform.lead"], sre=by_local["sre"],
        backend=by_local["backend"], analyst=by_local["analyst"], viewer=by_local["board"],
    )  # fmt: skip


@pytest.fixture
def year(people) -> Cycle:
    cycle = cycle_create(
        actor=people.ceo,
        name="FY2026",
        kind="annual",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 12, 31),
    )
    return cycle_activate(cycle=cycle, actor=people.ceo)


@pytest.fixture
def quarter(people, year) -> Cycle:
    cycle = cycle_create(
        actor=people.ceo, name="Q4 2026", kind="quarter", start_date=date(2026, 10, 1),
        end_date=date(2026, 12, 31), parent=year,
    )  # fmt: skip
    return cycle_activate(cycle=cycle, actor=people.ceo)
