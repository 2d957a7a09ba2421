"""The expectation table: every route of both URLconfs, classified. A route missing here, or
listed here but gone, fails ``test_every_route_is_classified``.

Classes of tenant routes:
- PUBLIC: sign-in and password pages, the consultant entry page, the API's schema/docs:
  anyone, never a 500.
- WEB: needs a signed-in person of this organisation (anonymous → redirect to /login/).
- API: /api/v1/ (anonymous → 401).
``KINDS`` names the object kind each URL parameter takes (filled from ``World.own`` /
``World.foreign``)."""

from __future__ import annotations

PUBLIC = "public"
WEB = "web"
API = "api"
POST_ONLY = "post_only"  # GET answers 405 before any lookup
PORTAL = "portal"  # the consultant portal on the public host: see PORTAL below

ROLES = ("org_admin", "manager", "member", "peer", "viewer", "consultant")


def _r(*statuses: int) -> dict[str, int]:
    """Statuses in ROLES order."""
    return dict(zip(ROLES, statuses, strict=True))


def _w(*statuses: int | None) -> dict[str, int]:
    """Statuses in ROLES order; None: an allowed write (not sent: covered by the feature tests)."""
    return {role: status for role, status in zip(ROLES, statuses, strict=True) if status is not None}


_PK = {
    "inbox/": "inbox_item", "api-tokens/": "token", "settings/people/": "person", "settings/teams/": "team",
    "settings/webhooks/": "webhook", "key-results/": "key_result", "objectives/": "objective",
    "initiatives/": "initiative", "alignment-proposals/": "proposal", "escalations/": "escalation",
    "kpis/": "kpi", "okrs/cycles/": "cycle", "comments/": "comment", "settings/method/templates/": "template",
    "reviews/": "review", "settings/cycles/": "cycle", "settings/review-cycles/": "review_cycle",
    "api/v1/tokens/": "token", "api/v1/users/": "person", "api/v1/teams/": "team",
    "api/v1/inbox/": "inbox_item",
    "api/v1/webhooks/": "webhook", "api/v1/cycles/": "cycle", "api/v1/objectives/": "objective",
    "api/v1/key-results/": "key_result", "api/v1/initiatives/": "initiative", "api/v1/kpis/": "kpi",
    "api/v1/alignment-proposals/": "proposal", "api/v1/escalations/": "escalation",
    "api/v1/review-cycles/": "review_cycle", "api/v1/reviews/": "review",
    "api/v1/peer-feedback-requests/": "feedback_request",
}  # fmt: skip
_OTHER = {
    "request_pk": "feedback_request",
    "kpi_id": "kpi",
    "webhook_pk": "webhook",
    "consultant_id": "consultant_user",
}


def kind_of(pattern: str, param: str) -> str | None:
    """The object kind of ``param`` in ``pattern`` (None: not an object id)."""
    if param == "pk":
        if pattern.startswith("reviews/<int:pk>/feedback/"):
            return "feedback_review"
        return _PK[max((p for p in _PK if pattern.startswith(p)), key=len)]
    return _OTHER.get(param)


LITERALS = {
    "fmt": "csv", "uidb64": "MQ", "token": "not-a-token", "slug": "acme", "key": "0123456789abcdef",
    "ext": "png",
}  # fmt: skip

