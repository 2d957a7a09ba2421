from accounts.selectors import cache_report_ids_for_request


class RequestScopedReportsMiddleware:
    """Lets the signed-in person's reporting lines be read once per request: every
    permission decision about "their reports" (visibility, calibration, editing) asks for
    them, often several times on one page. Runs after authentication."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            cache_report_ids_for_request(user)
        return self.get_response(request)
