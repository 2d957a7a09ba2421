"""The navigation offers a page exactly when its own permission rule lets the person in."""

from __future__ import annotations

import pytest

from tests.web import sign_in

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("email", "health", "settings"),
    [
        ("ceo@acme.example", True, True),
        ("cto@acme.example", True, False),
        ("analyst@acme.example", False, False),
        ("board@acme.example", False, False),
    ],
)
def test_links_follow_the_page_permissions(acme, acme_client, email, health, settings):
    sign_in(acme_client, acme, email)
    nav = acme_client.get("/").content.decode().split('class="mainnav"')[1].split("</nav>")[0]
    assert ('href="/health/"' in nav) is health
    assert ('href="/settings/"' in nav) is settings
    assert (acme_client.get("/health/").status_code == 200) is health
    assert (acme_client.get("/settings/").status_code == 200) is settings
