"""Everything the objective page shows, read in a fixed number of queries whatever the
number of key results, check-ins, initiatives or history entries.

The objective itself comes from ``okrs.views.common.visible_objective_or_404`` (cycle,
owner and team loaded); :func:`objective_page` adds the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F, OuterRef, Prefetch, Q, Subquery, Window
from django.db.models.functions import Lag
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from okrs import charts, permissions, scoring
from okrs.models import (
    AlignmentProposal,
    CheckIn,
    Escalation,
    Initiative,
    KeyResult,
    Kpi,
    KpiReading,
    Objective,
)
from okrs.quality import Finding, objective_findings
from okrs.selectors import objectives_visible_to, organization_timezone

CHECK_IN_HISTORY_LIMIT = 12  # per key result, newest first
AUDIT_LIMIT = 15  # most recent audit entries of the objective and its key results

# Fields whose changes the audit history shows. Cached values (progress, status,
# forecast, …) are recalculated, not edited: they are left out.
OBJECTIVE_AUDIT_FIELDS = (
    "title", "description", "owner", "team", "cycle", "level", "kind", "health_dimension", "visibility",
    "state", "parent_objective", "parent_key_result", "score", "closing_note", "needs_decision",
)  # fmt: skip
KEY_RESULT_AUDIT_FIELDS = (
    "title", "owner", "kind", "unit", "currency_code", "unit_label", "start", "target", "low", "high",
    "weight", "due_date",
)  # fmt: skip
# Long text and references: the history says that they changed, not what to.
_LABEL_ONLY = {
    "description",
    "closing_note",
    "owner",
    "team",
    "cycle",
    "parent_objective",
    "parent_key_result",
}
# Fields without a verbose name of their own (both parents read as one "alignment").
_LABELS = {
    "parent_objective": gettext_lazy("alignment"),
    "parent_key_result": gettext_lazy("alignment"),
    "score": gettext_lazy("score"),
}


@dataclass(frozen=True)
class Change:
    label: str
    old: str | None = None  # None: only say that it changed
    new: str | None = None


@dataclass
class AuditEntry:
    at: datetime
    user: User | None
    action: str  # "created" | "changed" | "deleted"
    subject: str  # the objective's or key result's title at the time
    is_key_result: bool
    changes: list[Change] = field(default_factory=list)


@dataclass
class ObjectivePage:
    objective: Objective
    key_results: list[KeyResult]
    can_edit: bool
    parent_objective: Objective | None  # visible parent (or the parent KR's objective)
    parent_key_result: KeyResult | None
    parent_hidden: bool  # aligned to something the viewer may not see
    contributors: list[Objective]
    outgoing_proposal: AlignmentProposal | None
    incoming_proposals: list[AlignmentProposal]
    findings: list[Finding]
    escalations: list[Escalation]
    history: list[AuditEntry]

    @property
    def open_escalations(self) -> list[Escalation]:
        return [e for e in self.escalations if e.state != Escalation.State.RESOLVED]

    @property
    def resolved_escalations(self) -> list[Escalation]:
        return [e for e in self.escalations if e.state == Escalation.State.RESOLVED]


def key_results_with_history(
    user: User, objective: Objective, *, can_edit: bool, now: datetime
) -> list[KeyResult]:
    """The objective's key results, each with its check-ins (``check_in_rows``: newest first,
    at most CHECK_IN_HISTORY_LIMIT; ``check_in_count``), its chart, KPIs, initiatives,
    escalations and what ``user`` may do with it. Five queries."""
    kpis = Kpi.objects.select_related("owner").annotate(
        latest_value=Subquery(
            KpiReading.objects.filter(kpi=OuterRef("pk")).order_by("-at", "-id").values("value")[:1]
        )
    )
    key_results = list(
        objective.key_results.select_related("owner")
        .prefetch_related(
            Prefetch("kpis", queryset=kpis.order_by("name", "id")),
            Prefetch(
                "initiatives", queryset=Initiative.objects.select_related("owner").order_by("done", "id")
            ),
            Prefetch(
                "escalations",
                queryset=Escalation.objects.select_related("acknowledged_by", "resolved_by").order_by(
                    "-opened_at", "-id"
                ),
            ),
        )
        .order_by("position", "id")
    )
    check_ins = (
        CheckIn.objects.filter(key_result__objective=objective)
        .select_related("author")
        .order_by("key_result_id", "effective_at", "id")
    )
    by_kr: dict[int, list[CheckIn]] = {}
    corrected: set[int] = set()
    for check_in in check_ins:
        by_kr.setdefault(check_in.key_result_id, []).append(check_in)
        if check_in.corrects_id:
            corrected.add(check_in.corrects_id)
    cycle = objective.cycle
    tz = organization_timezone()
    for kr in key_results:
        kr.objective = objective  # loaded: permission checks need no query
        rows = by_kr.get(kr.pk, [])
        for row in rows:
            row.key_result = kr
            row.is_corrected = row.pk in corrected
        effective = [row for row in rows if not row.is_corrected]
        kr.check_in_count = len(rows)
        kr.check_in_rows = list(reversed(rows))[:CHECK_IN_HISTORY_LIMIT]
        kr.chart = charts.key_result_chart(
            kind=kr.kind,
            start=kr.start,
            target=kr.target,
            low=kr.low,
            high=kr.high,
            points=[(row.effective_at, row.value) for row in effective],
            forecast=kr.forecast,
            cycle_start=cycle.start_date,
            cycle_end=cycle.end_date,
            tz=tz,
            now=now,
        )
        kr.expected_value = scoring.expected_value(
            kr.kind, start=kr.start, target=kr.target, expected=objective.expected_progress
        )
        kr.can_check_in = permissions.can_check_in(user, kr)
        for kpi in kr.kpis.all():
            kpi.health = scoring.kpi_health(
                kpi.direction, green=kpi.green_threshold, red=kpi.red_threshold, value=kpi.latest_value
            )
        kr.initiatives_list = _with_toggle(user, kr, list(kr.initiatives.all()), can_edit)
        # permissions.can_acknowledge_escalation / can_resolve_escalation, with the objective's
        # edit decision taken once for the page instead of once per escalation.
        for escalation in kr.escalations.all():
            escalation.key_result = kr
            escalation.can_acknowledge = escalation.state == Escalation.State.OPEN and (
                kr.can_check_in or can_edit
            )
            escalation.can_resolve = escalation.state != Escalation.State.RESOLVED and can_edit
    return key_results


def _with_toggle(
    user: User, kr: KeyResult, initiatives: list[Initiative], can_edit: bool
) -> list[Initiative]:
    for initiative in initiatives:
        initiative.key_result = kr
        initiative.can_toggle = permissions.can_set_initiative_done(user, initiative, can_edit=can_edit)
    return initiatives


def initiatives_of(user: User, kr: KeyResult, *, can_edit: bool) -> list[Initiative]:
    """A KR's initiatives (open first), each with whether ``user`` may tick it off. One query."""
    rows = list(Initiative.objects.filter(key_result=kr).select_related("owner").order_by("done", "id"))
    return _with_toggle(user, kr, rows, can_edit)


