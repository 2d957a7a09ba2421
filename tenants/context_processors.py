from tenants.middleware import organization_of


def organization(request):
    """The organisation whose host serves this request (None on the public host)."""
    return {"organization": organization_of(request)}
