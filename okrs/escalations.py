"""The three lines of defence (method §5).

A key result that is at risk or off track at N consecutive check-ins (N is the
organisation's ``escalation_threshold``, default 2) opens level 1: its owner and their
manager are told and a root-cause note is due within 24 hours. One more check-in behind
opens level 2 (the objective needs a decision; the manager and org admins are told);
one more, level 3 (it goes on the next calibration agenda). An escalation never opens
twice for the same KR and level while it is unresolved, and closes itself when the KR
is back on track.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.notifications import NotificationRequest, notify_many
from accounts.webhooks import webhook_emit, webhook_emit_many
from okrs import permissions, scoring
from okrs.models import CheckIn, Escalation, KeyResult, Objective
from okrs.recalculation import Clock
from okrs.services.common import require

BEHIND = frozenset({scoring.AT_RISK, scoring.OFF_TRACK})
ROOT_CAUSE_WITHIN = timedelta(hours=24)
OPEN_STATES = (Escalation.State.OPEN, Escalation.State.ACKNOWLEDGED)


# The KR's effective check-ins (those no correction replaced), oldest first, then the levels of
# its escalations still open: what a check-in needs after it has locked the KR, in one statement.
_HISTORY_SQL = f"""
    SELECT 0, c.effective_at, c.id, c.value, c.confidence
    FROM {CheckIn._meta.db_table} c
    WHERE c.key_result_id = %(key_result)s
      AND NOT EXISTS (SELECT 1 FROM {CheckIn._meta.db_table} r WHERE r.corrects_id = c.id)
    UNION ALL
    SELECT 1, NULL, e.id, NULL, e.level
    FROM {Escalation._meta.db_table} e
    WHERE e.key_result_id = %(key_result)s AND e.state = ANY(%(open)s)
    ORDER BY 1, 2, 3