# pattern -> class; "post_only" routes are WEB routes whose GET is 405.
TENANT = {
    "": WEB,
    "login/": PUBLIC, "logout/": PUBLIC, "password-reset/": PUBLIC, "password-reset/sent/": PUBLIC,
    "set-password/<uidb64>/<token>/": PUBLIC, "set-password/done/": PUBLIC,
    "inbox/": WEB, "inbox/<int:pk>/read/": POST_ONLY, "inbox/read-all/": POST_ONLY,
    "api-tokens/": WEB, "api-tokens/<int:pk>/revoke/": POST_ONLY,
    "settings/": WEB, "settings/people/invite/": WEB, "settings/people/<int:pk>/": WEB,
    "settings/people/<int:pk>/deactivate/": POST_ONLY, "settings/people/<int:pk>/reactivate/": POST_ONLY,
    "settings/people/<int:pk>/resend-invitation/": POST_ONLY,
    "settings/teams/": WEB, "settings/teams/<int:pk>/": WEB,
    "settings/teams/<int:pk>/rename/": POST_ONLY, "settings/teams/<int:pk>/move/": POST_ONLY,
    "settings/notifications/": WEB, "settings/import/": WEB, "settings/import/people-template.csv": WEB,
    "settings/webhooks/": WEB, "settings/webhooks/<int:pk>/": WEB,
    "settings/webhooks/<int:pk>/enable/": POST_ONLY, "settings/webhooks/<int:pk>/disable/": POST_ONLY,
    "settings/webhooks/<int:pk>/rotate-secret/": POST_ONLY, "settings/webhooks/<int:pk>/test/": POST_ONLY,
    "settings/webhooks/<int:pk>/delete/": POST_ONLY,
    "key-results/<int:pk>/check-in/": WEB, "okrs/": WEB, "objectives/<int:pk>/": WEB,
    "objectives/<int:pk>/live/": WEB, "key-results/<int:pk>/initiatives/new/": POST_ONLY,
    "initiatives/<int:pk>/done/": POST_ONLY, "alignment-proposals/<int:pk>/accept/": WEB,
    "alignment-proposals/<int:pk>/decline/": WEB, "objectives/new/": WEB, "objectives/<int:pk>/edit/": WEB,
    "objectives/<int:pk>/align/": WEB, "objectives/<int:pk>/key-results/new/": WEB,
    "key-results/<int:pk>/edit/": WEB, "okrs/quality-preview/": POST_ONLY, "okrs/alignment-search/": WEB,
    "escalations/<int:pk>/acknowledge/": WEB, "escalations/<int:pk>/resolve/": WEB,
    "kpis/": WEB, "kpis/<int:pk>/readings/": POST_ONLY, "health/": WEB, "settings/okrs/": WEB,
    "settings/import/okrs/": WEB, "settings/import/okrs-template.csv": WEB,
    "okrs/cycles/<int:pk>/export/<str:fmt>/": WEB, "objectives/<int:pk>/comments/": POST_ONLY,
    "comments/<int:pk>/delete/": POST_ONLY, "settings/method/": WEB, "settings/method/templates/new/": WEB,
    "settings/method/templates/<int:pk>/": WEB, "settings/method/templates/<int:pk>/delete/": POST_ONLY,
    "reviews/": WEB, "reviews/<int:pk>/": WEB, "reviews/<int:pk>/submit/": WEB,
    "reviews/<int:pk>/calibrate/": WEB, "reviews/<int:pk>/contest/": WEB, "reviews/<int:pk>/resolve/": WEB,
    "reviews/<int:pk>/close/": WEB, "reviews/<int:pk>/feedback/request/": WEB,
    "reviews/<int:pk>/feedback/<int:request_pk>/answer/": WEB,
    "settings/cycles/": WEB, "settings/cycles/<int:pk>/activate/": POST_ONLY,
    "settings/cycles/<int:pk>/close/": WEB, "settings/cycles/<int:pk>/schedule-reviews/": POST_ONLY,
    "settings/review-cycles/<int:pk>/open/": POST_ONLY, "settings/review-cycles/<int:pk>/close/": WEB,
    "settings/reviews/": WEB, "settings/reviews/prompts/": POST_ONLY,
    "api/schema/": PUBLIC, "api/docs/": PUBLIC, "api/redoc/": PUBLIC,
    "enter/<str:token>/": PUBLIC,
    "settings/consultants/": WEB, "settings/consultants/<int:consultant_id>/revoke/": POST_ONLY,
    "settings/consultants/<int:consultant_id>/restore/": POST_ONLY,
    "i18n/setlang/": PUBLIC,
}  # fmt: skip

