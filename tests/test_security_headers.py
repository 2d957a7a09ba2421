"""Content-Security-Policy and clickjacking headers on every kind of HTML page, and no inline
script or style in our templates (which that policy would block)."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import User
from tests.api_helpers import api_client
from tests.web import sign_in

ROOT = Path(__file__).resolve().parent.parent

# The policy of every page except the two API documentation pages.
STRICT_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'", "*.localhost:*"],
    "frame-ancestors": ["'none'"],
}
# django-tenants' admin templates colour the app list with inline styles; scripts stay files.
ADMIN_POLICY = {**STRICT_POLICY, "style-src": ["'self'", "'unsafe-inline'"]}
# Swagger UI and Redoc style their pages at run time; their scripts are still files only.
DOCS_POLICY = {
    **STRICT_POLICY,
    "style-src": ["'self'", "'unsafe-inline'"],
    "worker-src": ["'self'", "blob:"],
}


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]} (django-csp does not keep the
    directives in a fixed order)."""
    directives = [part.split() for part in response["Content-Security-Policy"].split(";")]
    return {name: sources for name, *sources in directives}


def assert_strict_html_page(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert policy(response) == STRICT_POLICY
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def public_user_client(email: str) -> Client:
    client = Client(HTTP_HOST="localhost")
    with schema_context("public"):
        client.force_login(User.objects.get(email=email))
    return client


def test_a_tenant_page_has_the_strict_policy(acme, acme_client):
    sign_in(acme_client, acme, "analyst@acme.example")

    assert_strict_html_page(acme_client.get("/"))


def test_the_tenant_sign_in_page_has_the_strict_policy(acme_client):
    assert_strict_html_page(acme_client.get("/login/"))


def test_a_public_page_has_the_strict_policy(public_client):
    assert_strict_html_page(public_client.get("/login/"))


def test_the_consultant_portal_has_the_strict_policy(db):
    client = public_user_client("coach@platform.example")

    assert_strict_html_page(client.get("/portal/"))


@pytest.mark.parametrize("path", ["/admin/", "/admin/tenants/organization/", "/admin/accounts/user/add/"])
def test_admin_pages_allow_inline_styles_but_no_inline_scripts(db, path):
    client = public_user_client("admin@platform.example")

    response = client.get(path)

    assert response.status_code == 200
    assert policy(response) == ADMIN_POLICY
    assert response["X-Frame-Options"] == "DENY"


def test_the_admin_sign_in_page_allows_inline_styles_but_no_inline_scripts(public_client):
    response = public_client.get("/admin/login/")

    assert response.status_code == 200
    assert policy(response) == ADMIN_POLICY


def test_an_error_page_has_the_strict_policy(acme, acme_client):
    sign_in(acme_client, acme, "analyst@acme.example")

    response = acme_client.get("/objectives/999999999/")

    assert response.status_code == 404
    assert policy(response) == STRICT_POLICY


# Redoc's sidebar shows Redocly's logo from their CDN: that one image host, on that page only.
REDOC_POLICY = {**DOCS_POLICY, "img-src": [*DOCS_POLICY["img-src"], "https://cdn.redoc.ly"]}


@pytest.mark.parametrize(("path", "expected"), [("/api/docs/", DOCS_POLICY), ("/api/redoc/", REDOC_POLICY)])
def test_the_api_documentation_pages_relax_only_styles_and_redocs_logo(acme, path, expected):
    response = api_client(acme).get(path)

    assert response.status_code == 200
    assert policy(response) == expected
    assert response["X-Frame-Options"] == "DENY"


def test_swagger_ui_starts_from_a_script_file_not_an_inline_script(acme):
    page = api_client(acme).get("/api/docs/").content.decode()

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
    assert '<script src="/api/docs/?script="></script>' in page
    script = api_client(acme).get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"] == "application/javascript"
    assert "SwaggerUIBundle(" in script.content.decode()
    # No badge from validator.swagger.io (the policy would block it; it would learn the schema URL).
    assert (
        'const swaggerSettings = {\n  "deepLinking": true,\n  "validatorUrl": null\n};'
        in script.content.decode()
    )


def template_files() -> list[Path]:
    dirs = [ROOT / "templates", *ROOT.glob("*/templates")]
    return sorted(path for directory in dirs for path in directory.rglob("*.html"))


# An inline <script> (no src) without a nonce, an inline <style>, a style="" attribute, an event
# handler attribute (onclick=...) or a javascript: URL: each is blocked by the policy above.
INLINE_CODE = re.compile(
    r"<script(?![^>]*\b(?:src|nonce)=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE
)


def test_templates_are_found():
    names = {path.relative_to(ROOT).as_posix() for path in template_files()}

    assert "templates/base.html" in names
    assert "templates/okrs/_kr_progress.html" in names
    assert len(names) > 100


def test_no_template_has_inline_script_or_style():
    offences = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in template_files()
        for match in INLINE_CODE.finditer(path.read_text())
    ]

    assert offences == []


def test_markup_written_in_python_has_no_inline_script_or_style():
    # The KR rows' pieces are written out in Python for speed (okrs/templatetags/okr_ui.py):
    # the same rule as for templates.
    from okrs.templatetags import okr_ui

    pieces = {"BAR_HTML": okr_ui.BAR_HTML, "KR_PROGRESS_HTML": okr_ui.KR_PROGRESS_HTML,
              "CHECK_IN_HTML": okr_ui.CHECK_IN_HTML}  # fmt: skip
    assert [name for name, html in pieces.items() if INLINE_CODE.search(html)] == []
    assert INLINE_CODE.search('<span style="x">')  # the pattern does catch inline style