"""  # noqa: S608 - table names from model metadata


def check_in_history(key_result_id: int) -> tuple[list[tuple[datetime, float, int]], set[int]]:
    """(effective check-ins as (time, value, confidence), oldest first; levels of the open
    escalations) of a key result, read together. Read after locking the KR, both are current:
    its check-ins and escalations change only under that lock (the unique open level guards
    the nightly sweep)."""
    points, open_levels = [], set()
    with connection.cursor() as cursor:
        cursor.execute(_HISTORY_SQL, {"key_result": key_result_id, "open": list(OPEN_STATES)})
        for part, at, _, value, extra in cursor.fetchall():
            if part == 0:
                points.append((at, value, extra))
            else:
                open_levels.add(extra)
    return points, open_levels


def behind_streak(key_result: KeyResult, points: Sequence[tuple[datetime, float]], clock: Clock) -> int:
    """How many of the latest effective check-ins in a row found the KR behind pace
    (each judged at its own time)."""
    cycle = key_result.objective.cycle
    streak = 0
    for at, value in points:
        progress = scoring.key_result_progress(
            key_result.kind, start=key_result.start, target=key_result.target, current=value,
            low=key_result.low, high=key_result.high,
        )  # fmt: skip
        expected = scoring.expected_progress(cycle.start_date, cycle.end_date, at, clock.tz)
        status = scoring.key_result_status(
            key_result.kind,
            progress=progress,
            expected=expected,
            has_check_in=True,
            thresholds=clock.thresholds,
        )
        streak = streak + 1 if status in BEHIND else 0
    return streak


def level_for(streak: int, threshold: int) -> int:
    return 0 if streak < threshold else min(3, streak - threshold + 1)


def _org_admins() -> list[User]:
    return list(User.objects.filter(role=User.Role.ORG_ADMIN, is_active=True))


def _audience(level: int, key_result: KeyResult) -> list[User]:
    owner = key_result.owner
    manager = owner.manager if owner.manager_id else None
    if level == 1:
        people = [owner, manager]
    elif level == 2:
        people = [key_result.objective.owner, manager, *_org_admins()]
    else:
        people = _org_admins()
    unique = {p.pk: p for p in people if p is not None and p.is_active}
    return list(unique.values())


def _message(level: int, key_result: KeyResult, streak: int, due: datetime | None) -> tuple[str, str]:
    title = {
        1: _("“%(kr)s” is behind pace: a root-cause note is due within 24 hours"),
        2: _("“%(objective)s” needs a decision: “%(kr)s” is still behind pace"),
        3: _("“%(kr)s” goes on the calibration agenda: adjust the target or drop the objective"),
    }[level] % {"kr": key_result.title, "objective": key_result.objective.title}
    body = _("Behind pace at %(n)d check-ins in a row (progress %(p).0f%%).") % {
        "n": streak, "p": key_result.progress * 100,
    }  # fmt: skip
    if due:
        body += " " + _("Root cause due by %(due)s UTC.") % {"due": due.strftime("%Y-%m-%d %H:%M")}
    return title, body


def _open(key_result: KeyResult, level: int, streak: int, now: datetime) -> list[NotificationRequest]:
    """Open one level; returns the notifications it owes (none when a concurrent evaluation
    opened it first), keyed by the new escalation. The caller records them (``_evaluate``)."""
    due = now + ROOT_CAUSE_WITHIN if level == 1 else None
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(
                key_result=key_result,
                level=level,
                behind_check_ins=streak,
                opened_at=now,
                root_cause_due_at=due,
            )
    except IntegrityError:  # opened meanwhile by a concurrent evaluation
        return []
    if level == 2:
        Objective.objects.filter(pk=key_result.objective_id).update(needs_decision=True)
    webhook_emit("escalation.opened", {
        "escalation": {
            "id": escalation.pk, "level": level, "key_result_id": key_result.pk,
            "objective_id": key_result.objective_id, "behind_check_ins": streak, "opened_at": now,
            "root_cause_due_at": due,
        }
    })  # fmt: skip
    title, body = _message(level, key_result, streak, due)
    return [
        NotificationRequest(
            person,
            "escalation",
            f"escalation:{escalation.pk}",
            "opened",
            title,
            body,
            link=f"/objectives/{key_result.objective_id}/",
            due_at=due,
        )
        for person in _audience(level, key_result)
    ]


def _close(
    escalations: list[Escalation], *, resolution: str, note: str, actor: User | None, now: datetime
) -> None:
    ids = [e.pk for e in escalations]
    Escalation.objects.filter(pk__in=ids).update(
        state=Escalation.State.RESOLVED, resolution=resolution, resolution_note=note, resolved_by=actor,
        resolved_at=now,
    )  # fmt: skip
    webhook_emit_many("escalation.resolved", [{
        "escalation": {
            "id": e.pk, "level": e.level, "key_result_id": e.key_result_id,
            "objective_id": e.key_result.objective_id, "resolution": resolution, "resolved_at": now,
            "resolved_by_id": actor.pk if actor else None, "automatic": actor is None,
        }
    } for e in escalations])  # fmt: skip
    objectives = {e.key_result.objective_id for e in escalations}
    still_deciding = set(
        Escalation.objects.filter(
            key_result__objective_id__in=objectives, level__gte=2, state__in=OPEN_STATES
        ).values_list("key_result__objective_id", flat=True)
    )
    Objective.objects.filter(pk__in=objectives - still_deciding).update(needs_decision=False)


def evaluate(
    key_result: KeyResult, points: Sequence[tuple[datetime, float]], clock: Clock, threshold: int, *,
    open_escalations: list[Escalation] | None = None, open_levels: set[int] | None = None,
) -> None:  # fmt: skip
    """Open the escalation levels the KR has reached, or close them all when it is back
    on track. ``key_result`` must carry its fresh cached status and ``objective.cycle``.
    ``open_escalations`` or, when only their levels were read, ``open_levels``: the KR's open
    escalations (read here when neither is given)."""
    owed = _evaluate(
        key_result, points, clock, threshold, open_escalations=open_escalations, open_levels=open_levels
    )
    notify_many(owed, now=clock.now, fresh_keys=True)


def _evaluate(
    key_result: KeyResult, points: Sequence[tuple[datetime, float]], clock: Clock, threshold: int, *,
    open_escalations: list[Escalation] | None, open_levels: set[int] | None,
) -> list[NotificationRequest]:  # fmt: skip
    """``evaluate``, returning the notifications owed instead of recording them: all of a
    transaction's go to one ``notify_many`` (a fixed number of statements). Their keys name the
    escalations just opened, so nobody is locked (``fresh_keys``): before, each level locked its
    audience (owner and manager, then the admins too, out of id order), and two check-ins
    escalating to the same people deadlocked."""
    if open_escalations is None and open_levels is not None:
        if key_result.status in BEHIND:
            return _open_reached(key_result, points, clock, threshold, open_levels)
        if not open_levels:
            return []
    if open_escalations is None:
        open_escalations = list(Escalation.objects.filter(key_result=key_result, state__in=OPEN_STATES))
    if key_result.status not in BEHIND:
        if open_escalations:
            note = _("Back on track on %(day)s; closed automatically.") % {
                "day": clock.now.date().isoformat()
            }
            _close(
                open_escalations, resolution=Escalation.Resolution.AUTO_RECOVERED, note=note, actor=None,
                now=clock.now,
            )  # fmt: skip
        return []
    return _open_reached(key_result, points, clock, threshold, {e.level for e in open_escalations})


def _open_reached(
    key_result: KeyResult, points: Sequence[tuple[datetime, float]], clock: Clock, threshold: int,
    open_levels: set[int],
) -> list[NotificationRequest]:  # fmt: skip
    streak = behind_streak(key_result, points, clock)
    reached = level_for(streak, threshold)
    owed: list[NotificationRequest] = []
    for level in range(1, reached + 1):
        if level not in open_levels:
            owed += _open(key_result, level, streak, clock.now)
    return owed


@transaction.atomic
def sweep(clock: Clock, threshold: int) -> int:
    """Evaluate every KR that is behind pace or has open escalations (after a bulk
    recalculation). A fixed number of queries plus the writes it makes. One transaction: the
    escalations it opens and their notifications are recorded together (KRs in id order)."""
    candidates = list(
        KeyResult.objects.filter(Q(status__in=BEHIND) | Q(escalations__state__in=OPEN_STATES))
        .distinct()
        .order_by("pk")
        .select_related("objective__cycle", "objective__owner", "owner__manager")
    )
    if not candidates:
        return 0
    ids = [k.pk for k in candidates]
    points: dict[int, list] = defaultdict(list)
    for kr_id, at, value in (
        CheckIn.objects.filter(key_result_id__in=ids, correction__isnull=True)
        .order_by("key_result_id", "effective_at", "id")
        .values_list("key_result_id", "effective_at", "value")
    ):
        points[kr_id].append((at, value))
    escalations: dict[int, list] = defaultdict(list)
    for escalation in Escalation.objects.filter(key_result_id__in=ids, state__in=OPEN_STATES).select_related(
        "key_result"
    ):
        escalations[escalation.key_result_id].append(escalation)
    owed: list[NotificationRequest] = []
    for key_result in candidates:
        owed += _evaluate(
            key_result, points[key_result.pk], clock, threshold, open_escalations=escalations[key_result.pk],
            open_levels=None,
        )  # fmt: skip
    notify_many(owed, now=clock.now, fresh_keys=True)
    return len(candidates)


def escalation_acknowledge_check(*, actor: User, escalation: Escalation) -> None:
    """Refuse (403) unless ``actor`` may acknowledge ``escalation``: the service, the page and
    the API ask this (the API before reading the input)."""
    require(
        permissions.can_acknowledge_escalation(actor, escalation),
        _("Only the key result's owner or their manager can acknowledge this."),
    )


def escalation_resolve_check(*, actor: User, escalation: Escalation) -> None:
    """Refuse (403) unless ``actor`` may resolve ``escalation`` (see ``escalation_acknowledge_check``)."""
    require(
        permissions.can_resolve_escalation(actor, escalation),
        _("Only the objective's owner, their manager or an org admin can resolve this."),
    )


@transaction.atomic
def escalation_acknowledge(*, escalation: Escalation, actor: User, root_cause: str) -> Escalation:
    """The owner (or their manager) records the root cause."""
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("key_result__objective")
        .get(pk=escalation.pk)
    )
    escalation_acknowledge_check(actor=actor, escalation=escalation)
    if escalation.state != Escalation.State.OPEN:
        raise ValidationError(
            _("This escalation is already %(s)s.") % {"s": escalation.get_state_display().lower()}
        )
    if not (root_cause or "").strip():
        raise ValidationError(
            {"root_cause": [_("Write down the root cause: what is holding this key result back?")]}
        )
    escalation.state, escalation.root_cause = Escalation.State.ACKNOWLEDGED, root_cause.strip()
    escalation.acknowledged_by, escalation.acknowledged_at = actor, timezone.now()
    escalation.save()
    return escalation


@transaction.atomic
def escalation_resolve(*, escalation: Escalation, actor: User, resolution: str, note: str) -> Escalation:
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("key_result__objective")
        .get(pk=escalation.pk)
    )
    escalation_resolve_check(actor=actor, escalation=escalation)
    if escalation.state == Escalation.State.RESOLVED:
        raise ValidationError(_("This escalation is already resolved."))
    allowed = {Escalation.Resolution.RECOVERED, Escalation.Resolution.TARGET_CHANGED,
               Escalation.Resolution.OBJECTIVE_DROPPED}  # fmt: skip
    if resolution not in allowed:
        raise ValidationError(
            {"resolution": [_("Choose how it was resolved: recovered, target changed or dropped.")]}
        )
    if not (note or "").strip():
        raise ValidationError({"note": [_("Say what was decided, so the history explains it.")]})
    _close([escalation], resolution=resolution, note=note.strip(), actor=actor, now=timezone.now())
    escalation.refresh_from_db()
    return escalation