# Own organisation, API, GET by token: role -> status (others: org_admin, manager, member, peer,
# viewer, consultant). Checked against the rules in */permissions.py: webhooks are org admins'
# (403 otherwise); tokens, inbox items and peer-feedback requests are their owner's (org admins
# also see tokens); the review and its review cycle are hidden (404) from people with no part
# in it; writes are refused (see API_WRITES).
ALL_200 = dict.fromkeys(("org_admin", "manager", "member", "peer", "viewer", "consultant"), 200)
ADMIN_ONLY = {**dict.fromkeys(ALL_200, 403), "org_admin": 200}
_NOT_ALLOWED = dict.fromkeys(ALL_200, 405)
API_GET = {
    "api/v1/tokens/": ALL_200,
    "api/v1/tokens/<int:pk>/": {**dict.fromkeys(ALL_200, 404), "org_admin": 200, "member": 200},
    "api/v1/tokens/<int:pk>/revoke/": _NOT_ALLOWED,
    "api/v1/me/": ALL_200, "api/v1/users/": ALL_200, "api/v1/users/<int:pk>/": ALL_200,
    "api/v1/users/<int:pk>/deactivate/": _NOT_ALLOWED, "api/v1/users/<int:pk>/reactivate/": _NOT_ALLOWED,
    "api/v1/teams/": ALL_200, "api/v1/teams/<int:pk>/": ALL_200, "api/v1/inbox/": ALL_200,
    "api/v1/inbox/read-all/": _NOT_ALLOWED,
    "api/v1/inbox/<int:pk>/": {**dict.fromkeys(ALL_200, 404), "member": 200},
    "api/v1/inbox/<int:pk>/read/": _NOT_ALLOWED,
    "api/v1/webhooks/": ADMIN_ONLY, "api/v1/webhooks/<int:pk>/": ADMIN_ONLY,
    "api/v1/webhooks/<int:pk>/rotate-secret/": {**ADMIN_ONLY, "org_admin": 405},
    "api/v1/webhooks/<int:pk>/test/": {**ADMIN_ONLY, "org_admin": 405},
    "api/v1/webhooks/<int:webhook_pk>/deliveries/": ADMIN_ONLY,
    "api/v1/imports/people/": _NOT_ALLOWED,
    "api/v1/cycles/": ALL_200, "api/v1/cycles/<int:pk>/": ALL_200,
    "api/v1/objectives/": ALL_200, "api/v1/objectives/<int:pk>/": ALL_200,
    "api/v1/key-results/": ALL_200, "api/v1/key-results/<int:pk>/": ALL_200,
    "api/v1/check-ins/": ALL_200, "api/v1/initiatives/": ALL_200, "api/v1/initiatives/<int:pk>/": ALL_200,
    "api/v1/initiatives/<int:pk>/done/": _NOT_ALLOWED,
    "api/v1/kpis/": ALL_200, "api/v1/kpis/<int:pk>/": ALL_200, "api/v1/kpis/<int:kpi_id>/readings/": ALL_200,
    "api/v1/alignment-proposals/": ALL_200, "api/v1/alignment-proposals/<int:pk>/": ALL_200,
    "api/v1/alignment-proposals/<int:pk>/accept/": _NOT_ALLOWED,
    "api/v1/alignment-proposals/<int:pk>/decline/": _NOT_ALLOWED,
    "api/v1/alignment-proposals/<int:pk>/withdraw/": _NOT_ALLOWED,
    "api/v1/escalations/": ALL_200, "api/v1/escalations/<int:pk>/": ALL_200,
    "api/v1/escalations/<int:pk>/acknowledge/": _NOT_ALLOWED,
    "api/v1/escalations/<int:pk>/resolve/": _NOT_ALLOWED,
    "api/v1/imports/okrs/": _NOT_ALLOWED, "api/v1/cycles/<int:pk>/export/": ALL_200,
    "api/v1/review-cycles/": ALL_200,
    "api/v1/review-cycles/<int:pk>/": {**ALL_200, "peer": 404, "viewer": 404},
    "api/v1/review-cycles/<int:pk>/close/": _NOT_ALLOWED, "api/v1/review-cycles/<int:pk>/open/": _NOT_ALLOWED,
    "api/v1/reviews/": ALL_200,
    "api/v1/reviews/<int:pk>/": {**ALL_200, "peer": 404, "viewer": 404},
    **{f"api/v1/reviews/<int:pk>/{a}/": _NOT_ALLOWED for a in (
        "calibrate", "close", "contest", "request-feedback", "resolve-contest", "submit-self")},
    "api/v1/peer-feedback-requests/": ALL_200,
    "api/v1/peer-feedback-requests/<int:pk>/": {**dict.fromkeys(ALL_200, 404), "peer": 200},
    "api/v1/peer-feedback-requests/<int:pk>/answer/": _NOT_ALLOWED,
}  # fmt: skip

