"""Method packs (public schema): create a pack, publish new versions, apply a version to a
client organisation. The portal, the admin, onboarding and commands call these.

Applying copies the version into the client's schema through ``reviews.method`` (which
runs ``okrs.method`` plus the review prompts) in the same transaction as the public
``MethodPackApplication`` row and its ``PlatformEvent``: all or nothing.

``actor`` is a public user (permissions checked with ``tenants.permissions``) or ``None``
for the system (demo seeding, commands), which skips the permission check only.
"""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from accounts.models import User
from reviews import method as review_method
from tenants.events import actor_label, event_record
from tenants.models import MethodPack, MethodPackApplication, MethodPackVersion, Organization, PlatformEvent
from tenants.pack_content import pack_content_errors
from tenants.permissions import (
    can_apply_method_pack,
    can_create_method_pack,
    can_maintain_method_pack,
    is_consultant,
    is_platform_admin,
)

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG_LENGTH = 60
RESERVED_SLUGS = frozenset({"new"})  # /portal/packs/new/ is the create page
MAX_NAME_LENGTH = 120
MAX_TEXT_LENGTH = 2000


def _check(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _text_errors(errors: dict, field: str, value: object, *, required: bool, max_length: int) -> None:
    if not isinstance(value, str):
        errors[field] = [_("Give a text.")]
    elif required and not value.strip():
        errors[field] = [_("This field is required.")]
    elif len(value.strip()) > max_length:
        errors[field] = [_("At most %(max)d characters.") % {"max": max_length}]
    elif "\x00" in value:
        errors[field] = [_("Remove the NUL character.")]


def _content_errors(errors: dict, content: object) -> None:
    messages = pack_content_errors(content)
    if messages:
        errors["content"] = messages


def method_pack_validate(
    *,
    slug: str | None = None,
    name: str,
    description: str = "",
    owner: User | None,
    notes: str = "",
    content: object = None,
    check_content: bool = True,
) -> None:
    """Raise one ValidationError keyed by field for everything wrong with a pack's fields
    (``slug`` None: an existing pack, whose short name never changes)."""
    errors: dict[str, list[str]] = {}
    if slug is not None:
        if (
            not isinstance(slug, str)
            or not SLUG_PATTERN.match(slug)
            or len(slug) > MAX_SLUG_LENGTH
            or slug in RESERVED_SLUGS
        ):
            errors["slug"] = [
                _(
                    "Use lowercase letters, digits and hyphens (at most %(max)d characters), "
                    "e.g. “sales-basics”."
                )
                % {"max": MAX_SLUG_LENGTH}
            ]
        elif MethodPack.objects.filter(slug=slug).exists():
            errors["slug"] = [
                _("A method pack with the short name “%(slug)s” exists already.") % {"slug": slug}
            ]
    _text_errors(errors, "name", name, required=True, max_length=MAX_NAME_LENGTH)
    _text_errors(errors, "description", description or "", required=False, max_length=MAX_TEXT_LENGTH)
    _text_errors(errors, "notes", notes or "", required=False, max_length=MAX_TEXT_LENGTH)
    if owner is not None and not (is_consultant(owner) or is_platform_admin(owner)):
        errors["owner"] = [_("The maintainer must be an active consultant or platform admin.")]
    if check_content:
        _content_errors(errors, content)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def method_pack_create(
    *, slug: str, name: str, description: str = "", content: dict, owner: User | None, actor, notes: str = ""
) -> MethodPack:
    """A new pack maintained by ``owner`` (a consultant or platform admin), with
    ``content`` as version 1."""
    if actor is not None:
        _check(can_create_method_pack(actor), _("Only consultants and platform admins create method packs."))
    method_pack_validate(
        slug=slug, name=name, description=description, owner=owner, notes=notes, content=content
    )
    pack = MethodPack.objects.create(
        slug=slug, name=name.strip(), description=(description or "").strip(), owner=owner
    )
    MethodPackVersion.objects.create(
        pack=pack,
        number=1,
        content=content,
        notes=(notes or "").strip(),
        created_by=actor if isinstance(actor, User) else None,
    )
    event_record(PlatformEvent.Action.PACK_CREATED, organization=None, actor=actor, pack=pack.slug, version=1)
    return pack


@transaction.atomic
def method_pack_update(
    *, pack: MethodPack, name: str, description: str = "", owner: User | None, actor
) -> MethodPack:
    """Rename, describe or hand over a pack (its short name never changes: clients' data
    refer to it). Maintainers and platform admins; handing over keeps the old maintainer
    out of publishing from then on."""
    if actor is not None:
        _check(
            can_maintain_method_pack(actor, MethodPack.objects.get(pk=pack.pk)),
            _("Only the pack's maintainer (or a platform admin) changes it."),
        )
    method_pack_validate(name=name, description=description, owner=owner, check_content=False)
    locked = MethodPack.objects.select_for_update().get(pk=pack.pk)
    locked.name, locked.description, locked.owner = name.strip(), (description or "").strip(), owner
    locked.save(update_fields=["name", "description", "owner", "updated_at"])
    return locked


@transaction.atomic
def method_pack_publish(*, pack: MethodPack, content: dict, notes: str = "", actor) -> MethodPackVersion:
    """Publish ``content`` as the pack's next version. The pack row is locked, so two
    maintainers publishing at once get consecutive numbers; content identical to the
    latest version is refused (nothing would change for anyone)."""
    if actor is not None:
        _check(
            can_maintain_method_pack(actor, pack),
            _("Only the pack's maintainer (or a platform admin) publishes new versions."),
        )
    errors: dict[str, list[str]] = {}
    _text_errors(errors, "notes", notes or "", required=False, max_length=MAX_TEXT_LENGTH)
    _content_errors(errors, content)
    if errors:
        raise ValidationError(errors)
    locked = MethodPack.objects.select_for_update().get(pk=pack.pk)
    latest = locked.versions.order_by("-number").first()
    if latest is not None and latest.content == content:
        raise ValidationError(
            {
                "content": [
                    _("This is the same content as version %(number)d: change something before publishing.")
                    % {"number": latest.number}
                ]
            }
        )
    version = MethodPackVersion.objects.create(
        pack=locked,
        number=(latest.number if latest else 0) + 1,
        content=content,
        notes=(notes or "").strip(),
        created_by=actor if isinstance(actor, User) else None,
    )
    locked.save(update_fields=["updated_at"])
    event_record(
        PlatformEvent.Action.PACK_PUBLISHED, organization=None, actor=actor, pack=locked.slug,
        version=version.number,
    )  # fmt: skip
    return version


@transaction.atomic
def method_pack_apply(
    *, organization: Organization, version: MethodPackVersion, actor
) -> MethodPackApplication:
    """Copy ``version`` into the organisation's schema without overwriting what the
    client changed (``okrs.method``), record the application and a PACK_APPLIED event.
    ``result`` holds the counts (added, updated, unchanged, kept, removed) and the kept
    items."""
    if actor is not None:
        _check(
            can_apply_method_pack(actor, organization),
            _("You can apply method packs only to serving clients assigned to you."),
        )
    if organization.is_template or organization.schema_name == "public" or not organization.is_serving:
        raise ValidationError(
            {"organization": [_("Method packs are applied to serving client organisations only.")]}
        )
    problems = pack_content_errors(version.content)
    if problems:  # published versions are checked; this guards rows edited behind our back
        raise ValidationError({"version": problems})
    # One application at a time per organisation: a second one waits, then sees the first's
    # templates and record (two first applications would otherwise both create templates).
    list(Organization.objects.select_for_update().filter(pk=organization.pk).values_list("pk", flat=True))
    pack = version.pack
    now = timezone.now()
    label = actor_label(actor)
    with schema_context(organization.schema_name):
        result = review_method.method_apply(
            content=version.content,
            pack_slug=pack.slug,
            pack_name=pack.name,
            version=version.number,
            applied_by=label,
            now=now,
        )
    application = MethodPackApplication.objects.create(
        organization=organization, version=version, applied_at=now, applied_by=label, result=result
    )
    event_record(
        PlatformEvent.Action.PACK_APPLIED,
        organization=organization,
        actor=actor,
        pack=pack.slug,
        version=version.number,
        **{name: result[name] for name in ("added", "updated", "unchanged", "kept", "removed")},
    )
    return application
