"""Rules for what a new organisation may be called and where it lives."""

import re
import zoneinfo
from functools import lru_cache

from django.conf import settings
from django.utils.translation import gettext as _

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]*[a-z0-9]$")
SLUG_MIN, SLUG_MAX = 3, 40

# Host names we use ourselves or that would confuse people or mail servers.
RESERVED_SLUGS = frozenset(
    {
        "admin", "api", "app", "assets", "auth", "billing", "blog", "cdn", "consultant",
        "consultants", "dashboard", "dev", "docs", "ftp", "help", "imap", "internal",
        "login", "mail", "media", "portal", "public", "root", "smtp", "static", "staging",
        "status", "support", "system", "template", "tenant", "test", "www",
    }
)  # fmt: skip


def slug_errors(slug: str) -> list[str]:
    """Everything wrong with a proposed subdomain (empty list when it is fine)."""
    if not slug:
        return [_("Choose a subdomain, for example “acme”.")]
    problems = []
    if not SLUG_MIN <= len(slug) <= SLUG_MAX:
        problems.append(
            _("A subdomain has %(min)d to %(max)d characters; “%(slug)s” has %(n)d.")
            % {"min": SLUG_MIN, "max": SLUG_MAX, "slug": slug, "n": len(slug)}
        )
    if not SLUG_RE.match(slug) or "--" in slug:
        problems.append(
            _(
                "Use lowercase letters a–z, digits and single hyphens; start with a letter "
                "and end with a letter or digit (for example “acme-china”)."
            )
        )
    if slug in RESERVED_SLUGS or slug.startswith("pg-"):
        problems.append(_("“%(slug)s” is reserved by the platform; choose another.") % {"slug": slug})
    return problems


def schema_name_for(slug: str) -> str:
    """PostgreSQL schema for a slug: hyphens become underscores (see slug_errors)."""
    return slug.replace("-", "_")


@lru_cache(maxsize=1)
def _known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_errors(name: str) -> list[str]:
    if name in _known_timezones():
        return []
    return [
        _("“%(tz)s” is not a known time zone; use a name like “Europe/Berlin” or “Asia/Shanghai”.")
        % {"tz": name}
    ]


def language_errors(code: str) -> list[str]:
    codes = [c for c, _label in settings.LANGUAGES]
    if code in codes:
        return []
    return [_("Language must be one of: %(codes)s.") % {"codes": ", ".join(codes)}]
