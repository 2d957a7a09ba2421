"""Reminders at scale: the 15-minute dispatch over many organisations.

The organisations come from ``manage.py seed_many`` (sizes from BENCH_ORGS, default 200, and
BENCH_PEOPLE, default 50; slugs ``many-001`` …). Everything is measured at one fixed
instant: Monday 12:00 UTC of the seeded data's anchor week, when most organisations' time
zones are past 09:00 on their check-in day (Monday, the default) and the open review cycle
is due in three days. New data is anchored on the coming Monday; data seeded by an earlier
run keeps its anchor (read from its review cycle), so every run measures the same scenario.

- dry run: the whole dispatch over every serving organisation — the loop of
  ``manage.py dispatch_reminders --dry-run`` (``tenant_context`` + ``run_reminders``) —
  median of 3, and how many items are due (checked against the command itself);
- first send: one real run (inbox items and notifications written, deliveries queued on
  commit), after removing what an earlier run sent at this same instant;
- repeat: 3 more real runs at the same instant: nothing new may be written (exactly once);
- enqueue: what the Celery dispatcher does (``dispatch_to_organizations``), median of 3.

The delivery tasks queued by the sends and the enqueue are purged from the broker (bench/run.py
points it at Redis database 14 unless REDIS_URL is set), so no worker ever runs them.
"""

from __future__ import annotations

import io
import os
import re
import statistics
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import override_settings
from django_tenants.utils import tenant_context

from accounts.models import InboxItem, Notification
from reviews.models import ReviewCycle
from reviews.reminders import run_reminders
from reviews.tasks import send_reminders
from tenants.dispatch import dispatch_to_organizations
from tenants.models import Organization

PREFIX = "many"
SEED = 7
CHECK_IN_HOUR_UTC = 12
REPEATS = 3


def upcoming_monday(day: date) -> date:
    """``day`` itself if it is a Monday, else the Monday after it."""
    return day + timedelta(days=(7 - day.weekday()) % 7)


def check_in_instant(anchor: date) -> datetime:
    """Monday 12:00 UTC of the anchor's week (the anchor itself when it is a Monday): past
    09:00 on Monday in Berlin, London, Shanghai, Tokyo, Sydney and Kolkata; still early
    morning in New York and Los Angeles."""
    return datetime.combine(upcoming_monday(anchor), clock_time(CHECK_IN_HOUR_UTC), tzinfo=UTC)


def seeded_anchor(prefix: str = PREFIX) -> date | None:
    """The anchor of organisations seeded earlier: seed_many opens their review cycle on it."""
    organization = Organization.objects.filter(slug__startswith=f"{prefix}-").order_by("slug").first()
    if organization is None:
        return None
    with tenant_context(organization):
        opens_on = ReviewCycle.objects.order_by("id").values_list("opens_on", flat=True).first()
    connection.set_schema_to_public()
    return opens_on


def dispatch(now: datetime, *, dry_run: bool) -> dict:
    """What ``manage.py dispatch_reminders`` does, organisation by organisation."""
    due, sent, by_kind, per_org = 0, 0, Counter(), {}
    for organization in list(Organization.objects.serving()):
        started = time.perf_counter()
        with tenant_context(organization):
            summary = run_reminders(now, dry_run=dry_run)
        per_org[organization.slug] = time.perf_counter() - started
        due += len(summary.due)
        sent += summary.sent
        by_kind.update(summary.counts())
    connection.set_schema_to_public()
    return {"due": due, "sent": sent, "by_kind": dict(sorted(by_kind.items())), "per_org": per_org}


def timed_dispatch(now: datetime, *, dry_run: bool) -> tuple[float, dict]:
    started = time.perf_counter()
    result = dispatch(now, dry_run=dry_run)
    return time.perf_counter() - started, result


