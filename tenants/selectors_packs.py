"""Reads for the method pack pages of the portal (public schema). Each function is a fixed
number of queries, whatever the number of packs, versions or clients.

Which clients use a pack is shown for the consultant's own clients only (assigned, access
not revoked): the library is shared, the client list is not."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Max, QuerySet

from tenants.models import MethodPack, MethodPackApplication, MethodPackVersion, Organization


@dataclass
class ClientUse:
    organization: Organization
    version: int
    application: MethodPackApplication


@dataclass
class PackRow:
    pack: MethodPack
    latest: int | None
    version_count: int
    clients: list[ClientUse] = field(default_factory=list)


def my_serving_clients(consultant) -> QuerySet[Organization]:
    """Clients a pack may be applied to by ``consultant``: assigned, access not revoked,
    serving (see ``tenants.permissions.can_apply_method_pack``)."""
    return (
        Organization.objects.serving()
        .filter(
            consultant_assignments__consultant=consultant, consultant_assignments__revoked_at__isnull=True
        )
        .order_by("name", "pk")
    )


def _my_client_ids(consultant) -> QuerySet:
    return (
        Organization.objects.clients()
        .filter(
            consultant_assignments__consultant=consultant, consultant_assignments__revoked_at__isnull=True
        )
        .values("pk")
    )


def latest_applications(consultant, packs: list[MethodPack] | None = None) -> list[MethodPackApplication]:
    """The latest application of each pack to each of my clients (one query)."""
    applications = MethodPackApplication.objects.filter(organization__in=_my_client_ids(consultant))
    if packs is not None:
        applications = applications.filter(version__pack__in=[p.pk for p in packs])
    return list(
        applications.select_related("organization", "version")
        .order_by("organization_id", "version__pack_id", "-applied_at", "-id")
        .distinct("organization_id", "version__pack_id")
    )


def pack_rows(consultant) -> list[PackRow]:
    """Every pack of the library with its maintainer, latest version number and which of
    my clients use which version (two queries)."""
    packs = list(
        MethodPack.objects.select_related("owner")
        .annotate(latest=Max("versions__number"), version_count=Count("versions"))
        .order_by("name", "pk")
    )
    rows = {
        pack.pk: PackRow(pack=pack, latest=pack.latest, version_count=pack.version_count) for pack in packs
    }
    for application in latest_applications(consultant):
        row = rows.get(application.version.pack_id)
        if row is not None:
            row.clients.append(ClientUse(application.organization, application.version.number, application))
    for row in rows.values():
        row.clients.sort(key=lambda use: (use.organization.name.lower(), use.organization.pk))
    return list(rows.values())


def pack_by_slug(slug: str) -> MethodPack | None:
    return MethodPack.objects.select_related("owner").filter(slug=slug).first()


def pack_versions(pack: MethodPack) -> list[MethodPackVersion]:
    """Newest first, with who published each (one query)."""
    return list(pack.versions.select_related("created_by").order_by("-number"))


def pack_clients(consultant, pack: MethodPack) -> list[ClientUse]:
    """Which of my clients use ``pack``, and which version (one query)."""
    uses = [
        ClientUse(application.organization, application.version.number, application)
        for application in latest_applications(consultant, [pack])
    ]
    return sorted(uses, key=lambda use: (use.organization.name.lower(), use.organization.pk))


def my_application(consultant, pk: int) -> MethodPackApplication | None:
    """One application to one of my clients (None otherwise)."""
    return (
        MethodPackApplication.objects.filter(pk=pk, organization__in=_my_client_ids(consultant))
        .select_related("organization", "version__pack")
        .first()
    )
