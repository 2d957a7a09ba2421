"""The warm pool of spare schemas (D3): provisioning renames a spare clone of the template
when one is ready, and clones (or migrates) otherwise; stale spares are never used."""

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_exists, tenant_context

from accounts.models import User
from tenants.models import Domain, Organization, SpareSchema
from tenants.schema_pool import spare_drop_all, spare_fill, spare_take
from tests.tenants.test_provisioning import catalog, provision, schema_count

pytestmark = pytest.mark.django_db

TEMPLATE = "tenant_template"


@pytest.fixture
def pool(settings):
    settings.TENANT_SPARE_SCHEMAS = 1
    assert spare_fill() == 1
    return SpareSchema.objects.get()


def test_fill_makes_current_spares_up_to_the_setting(settings, pool):
    assert schema_exists(pool.schema_name)
    assert spare_fill() == 0  # already full

    settings.TENANT_SPARE_SCHEMAS = 2
    assert spare_fill() == 1
    assert SpareSchema.objects.count() == 2


def test_provisioning_takes_the_spare_and_asks_for_a_refill(pool, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = provision()

    assert result.method == "pool"
    assert not SpareSchema.objects.exists()
    assert not schema_exists(pool.schema_name)
    assert schema_exists("newco")
    with tenant_context(result.organization):
        assert User.objects.get().role == User.Role.ORG_ADMIN
    refills = [c for c in callbacks if c.__name__ == "_refill_spares_later"]
    assert len(refills) == 1


def test_a_pooled_schema_is_identical_to_a_migrated_one(pool):
    pooled = provision("viapool").organization
    assert provision("viaclone").method == "clone"  # the pool is empty now

    assert catalog(pooled.schema_name) == catalog("viaclone")


def test_a_stale_spare_is_dropped_not_used(pool):
    SpareSchema.objects.update(template_fingerprint="made-before-a-migration")

    result = provision()

    assert result.method == "clone"
    assert not schema_exists(pool.schema_name)
    assert not SpareSchema.objects.exists()


def test_a_failed_provisioning_puts_the_spare_back(acme, pool):
    Domain.objects.create(domain="newco.localhost", tenant=acme, is_primary=False)
    schemas = schema_count()

    with pytest.raises(ValidationError):
        provision()

    assert schema_count() == schemas
    assert SpareSchema.objects.get() == pool
    assert schema_exists(pool.schema_name)
    assert not schema_exists("newco")
    assert not Organization.objects.filter(slug="newco").exists()


def test_the_pool_is_off_when_the_setting_is_zero(settings, pool):
    settings.TENANT_SPARE_SCHEMAS = 0

    assert spare_take("unused") is False
    assert SpareSchema.objects.get() == pool


def test_drop_all_removes_every_spare(pool):
    assert spare_drop_all() == 1
    assert not schema_exists(pool.schema_name)
    assert not SpareSchema.objects.exists()
