"""Business quotas per token (or per person for the web UI's session calls), separately
for reads and writes. A quota, not brute-force protection (see pitfalls: DRF)."""

from __future__ import annotations

import logging

from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken

logger = logging.getLogger(__name__)


class _QuotaThrottle(SimpleRateThrottle):
    applies_to_safe_methods: bool

    def allow_request(self, request, view):
        """The quota lives in the cache (Redis). When Redis is down, the request goes through
        uncounted: a quota shields the service from one busy integration, and refusing every
        call (or a 500) while Redis restarts would be worse than a minute without quotas."""
        try:
            return super().allow_request(request, view)
        except Exception as error:  # redis-py's ConnectionError/TimeoutError, whatever the client
            logger.warning("API quota not checked, cache unavailable (%s: %s)", type(error).__name__, error)
            return True

    def get_cache_key(self, request, view):
        if (request.method in SAFE_METHODS) != self.applies_to_safe_methods:
            return None
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        # The cache key function adds the schema, so organisations never share a counter.
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ApiReadThrottle(_QuotaThrottle):
    scope = "api_read"
    applies_to_safe_methods = True


class ApiWriteThrottle(_QuotaThrottle):
    scope = "api_write"
    applies_to_safe_methods = False
