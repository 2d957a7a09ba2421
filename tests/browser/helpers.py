"""Steps the browser tests share."""

from __future__ import annotations

from tenants.demo import DEMO_PASSWORD


def sign_in(page, server: str, email: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the real form."""
    page.goto(f"{server}/login/")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{server}/")