def command_due(now: datetime) -> int:
    """The due total that ``manage.py dispatch_reminders --dry-run`` reports."""
    out = io.StringIO()
    call_command("dispatch_reminders", now=now.isoformat(), dry_run=True, verbosity=0, stdout=out)
    connection.set_schema_to_public()
    match = re.search(r"^(\d+) due", out.getvalue(), re.MULTILINE)
    if match is None:
        raise SystemExit(f"dispatch_reminders printed no total: {out.getvalue()!r}")
    return int(match.group(1))


def _each_serving(function) -> int:
    total = 0
    for organization in Organization.objects.serving():
        with tenant_context(organization):
            total += function()
    connection.set_schema_to_public()
    return total


def notification_count() -> int:
    return _each_serving(Notification.objects.count)


def forget_sent_at(now: datetime) -> int:
    """Remove what an earlier bench run sent at this very instant (notify stamps both rows
    with ``now``), so that the first send is a first send again."""

    def forget() -> int:
        deleted, _ = Notification.objects.filter(created_at=now).delete()
        InboxItem.objects.filter(created_at=now).delete()
        return deleted

    return _each_serving(forget)


def purge() -> int:
    from config.celery import app

    return app.control.purge() or 0


def _broker() -> str:
    parts = urlsplit(settings.CELERY_BROKER_URL)
    return parts._replace(netloc=(parts.hostname or "") + (f":{parts.port}" if parts.port else "")).geturl()


def ensure_organizations(organizations: int, people: int, progress=print) -> dict:
    anchor = seeded_anchor() or upcoming_monday(datetime.now(UTC).date())
    before = Organization.objects.filter(slug__startswith=f"{PREFIX}-").count()
    progress(f"  seed_many --organizations {organizations} --people {people} --anchor {anchor} …")
    started = time.perf_counter()
    call_command(
        "seed_many", organizations=organizations, people=people, seed=SEED, prefix=PREFIX,
        anchor=anchor.isoformat(),
    )  # fmt: skip
    connection.set_schema_to_public()
    seconds = time.perf_counter() - started
    after = Organization.objects.filter(slug__startswith=f"{PREFIX}-").count()
    return {"anchor": anchor, "seconds": seconds, "created": after - before, "seeded": after}


def _median(samples: list[float]) -> float:
    return round(statistics.median(samples), 3)


