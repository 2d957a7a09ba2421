from django_tenants.utils import get_public_schema_name


def organization(request):
    """The organisation whose host serves this request (None on the public host)."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == get_public_schema_name():
        return {"organization": None}
    return {"organization": tenant}
