"""Writes on organisations: provisioning (D3) and status changes."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context, schema_exists, tenant_context

from accounts.models import User
from accounts.services import invitation_send, set_password_path, user_create
from config.sites import host_for, site_url
from config.tasks_enqueue import enqueue
from tenants.events import event_record
from tenants.models import Domain, Organization, PlatformEvent
from tenants.schema_clone import clone_schema, correct_clone
from tenants.schema_pool import spare_take
from tenants.validators import language_errors, schema_name_for, slug_errors, timezone_errors

logger = logging.getLogger(__name__)

TEMPLATE_SCHEMA = settings.TENANT_BASE_SCHEMA


@dataclass(frozen=True)
class ProvisionResult:
    organization: Organization
    admin: User
    set_password_url: str
    method: str  # "pool" (a spare clone renamed), "clone" (of the template) or "migrations"
    seconds: float


def organization_host(organization: Organization) -> str:
    return host_for(organization.slug)


def organization_url(organization: Organization, path: str = "/") -> str:
    return site_url(organization.slug, path)


def template_state() -> str:
    """'missing', 'stale' (has unapplied migrations) or 'ready'."""
    if not schema_exists(TEMPLATE_SCHEMA):
        return "missing"
    with schema_context(TEMPLATE_SCHEMA):
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return "stale" if plan else "ready"


def template_ensure(*, verbosity: int = 0) -> str:
    """Create or migrate the template schema so that clones are complete (D3).

    The template has an Organization row (never routed: no domain) so that
    ``migrate_schemas`` keeps it migrated with every other tenant.
    """
    if not Organization.objects.filter(schema_name=TEMPLATE_SCHEMA).exists():
        Organization.objects.create(
            schema_name=TEMPLATE_SCHEMA, slug="_template", name="Template (never routed)",
            is_template=True, status=Organization.Status.SUSPENDED,
        )  # fmt: skip
    state = template_state()
    if state == "missing":
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{TEMPLATE_SCHEMA}"')
    if state != "ready":
        call_command(
            "migrate_schemas", schema_name=TEMPLATE_SCHEMA, tenant=True,
            interactive=False, verbosity=verbosity,
        )  # fmt: skip
    return state


def schema_method_prepare() -> str:
    """Before creating a schema (outside any transaction: the template is shared state):
    bring a stale template up to date, then say how the schema will be made, "clone" when
    the template exists, else "migrations". ``_create_schema`` may still take a spare."""
    if template_state() == "stale":
        template_ensure()
    return "clone" if schema_exists(TEMPLATE_SCHEMA) else "migrations"


def _create_schema(organization: Organization, method: str) -> str:
    """Create the organisation's schema; returns the path taken (see ProvisionResult.method)."""
    if method == "clone" and spare_take(organization.schema_name):
        return "pool"
    if method == "clone":
        # The template is current (checked above) and a DATA clone copies its
        # django_migrations rows, so django-tenants' follow-up "migrate --fake"
        # would only re-run post_migrate hooks: skipping it saves a third of the time.
        clone_schema(TEMPLATE_SCHEMA, organization.schema_name, organization.clone_mode)
        correct_clone(TEMPLATE_SCHEMA, organization.schema_name)
    else:
        organization.create_schema(check_if_exists=False, verbosity=0)
    return method


def _refill_spares_later() -> None:
    from tenants.tasks import refill_spare_schemas  # the tasks module imports this one

    enqueue(refill_spare_schemas, schema="public", later="the refill every 15 minutes")


def organization_validate(*, name: str, slug: str, admin_email: str, timezone: str, language: str) -> None:
    """Raise ValidationError keyed by argument name if these cannot make an organisation."""
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the organisation a name.")]
    elif len(name) > Organization._meta.get_field("name").max_length:
        errors["name"] = [_("The name is too long (200 characters at most).")]
    problems = slug_errors(slug)
    if not problems and (
        Organization.objects.filter(slug=slug).exists() or schema_exists(schema_name_for(slug))
    ):
        problems = [_("The subdomain “%(slug)s” is already taken.") % {"slug": slug}]
    if problems:
        errors["slug"] = problems
    try:
        User._meta.get_field("email").run_validators(admin_email)
        if not admin_email:
            raise ValidationError(_("Enter the e-mail address of the organisation's first admin."))
    except ValidationError as exc:
        errors["admin_email"] = exc.messages
    if problems := timezone_errors(timezone):
        errors["timezone"] = problems
    if problems := language_errors(language):
        errors["language"] = problems
    if errors:
        raise ValidationError(errors)