def objective_page(user: User, objective: Objective, *, now: datetime) -> ObjectivePage:
    can_edit = permissions.can_edit_objective(user, objective)
    key_results = key_results_with_history(user, objective, can_edit=can_edit, now=now)
    kr_ids = [kr.pk for kr in key_results]

    parent_key_result = None
    if objective.parent_key_result_id:
        parent_key_result = (
            KeyResult.objects.select_related("owner").filter(pk=objective.parent_key_result_id).first()
        )
    parent_objective_id = objective.parent_objective_id or (
        parent_key_result and parent_key_result.objective_id
    )

    proposals = list(
        AlignmentProposal.objects.filter(state=AlignmentProposal.State.PROPOSED)
        .filter(
            Q(child=objective) | Q(parent_objective=objective) | Q(parent_key_result__objective=objective)
        )
        .select_related(
            "child__owner",
            "proposed_by",
            "parent_objective__owner",
            "parent_key_result__owner",
            "parent_key_result__objective",
        )
        .order_by("created_at", "id")
    )
    outgoing = next((p for p in proposals if p.child_id == objective.pk), None)
    outgoing_target = None
    if outgoing is not None:
        outgoing_target = outgoing.parent_objective_id or outgoing.parent_key_result.objective_id

    # Which of the related objectives the viewer may see: one query.
    wanted = {pid for pid in (parent_objective_id, outgoing_target) if pid}
    wanted |= {p.child_id for p in proposals if p.child_id != objective.pk}
    related = list(
        objectives_visible_to(user)
        .filter(Q(pk__in=wanted) | Q(parent_objective=objective) | Q(parent_key_result__in=kr_ids))
        .exclude(pk=objective.pk)
        .select_related("owner", "team", "cycle")
        .order_by("title", "id")
    )
    visible = {o.pk: o for o in related}
    kr_by_id = {kr.pk: kr for kr in key_results}
    contributors = []
    for other in related:
        if other.parent_objective_id == objective.pk or other.parent_key_result_id in kr_by_id:
            if other.state == Objective.State.ARCHIVED:
                continue
            other.via_key_result = kr_by_id.get(other.parent_key_result_id)
            contributors.append(other)

    parent = visible.get(parent_objective_id) if parent_objective_id else None
    parent_hidden = bool(parent_objective_id) and parent is None
    if outgoing is not None:
        outgoing.can_decide = permissions.can_decide_alignment(user, outgoing)
        outgoing.target_objective = visible.get(outgoing_target)
        if outgoing.target_objective is None and not outgoing.can_decide:
            outgoing = None  # proposed to something the viewer may not see
    incoming = []
    for proposal in proposals:
        if proposal.child_id == objective.pk:
            continue
        proposal.can_decide = permissions.can_decide_alignment(user, proposal)
        if proposal.child_id in visible or proposal.can_decide:
            incoming.append(proposal)

    owner_objectives = (
        Objective.objects.filter(cycle_id=objective.cycle_id, owner_id=objective.owner_id)
        .exclude(state=Objective.State.ARCHIVED)
        .count()
    )
    findings = objective_findings(objective, key_results, owner_objectives_in_cycle=owner_objectives)
    escalations = sorted(
        (e for kr in key_results for e in kr.escalations.all()),
        key=lambda e: (e.opened_at, e.pk),
        reverse=True,
    )
    return ObjectivePage(
        objective=objective,
        key_results=key_results,
        can_edit=can_edit,
        parent_objective=parent,
        parent_key_result=parent_key_result if parent is not None else None,
        parent_hidden=parent_hidden,
        contributors=contributors,
        outgoing_proposal=outgoing,
        incoming_proposals=incoming,
        findings=findings,
        escalations=escalations,
        history=audit_history(objective),
    )