def run(progress=print) -> dict:
    organizations = int(os.environ.get("BENCH_ORGS", "200"))
    people = int(os.environ.get("BENCH_PEOPLE", "50"))
    with override_settings(DEBUG=False):  # no query log: it would slow and grow the runs
        seeding = ensure_organizations(organizations, people, progress)
        now = check_in_instant(seeding["anchor"])
        serving = list(Organization.objects.serving().values_list("slug", flat=True))
        others = sorted(slug for slug in serving if not slug.startswith(f"{PREFIX}-"))
        progress(
            f"[bench] reminders at {now.isoformat()} over {len(serving)} serving organisations"
            + (f" (besides {PREFIX}-*: {', '.join(others)})" if others else "")
            + f"; broker {_broker()}"
        )
        forgotten = forget_sent_at(now)
        if forgotten:
            progress(f"  removed {forgotten} notifications an earlier run sent at this instant")
        purge()

        dry_samples, dry = [], {}
        for i in range(REPEATS):
            seconds, dry = timed_dispatch(now, dry_run=True)
            dry_samples.append(seconds)
            progress(f"  [{i + 1}/{REPEATS}] dry run {seconds:7.2f} s   {dry['due']} due {dry['by_kind']}")
        if dry["due"] == 0:
            raise SystemExit(
                f"Nothing is due at {now.isoformat()}: the benchmark would measure nothing. Check the "
                f"anchor of the {PREFIX}-* organisations (seed_many --anchor) or remove them to rebuild."
            )
        by_command = command_due(now)
        if by_command != dry["due"]:
            raise SystemExit(f"dispatch_reminders --dry-run finds {by_command} due, the bench {dry['due']}.")

        before = notification_count()
        first_seconds, first = timed_dispatch(now, dry_run=False)
        created = notification_count() - before
        purged_first = purge()
        progress(
            f"  first send {first_seconds:7.2f} s   {first['sent']} sent, {created} notifications, "
            f"{purged_first} deliveries purged from the queue"
        )
        if created != first["sent"]:
            raise SystemExit(
                f"The first send reported {first['sent']} sent but wrote {created} notifications."
            )

        repeat_samples, repeat_sent = [], 0
        for i in range(REPEATS):
            seconds, again = timed_dispatch(now, dry_run=False)
            repeat_samples.append(seconds)
            repeat_sent += again["sent"]
            progress(f"  [{i + 1}/{REPEATS}] repeat {seconds:7.2f} s   {again['sent']} sent")
        after = notification_count()
        purged_repeat = purge()
        if after != before + created or repeat_sent:
            raise SystemExit(
                f"Exactly-once broken: the repeats at {now.isoformat()} changed the notifications from "
                f"{before + created} to {after} (reported sent: {repeat_sent})."
            )

        enqueue_samples, enqueued, purged_enqueue = [], 0, 0
        for i in range(REPEATS):
            started = time.perf_counter()
            enqueued = dispatch_to_organizations(
                send_reminders, jitter_seconds=0, kwargs={"now_iso": now.isoformat()}
            )
            enqueue_samples.append(time.perf_counter() - started)
            purged_enqueue = purge()
            progress(
                f"  [{i + 1}/{REPEATS}] enqueue {enqueue_samples[-1] * 1000:7.1f} ms   {enqueued} tasks, "
                f"{purged_enqueue} purged"
            )

    def slowest(per_org: dict[str, float]) -> dict[str, float]:
        top = sorted(per_org.items(), key=lambda item: -item[1])[:3]
        return {slug: round(seconds * 1000, 1) for slug, seconds in top}

    def seeded_mean_ms(per_org: dict[str, float]) -> float | None:
        many = [seconds for slug, seconds in per_org.items() if slug.startswith(f"{PREFIX}-")]
        return round(statistics.mean(many) * 1000, 1) if many else None

    return {
        "prefix": PREFIX,
        "sizes": {"organizations": organizations, "people": people, "seed": SEED},
        "anchor": seeding["anchor"].isoformat(),
        "now": now.isoformat(),
        "seed_seconds": round(seeding["seconds"], 1),
        "seed_created": seeding["created"],
        "organizations": len(serving),
        "seeded_organizations": seeding["seeded"],
        "other_organizations": others,
        "due": dry["due"],
        "due_by_kind": dry["by_kind"],
        "dry_run_seconds": _median(dry_samples),
        "dry_run_samples_s": [round(s, 3) for s in dry_samples],
        "dry_run_seeded_per_org_ms": seeded_mean_ms(dry["per_org"]),  # the last dry run
        "dry_run_slowest_organizations_ms": slowest(dry["per_org"]),
        "first_send_seconds": round(first_seconds, 3),
        "notifications_created": created,
        "per_org_ms": round(first_seconds / len(serving) * 1000, 1),
        "seeded_per_org_ms": seeded_mean_ms(first["per_org"]),
        "slowest_organizations_ms": slowest(first["per_org"]),
        "repeat_seconds": _median(repeat_samples),
        "repeat_samples_s": [round(s, 3) for s in repeat_samples],
        "repeat_notifications_created": after - before - created,
        "enqueue_seconds": round(statistics.median(enqueue_samples), 4),
        "enqueue_samples_ms": [round(s * 1000, 1) for s in enqueue_samples],
        "enqueued": enqueued,
        "purged": {"first_send": purged_first, "repeats": purged_repeat, "enqueue": purged_enqueue},
        "removed_before_run": forgotten,
        "broker": _broker(),
    }
