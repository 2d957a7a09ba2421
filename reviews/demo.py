"""Demo review rhythm for one organisation, made through the real services: the
quarter's review cycles scheduled from its cadence, the latest one open with
self-assessments submitted, one calibrated and contested, peer feedback asked and
answered, and the reminders that are due right now in everyone's inbox."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from accounts.models import User
from okrs.models import Cycle
from reviews.models import Review, ReviewCycle
from reviews.reminders import run_reminders
from reviews.services import (
    peer_feedback_answer,
    peer_feedback_request,
    review_calibrate,
    review_contest,
    review_cycle_open,
    review_cycles_schedule,
    review_submit_self,
)

REFLECTIONS = {
    "en": ("Parallel builds cut the deploy time in half.", "Flaky tests still block one deploy in five.",
           "Measure before optimising.", "Quarantine flaky tests within a day."),
    "zh-hans": ("并行构建让部署时间减半。", "不稳定的测试仍然让五分之一的部署受阻。", "先度量，再优化。",
                "一天内隔离不稳定的测试。"),
}  # fmt: skip


def seed_reviews(*, domain: str, language: str, now: datetime | None = None) -> bool:
    """Create the review rhythm in the current schema unless it already has one."""
    if ReviewCycle.objects.exists():
        return False
    now = now or timezone.now()
    people = {u.email.split("@")[0]: u for u in User.objects.filter(email__endswith=f"@{domain}")}
    admin = people["ceo"]
    for cycle in Cycle.objects.filter(state=Cycle.State.ACTIVE):
        review_cycles_schedule(cycle=cycle, actor=admin)
    today = timezone.localdate(now)
    started = ReviewCycle.objects.filter(kind=ReviewCycle.Kind.CHECKIN_REVIEW, opens_on__lte=today)
    current = started.order_by("-opens_on").first()
    if current is None:
        return True
    review_cycle_open(review_cycle=current, actor=admin)
    reviews = {r.participant.email.split("@")[0]: r for r in current.reviews.select_related("participant")}
    went_well, didnt, learnings, next_steps = REFLECTIONS.get(language, REFLECTIONS["en"])
    for local in ("platform.lead", "sre", "growth.lead"):
        review = reviews.get(local)
        if review is None:
            continue
        review_submit_self(
            review=review, actor=review.participant, self_score=review.self_score, went_well=went_well,
            didnt_go_well=didnt, learnings=learnings, next_steps=next_steps,
        )  # fmt: skip
    if "sre" in reviews:
        sre_review = Review.objects.get(pk=reviews["sre"].pk)
        lowered = max(0.0, (sre_review.self_score or 0) - 0.2)
        review_calibrate(
            review=sre_review, actor=people["platform.lead"], manager_score=lowered,
            comment="Repeat incidents are still the main source of pages.",
        )  # fmt: skip
        review_contest(
            review=Review.objects.get(pk=sre_review.pk), actor=people["sre"],
            reason="Two of the repeats came from a vendor outage outside our control.",
        )  # fmt: skip
        asked = peer_feedback_request(
            review=sre_review, actor=people["sre"], reviewer=people["backend"],
            question="How did the runbooks work for you during incidents?",
        )  # fmt: skip
        peer_feedback_answer(request=asked, actor=people["backend"], answer="They saved me twice at night.")
    if "growth.lead" in reviews:
        peer_feedback_request(
            review=reviews["growth.lead"], actor=people["growth.lead"], reviewer=people["analyst"],
            question="Was the referral analysis useful?",
        )  # fmt: skip
    run_reminders(now)
    return True
