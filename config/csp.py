"""The Content-Security-Policy middleware (settings in config/settings/base.py, docs/security.md)."""

from csp.constants import UNSAFE_INLINE
from csp.middleware import CSPMiddleware, PolicyParts


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with inline styles allowed on the Django admin's pages only.

    django-tenants' admin templates (TENANT_COLOR_ADMIN_APPS) colour the app list, which is on
    every admin page, with a <style> element and style attributes. Scripts stay 'self' there too.
    """

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        match = getattr(request, "resolver_match", None)
        if match is not None and "admin" in match.namespaces:
            update = dict(parts.update or {})
            update["style-src"] = [*update.get("style-src", []), UNSAFE_INLINE]
            parts.update = update
        return parts