# Own organisation, API, refused writes by token (POST, empty JSON body unless named): role ->
# status. The rule (accounts.permissions.require): a refused request is refused whatever it
# sent, so an empty body must still give 403/404, never a 400 that reveals validation ran.
_NON_ADMIN_403 = dict.fromkeys(("manager", "member", "peer", "viewer", "consultant"), 403)
API_WRITES = {
    "api/v1/tokens/<int:pk>/revoke/": {"manager": 404, "peer": 404, "consultant": 404, "viewer": 403},
    "api/v1/users/": _NON_ADMIN_403,
    "api/v1/users/<int:pk>/deactivate/": _NON_ADMIN_403,
    "api/v1/users/<int:pk>/reactivate/": _NON_ADMIN_403,
    "api/v1/teams/": _NON_ADMIN_403,
    "api/v1/inbox/<int:pk>/read/": _w(404, 404, None, 404, 403, 404),
    "api/v1/webhooks/": _NON_ADMIN_403,
    "api/v1/webhooks/<int:pk>/rotate-secret/": _NON_ADMIN_403,
    "api/v1/webhooks/<int:pk>/test/": _NON_ADMIN_403,
    "api/v1/objectives/": {"viewer": 403}, "api/v1/key-results/": {"viewer": 403},
    "api/v1/check-ins/": {"viewer": 403}, "api/v1/initiatives/": {"viewer": 403},
    "api/v1/kpis/": {"viewer": 403},
    "api/v1/initiatives/<int:pk>/done/": {"peer": 403, "viewer": 403, "consultant": 403},
    "api/v1/alignment-proposals/<int:pk>/accept/": _NON_ADMIN_403,
    "api/v1/alignment-proposals/<int:pk>/decline/": _NON_ADMIN_403,
    "api/v1/escalations/<int:pk>/acknowledge/": {"peer": 403, "viewer": 403, "consultant": 403},
    "api/v1/escalations/<int:pk>/resolve/": {"peer": 403, "viewer": 403, "consultant": 403},
    "api/v1/review-cycles/<int:pk>/close/": {"manager": 403, "member": 403, "peer": 404, "viewer": 403},
    "api/v1/review-cycles/<int:pk>/open/": {"manager": 403, "member": 403, "peer": 404, "viewer": 403},
    "api/v1/reviews/<int:pk>/calibrate/": _w(None, None, 403, 404, 403, 403),
    "api/v1/reviews/<int:pk>/close/": _w(None, None, 403, 404, 403, 403),
    "api/v1/reviews/<int:pk>/contest/": _w(403, 403, None, 404, 403, 403),
    "api/v1/reviews/<int:pk>/resolve-contest/": _w(None, None, 403, 404, 403, 403),
    "api/v1/reviews/<int:pk>/submit-self/": _w(403, 403, None, 404, 403, 403),
    "api/v1/reviews/<int:pk>/request-feedback/": {"peer": 404, "viewer": 403, "consultant": 403},
    "api/v1/imports/people/": _NON_ADMIN_403,
    "api/v1/imports/okrs/": _NON_ADMIN_403,
    "api/v1/peer-feedback-requests/<int:pk>/answer/": _w(404, 404, 404, None, 403, 404),
}  # fmt: skip

# Cells whose actual behaviour contradicts the rule above (strict xfail, so a fix shows up as
# XPASS and fails until removed). None left: the imports now check the permission first.
KNOWN_WRONG: dict[tuple[str, str], str] = {}

PUBLIC_HOST = {
    "": PUBLIC, "login/": PUBLIC, "logout/": PUBLIC, "password-reset/": PUBLIC,
    "password-reset/sent/": PUBLIC,
    "set-password/<uidb64>/<token>/": PUBLIC, "set-password/done/": PUBLIC, "i18n/setlang/": PUBLIC,
    "portal/": PORTAL, "portal/calendar/": PORTAL, "portal/calendar.ics": PORTAL,
    "portal/clients/<slug:slug>/": PORTAL, "portal/clients/<slug:slug>/refresh/": PORTAL,
    "portal/clients/<slug:slug>/notes/": PORTAL, "portal/clients/<slug:slug>/notes/<int:pk>/edit/": PORTAL,
    "portal/clients/<slug:slug>/notes/<int:pk>/delete/": PORTAL, "portal/clients/<slug:slug>/enter/": PORTAL,
    "portal/packs/": PORTAL, "portal/packs/new/": PORTAL, "portal/packs/<slug:slug>/": PORTAL,
    "portal/packs/<slug:slug>/publish/": PORTAL, "portal/packs/<slug:slug>/apply/": PORTAL,
    "portal/onboard/": PORTAL, "portal/onboard/subdomain/": PORTAL,
    "portal/onboard/done/<slug:slug>/": PORTAL,
}  # fmt: skip
# Every admin/ route is grouped: checked through /admin/ and a few changelists.
ADMIN_PREFIX = "admin/"
ADMIN_PAGES = [
    "/admin/",
    "/admin/tenants/organization/",
    "/admin/accounts/user/",
    "/admin/tenants/platformevent/",
]

# Organisation logo: the image itself is for anyone on the host (the sign-in page shows it).
TENANT |= {
    "settings/logo/": WEB,
    "settings/logo/remove/": POST_ONLY,
    "logo/<str:key>.<str:ext>": PUBLIC,
}
# Routes written as regular expressions, with their URL written out (none at the moment).
REGEX_URLS: dict[str, str] = {}