# --- Audit history (django-simple-history) -------------------------------------------------------------


def _recent(history_queryset, limit: int) -> list:
    """The ``limit`` newest historical rows, each with ``prev_history_id`` (the row before it
    of the same object): the window is computed over all the rows, the limit applied after."""
    return list(
        history_queryset.select_related("history_user")
        .annotate(
            prev_history_id=Window(
                Lag("history_id"),
                partition_by=[F("id")],
                order_by=[F("history_date").asc(), F("history_id").asc()],
            )
        )
        .order_by("-history_date", "-history_id")[:limit]
    )


def _display(model, name: str, value) -> str:
    if value is None or value == "":
        return "—"
    model_field = model._meta.get_field(name)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _changes(model, fields: tuple[str, ...], row, previous) -> list[Change]:
    changes = []
    labels = set()
    for name in fields:
        attname = model._meta.get_field(name).attname
        old, new = getattr(previous, attname), getattr(row, attname)
        if old == new:
            continue
        label = str(_LABELS.get(name) or model._meta.get_field(name).verbose_name)
        if label in labels:
            continue
        labels.add(label)
        if name in _LABEL_ONLY:
            changes.append(Change(label=label))
        else:
            changes.append(
                Change(label=label, old=_display(model, name, old), new=_display(model, name, new))
            )
    return changes


_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}


def audit_history(objective: Objective, limit: int = AUDIT_LIMIT) -> list[AuditEntry]:
    """Who changed what on the objective and its key results, newest first: at most
    ``limit`` entries, four queries."""
    objective_rows = _recent(Objective.history.filter(id=objective.pk), limit)
    kr_rows = _recent(KeyResult.history.filter(objective_id=objective.pk), limit)
    entries = []
    for rows, model, fields in (
        (objective_rows, Objective, OBJECTIVE_AUDIT_FIELDS),
        (kr_rows, KeyResult, KEY_RESULT_AUDIT_FIELDS),
    ):
        previous_ids = [row.prev_history_id for row in rows if row.prev_history_id]
        previous = (
            {p.history_id: p for p in model.history.filter(history_id__in=previous_ids)}
            if previous_ids
            else {}
        )
        for row in rows:
            action = _ACTIONS.get(row.history_type, "changed")
            changes = []
            before = previous.get(row.prev_history_id)
            if action == "changed" and before is not None:
                changes = _changes(model, fields, row, before)
                if not changes:
                    continue  # only recalculated values moved
            entries.append(
                AuditEntry(
                    at=row.history_date,
                    user=row.history_user,
                    action=action,
                    subject=row.title,
                    is_key_result=model is KeyResult,
                    changes=changes,
                )
            )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