def organization_provision(
    *,
    name: str,
    slug: str,
    admin_email: str,
    timezone: str,
    language: str,
    actor: User | None,
    admin_name: str = "",
    status: str = Organization.Status.ACTIVE,
    send_invitation: bool = True,
) -> ProvisionResult:
    """Create an organisation: its schema (cloned from the template, or migrated when
    there is none), its domain and its first org admin, all or nothing.

    Raises ``ValidationError`` keyed by argument name; nothing is created then.
    """
    name, slug = (name or "").strip(), (slug or "").strip().lower()
    admin_email = (admin_email or "").strip().lower()
    organization_validate(name=name, slug=slug, admin_email=admin_email, timezone=timezone, language=language)

    started = time.perf_counter()
    # A stale template would be cloned and then have the missing migrations faked;
    # bring it up to date first (outside the transaction: it is shared state).
    method = schema_method_prepare()

    try:
        with transaction.atomic():
            organization = Organization(
                name=name, slug=slug, schema_name=schema_name_for(slug), timezone=timezone,
                language=language, status=status,
            )  # fmt: skip
            organization.full_clean()
            organization.save()
            method = _create_schema(organization, method)
            Domain.objects.create(
                domain=organization_host(organization), tenant=organization, is_primary=True
            )
            with tenant_context(organization):
                admin = user_create(
                    email=admin_email, full_name=admin_name, role=User.Role.ORG_ADMIN, actor=None
                )
                link = organization_url(organization, set_password_path(admin))
            event_record(
                PlatformEvent.Action.PROVISIONED, organization=organization, actor=actor,
                method=method, status=status,
            )  # fmt: skip
            if method == "pool":
                transaction.on_commit(_refill_spares_later)
            if send_invitation:
                transaction.on_commit(
                    lambda: invitation_send(user=admin, link=link, organization_name=organization.name)
                )
    except IntegrityError as exc:
        # Lost a race with a concurrent provisioning of the same slug.
        raise ValidationError(
            {"slug": [_("The subdomain “%(slug)s” is already taken.") % {"slug": slug}]}
        ) from exc
    finally:
        connection.set_schema_to_public()

    seconds = time.perf_counter() - started
    logger.info(
        "organisation %s provisioned via %s in %.2fs by %s",
        slug, method, seconds, getattr(actor, "email", "system"),
    )  # fmt: skip
    return ProvisionResult(organization, admin, link, method, seconds)


@transaction.atomic
@transaction.atomic
def organization_update(*, organization: Organization, actor: User | None, **changes) -> Organization:
    """Change an organisation's name, time zone or default language (the address and
    schema never change); records which fields changed, from what to what."""
    editable = ("name", "timezone", "language")
    unknown = set(changes) - set(editable)
    if unknown:
        raise ValidationError(_("These cannot be changed here: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    errors: dict[str, list[str]] = {}
    name = (changes.get("name", organization.name) or "").strip()
    if not name:
        errors["name"] = [_("Give the organisation a name.")]
    if "timezone" in changes and (problems := timezone_errors(changes["timezone"])):
        errors["timezone"] = problems
    if "language" in changes and (problems := language_errors(changes["language"])):
        errors["language"] = problems
    if errors:
        raise ValidationError(errors)
    changes["name"] = name
    changed = {
        field: [getattr(organization, field), value]
        for field, value in changes.items()
        if getattr(organization, field) != value
    }
    if not changed:
        return organization
    for field, (_old, value) in changed.items():
        setattr(organization, field, value)
    organization.full_clean(exclude=["schema_name", "slug", "status"])
    organization.save(update_fields=[*changed, "updated_at"])
    event_record(PlatformEvent.Action.UPDATED, organization=organization, actor=actor, changed=changed)
    return organization


def organization_set_status(*, organization: Organization, status: str, actor: User | None) -> Organization:
    """Suspend, reactivate or pilot. A suspended organisation's host answers with the
    "unavailable" page only (see tenants.middleware). Offboarding drops the schema and
    restoring brings it back, so neither is a plain status change: see tenants.offboarding."""
    if organization.is_template or organization.schema_name == "public":
        raise ValidationError(_("Only client organisations have a status."))
    if status not in Organization.Status.values:
        raise ValidationError({"status": _("Unknown status “%(s)s”.") % {"s": status}})
    # Lock the row: two admins changing the status at once record two true transitions.
    previous = (
        Organization.objects.select_for_update().values_list("status", flat=True).get(pk=organization.pk)
    )
    if Organization.Status.OFFBOARDED in (previous, status) and previous != status:
        raise ValidationError(
            {
                "status": _(
                    "%(org)s cannot be moved to or from “offboarded” here: use the offboard action "
                    "(which keeps an archive) or restore it from its archive."
                )
                % {"org": organization.name}
            }
        )
    organization.status = previous
    if previous != status:
        organization.status = status
        organization.save(update_fields=["status", "updated_at"])
        event_record(
            PlatformEvent.Action.STATUS_CHANGED, organization=organization, actor=actor,
            previous=previous, status=status,
        )  # fmt: skip
        logger.info(
            "organisation %s: %s -> %s by %s",
            organization.slug, previous, status, getattr(actor, "email", "system"),
        )  # fmt: skip
    return organization