# Own organisation, web, GET: role -> status. From the rules: the Settings pages (people, teams,
# notifications, imports, webhooks, OKR/method/review settings, consultants, logo) are org
# admins' (accounts.permissions.can_manage_organization_settings: 403 for everyone else,
# consultants included); the Cycles page and its cycle and review-cycle actions are also the
# consultants' (okrs.permissions.can_manage_cycles, reviews.permissions.can_manage_review_cycles,
# as in the services and the API); a check-in is the key result's or objective's owner's (not their
# manager's: okrs.permissions.can_check_in); editing an objective/key result and the escalation
# forms are for whoever may edit the objective (owner, manager chain, org admin); the health
# dashboard for managers, org admins and consultants; an alignment proposal is decided by the
# parent's owner (someone else here) or an org admin; a review is seen in full by its parties,
# org admins and consultants and not at all by others (404), a review action answers a GET with
# a redirect to the review (302) — the peer sees the feedback review only for the request
# addressed to them; viewers create nothing (objectives/new/ 403). POST_ONLY routes: 405.
WEB_GET = {
    "": _r(200, 200, 200, 200, 200, 200),
    "inbox/": _r(200, 200, 200, 200, 200, 200),
    "inbox/<int:pk>/read/": _r(405, 405, 405, 405, 405, 405),
    "inbox/read-all/": _r(405, 405, 405, 405, 405, 405),
    "api-tokens/": _r(200, 200, 200, 200, 200, 200),
    "api-tokens/<int:pk>/revoke/": _r(405, 405, 405, 405, 405, 405),
    "settings/": _r(200, 403, 403, 403, 403, 403),
    "settings/people/invite/": _r(200, 403, 403, 403, 403, 403),
    "settings/people/<int:pk>/": _r(200, 403, 403, 403, 403, 403),
    "settings/people/<int:pk>/deactivate/": _r(405, 405, 405, 405, 405, 405),
    "settings/people/<int:pk>/reactivate/": _r(405, 405, 405, 405, 405, 405),
    "settings/people/<int:pk>/resend-invitation/": _r(405, 405, 405, 405, 405, 405),
    "settings/teams/": _r(200, 403, 403, 403, 403, 403),
    "settings/teams/<int:pk>/": _r(200, 403, 403, 403, 403, 403),
    "settings/teams/<int:pk>/rename/": _r(405, 405, 405, 405, 405, 405),
    "settings/teams/<int:pk>/move/": _r(405, 405, 405, 405, 405, 405),
    "settings/notifications/": _r(200, 403, 403, 403, 403, 403),
    "settings/import/": _r(200, 403, 403, 403, 403, 403),
    "settings/import/people-template.csv": _r(200, 403, 403, 403, 403, 403),
    "settings/webhooks/": _r(200, 403, 403, 403, 403, 403),
    "settings/webhooks/<int:pk>/": _r(200, 403, 403, 403, 403, 403),
    "settings/webhooks/<int:pk>/enable/": _r(405, 405, 405, 405, 405, 405),
    "settings/webhooks/<int:pk>/disable/": _r(405, 405, 405, 405, 405, 405),
    "settings/webhooks/<int:pk>/rotate-secret/": _r(405, 405, 405, 405, 405, 405),
    "settings/webhooks/<int:pk>/test/": _r(405, 405, 405, 405, 405, 405),
    "settings/webhooks/<int:pk>/delete/": _r(405, 405, 405, 405, 405, 405),
    "key-results/<int:pk>/check-in/": _r(200, 403, 200, 403, 403, 403),
    "okrs/": _r(200, 200, 200, 200, 200, 200),
    "objectives/<int:pk>/": _r(200, 200, 200, 200, 200, 200),
    "objectives/<int:pk>/live/": _r(200, 200, 200, 200, 200, 200),
    "key-results/<int:pk>/initiatives/new/": _r(405, 405, 405, 405, 405, 405),
    "initiatives/<int:pk>/done/": _r(405, 405, 405, 405, 405, 405),
    "alignment-proposals/<int:pk>/accept/": _r(200, 403, 403, 403, 403, 403),
    "alignment-proposals/<int:pk>/decline/": _r(200, 403, 403, 403, 403, 403),
    "objectives/new/": _r(200, 200, 200, 200, 403, 200),
    "objectives/<int:pk>/edit/": _r(200, 200, 200, 403, 403, 403),
    "objectives/<int:pk>/align/": _r(200, 200, 200, 403, 403, 403),
    "objectives/<int:pk>/key-results/new/": _r(200, 200, 200, 403, 403, 403),
    "key-results/<int:pk>/edit/": _r(200, 200, 200, 403, 403, 403),
    "okrs/quality-preview/": _r(405, 405, 405, 405, 405, 405),
    "okrs/alignment-search/": _r(200, 200, 200, 200, 200, 200),
    "escalations/<int:pk>/acknowledge/": _r(200, 200, 200, 403, 403, 403),
    "escalations/<int:pk>/resolve/": _r(200, 200, 200, 403, 403, 403),
    "kpis/": _r(200, 200, 200, 200, 200, 200),
    "kpis/<int:pk>/readings/": _r(405, 405, 405, 405, 405, 405),
    "health/": _r(200, 200, 403, 403, 403, 200),
    "settings/okrs/": _r(200, 403, 403, 403, 403, 403),
    "settings/import/okrs/": _r(200, 403, 403, 403, 403, 403),
    "settings/import/okrs-template.csv": _r(200, 403, 403, 403, 403, 403),
    "okrs/cycles/<int:pk>/export/<str:fmt>/": _r(200, 200, 200, 200, 200, 200),
    "objectives/<int:pk>/comments/": _r(405, 405, 405, 405, 405, 405),
    "comments/<int:pk>/delete/": _r(405, 405, 405, 405, 405, 405),
    "settings/method/": _r(200, 403, 403, 403, 403, 403),
    "settings/method/templates/new/": _r(200, 403, 403, 403, 403, 403),
    "settings/method/templates/<int:pk>/": _r(200, 403, 403, 403, 403, 403),
    "settings/method/templates/<int:pk>/delete/": _r(405, 405, 405, 405, 405, 405),
    "reviews/": _r(200, 200, 200, 200, 200, 200),
    "reviews/<int:pk>/": _r(200, 200, 200, 404, 404, 200),
    "reviews/<int:pk>/submit/": _r(302, 302, 302, 404, 404, 302),
    "reviews/<int:pk>/calibrate/": _r(302, 302, 302, 404, 404, 302),
    "reviews/<int:pk>/contest/": _r(302, 302, 302, 404, 404, 302),
    "reviews/<int:pk>/resolve/": _r(302, 302, 302, 404, 404, 302),
    "reviews/<int:pk>/close/": _r(302, 302, 302, 404, 404, 302),
    "reviews/<int:pk>/feedback/request/": _r(302, 404, 404, 302, 404, 302),
    "reviews/<int:pk>/feedback/<int:request_pk>/answer/": _r(302, 404, 404, 302, 404, 302),
    "settings/cycles/": _r(200, 403, 403, 403, 403, 200),
    "settings/cycles/<int:pk>/activate/": _r(405, 405, 405, 405, 405, 405),
    "settings/cycles/<int:pk>/close/": _r(200, 403, 403, 403, 403, 200),
    "settings/cycles/<int:pk>/schedule-reviews/": _r(405, 405, 405, 405, 405, 405),
    "settings/review-cycles/<int:pk>/open/": _r(405, 405, 405, 405, 405, 405),
    "settings/review-cycles/<int:pk>/close/": _r(200, 403, 403, 403, 403, 200),
    "settings/reviews/": _r(200, 403, 403, 403, 403, 403),
    "settings/reviews/prompts/": _r(405, 405, 405, 405, 405, 405),
    "settings/consultants/": _r(200, 403, 403, 403, 403, 403),
    "settings/consultants/<int:consultant_id>/revoke/": _r(405, 405, 405, 405, 405, 405),
    "settings/consultants/<int:consultant_id>/restore/": _r(405, 405, 405, 405, 405, 405),
    "settings/logo/": _r(200, 403, 403, 403, 403, 403),
    "settings/logo/remove/": _r(405, 405, 405, 405, 405, 405),
}  # fmt: skip

