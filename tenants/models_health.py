"""Health snapshots (step 6): per organisation, figures a consultant's portfolio shows.

A snapshot is computed inside the organisation's schema (``tenants.health``) and stored
here, in the public schema. It holds aggregates only: counts, shares, dates and the cycle's
kind. No titles, names, e-mail addresses or ids of tenant rows ever leave the tenant schema
(``tests/tenants/test_health.py`` scans the stored rows).
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def _share(condition_field: str) -> Q:
    return Q(**{f"{condition_field}__isnull": True}) | Q(
        **{f"{condition_field}__gte": 0, f"{condition_field}__lte": 1}
    )


class HealthSnapshot(models.Model):
    STATUS_FIELDS = ("kr_not_started", "kr_on_track", "kr_at_risk", "kr_off_track", "kr_done")

    organization = models.ForeignKey(
        "tenants.Organization",
        verbose_name=_("organisation"),
        on_delete=models.CASCADE,
        related_name="health_snapshots",
    )
    taken_at = models.DateTimeField(_("taken at"))
    # The current cycle (okrs.selectors.cycles.default_cycle): its kind and dates, not its
    # name (a name is the client's wording, i.e. content). All empty when there is no cycle.
    cycle_kind = models.CharField(_("cycle kind"), max_length=16, blank=True)
    cycle_start = models.DateField(_("cycle start"), null=True, blank=True)
    cycle_end = models.DateField(_("cycle end"), null=True, blank=True)
    # In the organisation's time zone; negative once the cycle has ended.
    days_to_cycle_end = models.IntegerField(_("days to cycle end"), null=True, blank=True)
    people_active = models.PositiveIntegerField(_("active people"), default=0)
    # Objectives of the current cycle that are active or closed (drafts and archived ones
    # don't count, as on the health dashboard) and their key results, by status.
    objectives_in_cycle = models.PositiveIntegerField(_("objectives in the cycle"), default=0)
    key_results_in_cycle = models.PositiveIntegerField(_("key results in the cycle"), default=0)
    kr_not_started = models.PositiveIntegerField(_("KRs not started"), default=0)
    kr_on_track = models.PositiveIntegerField(_("KRs on track"), default=0)
    kr_at_risk = models.PositiveIntegerField(_("KRs at risk"), default=0)
    kr_off_track = models.PositiveIntegerField(_("KRs off track"), default=0)
    kr_done = models.PositiveIntegerField(_("KRs done"), default=0)
    # Share (0..1) of KRs in active objectives of the cycle checked in within the cycle's
    # cadence (the health dashboard's definition); null when there is no such KR.
    checkin_discipline = models.FloatField(_("check-in discipline"), null=True, blank=True)
    # Unresolved (open or acknowledged) escalations, by level.
    escalations_open_level1 = models.PositiveIntegerField(_("open level-1 escalations"), default=0)
    escalations_open_level2 = models.PositiveIntegerField(_("open level-2 escalations"), default=0)
    escalations_open_level3 = models.PositiveIntegerField(_("open level-3 escalations"), default=0)
    reviews_overdue = models.PositiveIntegerField(_("overdue reviews"), default=0)
    # Mean objective score (0..1) of the latest closed cycle, for benchmarks; null if none.
    last_cycle_average_score = models.FloatField(
        _("average score of the last closed cycle"), null=True, blank=True
    )
    last_activity_at = models.DateTimeField(_("last check-in"), null=True, blank=True)
    # Dates for the consultants' calendar, in the next 120 days: a list of
    # {"date": "YYYY-MM-DD", "kind": "cycle_end" | "review_due" | "calibration",
    #  "cycle_kind" | "review_kind": <choice value>} — dates and kinds only, never names.
    upcoming_dates = models.JSONField(_("upcoming dates"), default=list, blank=True)

    class Meta:
        ordering = ["-taken_at", "-id"]
        get_latest_by = "taken_at"
        verbose_name = _("health snapshot")
        verbose_name_plural = _("health snapshots")
        indexes = [models.Index(fields=["organization", "-taken_at"], name="health_org_taken_idx")]
        constraints = [
            models.CheckConstraint(condition=_share("checkin_discipline"), name="health_discipline_0_1"),
            models.CheckConstraint(condition=_share("last_cycle_average_score"), name="health_score_0_1"),
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} @ {self.taken_at:%Y-%m-%d %H:%M}"

    @property
    def escalations_open(self) -> int:
        return self.escalations_open_level1 + self.escalations_open_level2 + self.escalations_open_level3

    def kr_share(self, status: str) -> float | None:
        """Share (0..1) of the cycle's KRs in ``status`` (e.g. "on_track"); null without KRs."""
        if not self.key_results_in_cycle:
            return None
        return getattr(self, f"kr_{status}") / self.key_results_in_cycle