# Own organisation, web, refused writes (POST, empty form): role -> status (403, or 404 where
# the object is hidden from that role); every cell is also checked to write no row. The
# allowed roles answer 200/302/422 (covered by the feature tests).
WEB_WRITES = {
    "inbox/<int:pk>/read/": _w(404, 404, None, 404, 404, 404),
    "api-tokens/<int:pk>/revoke/": _w(None, 404, None, 404, 404, 404),
    "settings/": _w(None, 403, 403, 403, 403, 403),
    "settings/people/invite/": _w(None, 403, 403, 403, 403, 403),
    "settings/people/<int:pk>/": _w(None, 403, 403, 403, 403, 403),
    "settings/people/<int:pk>/deactivate/": _w(None, 403, 403, 403, 403, 403),
    "settings/people/<int:pk>/reactivate/": _w(None, 403, 403, 403, 403, 403),
    "settings/people/<int:pk>/resend-invitation/": _w(None, 403, 403, 403, 403, 403),
    "settings/teams/": _w(None, 403, 403, 403, 403, 403),
    "settings/teams/<int:pk>/": _w(None, 403, 403, 403, 403, 403),
    "settings/teams/<int:pk>/rename/": _w(None, 403, 403, 403, 403, 403),
    "settings/teams/<int:pk>/move/": _w(None, 403, 403, 403, 403, 403),
    "settings/notifications/": _w(None, 403, 403, 403, 403, 403),
    "settings/import/": _w(None, 403, 403, 403, 403, 403),
    "settings/import/people-template.csv": _w(None, 403, 403, 403, 403, 403),
    "settings/webhooks/": _w(None, 403, 403, 403, 403, 403),
    "settings/webhooks/<int:pk>/": _w(None, 403, 403, 403, 403, 403),
    "settings/webhooks/<int:pk>/enable/": _w(None, 403, 403, 403, 403, 403),
    "settings/webhooks/<int:pk>/disable/": _w(None, 403, 403, 403, 403, 403),
    "settings/webhooks/<int:pk>/rotate-secret/": _w(None, 403, 403, 403, 403, 403),
    "settings/webhooks/<int:pk>/test/": _w(None, 403, 403, 403, 403, 403),
    "settings/webhooks/<int:pk>/delete/": _w(None, 403, 403, 403, 403, 403),
    "key-results/<int:pk>/check-in/": _w(None, 403, None, 403, 403, 403),
    "key-results/<int:pk>/initiatives/new/": _w(None, None, None, 403, 403, 403),
    "initiatives/<int:pk>/done/": _w(None, None, None, 403, 403, 403),
    "alignment-proposals/<int:pk>/accept/": _w(None, 403, 403, 403, 403, 403),
    "alignment-proposals/<int:pk>/decline/": _w(None, 403, 403, 403, 403, 403),
    "objectives/new/": _w(None, None, None, None, 403, None),
    "objectives/<int:pk>/edit/": _w(None, None, None, 403, 403, 403),
    "objectives/<int:pk>/align/": _w(None, None, None, 403, 403, 403),
    "objectives/<int:pk>/key-results/new/": _w(None, None, None, 403, 403, 403),
    "key-results/<int:pk>/edit/": _w(None, None, None, 403, 403, 403),
    "escalations/<int:pk>/acknowledge/": _w(None, None, None, 403, 403, 403),
    "escalations/<int:pk>/resolve/": _w(None, None, None, 403, 403, 403),
    "kpis/<int:pk>/readings/": _w(None, 403, None, 403, 403, 403),
    "health/": _w(None, None, 403, 403, 403, None),
    "settings/okrs/": _w(None, 403, 403, 403, 403, 403),
    "settings/import/okrs/": _w(None, 403, 403, 403, 403, 403),
    "settings/import/okrs-template.csv": _w(None, 403, 403, 403, 403, 403),
    "objectives/<int:pk>/comments/": _w(None, None, None, None, 403, None),
    "comments/<int:pk>/delete/": _w(None, 403, None, 403, 403, 403),
    "settings/method/": _w(None, 403, 403, 403, 403, 403),
    "settings/method/templates/new/": _w(None, 403, 403, 403, 403, 403),
    "settings/method/templates/<int:pk>/": _w(None, 403, 403, 403, 403, 403),
    "settings/method/templates/<int:pk>/delete/": _w(None, 403, 403, 403, 403, 403),
    "reviews/<int:pk>/": _w(None, None, None, 404, 404, None),
    "reviews/<int:pk>/submit/": _w(403, 403, None, 404, 404, 403),
    "reviews/<int:pk>/calibrate/": _w(None, None, 403, 404, 404, 403),
    "reviews/<int:pk>/contest/": _w(403, 403, None, 404, 404, 403),
    "reviews/<int:pk>/resolve/": _w(None, None, 403, 404, 404, 403),
    "reviews/<int:pk>/close/": _w(None, None, 403, 404, 404, 403),
    "reviews/<int:pk>/feedback/request/": _w(None, 404, 404, 403, 404, 403),
    "reviews/<int:pk>/feedback/<int:request_pk>/answer/": _w(403, 404, 404, None, 404, 403),
    "settings/cycles/": _w(None, 403, 403, 403, 403, None),
    "settings/cycles/<int:pk>/activate/": _w(None, 403, 403, 403, 403, None),
    "settings/cycles/<int:pk>/close/": _w(None, 403, 403, 403, 403, None),
    "settings/cycles/<int:pk>/schedule-reviews/": _w(None, 403, 403, 403, 403, None),
    "settings/review-cycles/<int:pk>/open/": _w(None, 403, 403, 403, 403, None),
    "settings/review-cycles/<int:pk>/close/": _w(None, 403, 403, 403, 403, None),
    "settings/reviews/": _w(None, 403, 403, 403, 403, 403),
    "settings/reviews/prompts/": _w(None, 403, 403, 403, 403, 403),
    "settings/consultants/": _w(None, 403, 403, 403, 403, 403),
    "settings/consultants/<int:consultant_id>/revoke/": _w(None, 403, 403, 403, 403, 403),
    "settings/consultants/<int:consultant_id>/restore/": _w(None, 403, 403, 403, 403, 403),
    "settings/logo/": _w(None, 403, 403, 403, 403, 403),
    "settings/logo/remove/": _w(None, 403, 403, 403, 403, 403),
}  # fmt: skip

# The consultant portal (public host): (pattern, target of <slug>: a World.portal key) ->
# public role -> (GET status, refused-POST status; None: an allowed write, not sent). The
# portal is for consultants (tenants.portal.consultant_required): anonymous → sign in (302),
# platform staff → 403, except onboarding (can_onboard_client); a client the consultant does
# not serve (globex) is 404 whatever the method (when the method is taken at all); a pack is
# published by its maintainer only (can_maintain_method_pack).
_ANON = (302, 302)


def _portal(consultant: tuple[int, int | None], staff: tuple[int, int | None] = (403, 403)) -> dict:
    return {"anonymous": _ANON, "platform_staff": staff, "public_consultant": consultant}


PORTAL_CELLS = {
    ("portal/", None): _portal((200, 405)),
    ("portal/calendar/", None): _portal((200, 405)),
    ("portal/calendar.ics", None): _portal((200, 405)),
    ("portal/clients/<slug:slug>/", "client"): _portal((200, 405)),
    ("portal/clients/<slug:slug>/", "foreign_client"): _portal((404, 405)),
    ("portal/clients/<slug:slug>/refresh/", "client"): _portal((405, None)),
    ("portal/clients/<slug:slug>/refresh/", "foreign_client"): _portal((405, 404)),
    ("portal/clients/<slug:slug>/notes/", "client"): _portal((405, None)),
    ("portal/clients/<slug:slug>/notes/", "foreign_client"): _portal((405, 404)),
    ("portal/clients/<slug:slug>/notes/<int:pk>/edit/", "client"): _portal((405, None)),
    ("portal/clients/<slug:slug>/notes/<int:pk>/edit/", "foreign_client"): _portal((405, 404)),
    ("portal/clients/<slug:slug>/notes/<int:pk>/delete/", "client"): _portal((405, None)),
    ("portal/clients/<slug:slug>/notes/<int:pk>/delete/", "foreign_client"): _portal((405, 404)),
    ("portal/clients/<slug:slug>/enter/", "client"): _portal((405, None)),
    ("portal/clients/<slug:slug>/enter/", "foreign_client"): _portal((405, 404)),
    ("portal/packs/", None): _portal((200, None)),
    ("portal/packs/new/", None): _portal((200, None)),
    ("portal/packs/<slug:slug>/", "own_pack"): _portal((200, None)),
    ("portal/packs/<slug:slug>/", "other_pack"): _portal((200, None)),
    ("portal/packs/<slug:slug>/publish/", "own_pack"): _portal((200, None)),
    ("portal/packs/<slug:slug>/publish/", "other_pack"): _portal((403, 403)),
    ("portal/packs/<slug:slug>/apply/", "own_pack"): _portal((405, None)),
    ("portal/packs/<slug:slug>/apply/", "other_pack"): _portal((405, None)),
    ("portal/onboard/", None): _portal((200, None), staff=(200, None)),
    ("portal/onboard/subdomain/", None): _portal((200, 405), staff=(200, 405)),
    # The result page shows an onboarding this browser ran (kept in its session): none here.
    ("portal/onboard/done/<slug:slug>/", "client"): _portal((404, 405), staff=(404, 405)),
}

# Public tenant pages whose answer to a GET differs from (200, 302, 405): the logo of an
# unknown key is a 404, an entry link with a bad token a 400.
PUBLIC_STATUSES = {
    "logo/<str:key>.<str:ext>": (404,),
    "enter/<str:token>/": (400,),
}
