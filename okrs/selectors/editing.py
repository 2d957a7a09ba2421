"""Reads for the objective and key result forms: the choices they offer and the
alignment picker's search. Each function is a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from accounts.models import User
from accounts.permissions import can_write
from accounts.selectors import report_ids
from okrs.models import Cycle, KeyResult, Objective
from okrs.selectors import objectives_visible_to

SEARCH_LIMIT = 10  # per group: at most 10 objectives and 10 key results

_DESCENDANTS_SQL = """
    WITH RECURSIVE down(id) AS (
        SELECT %s::bigint
        UNION
        SELECT o.id
        FROM okrs_objective o
        LEFT JOIN okrs_keyresult k ON k.id = o.parent_key_result_id
        JOIN down ON down.id = COALESCE(o.parent_objective_id, k.objective_id)
    )
    SELECT id FROM down
"""


def open_cycles() -> QuerySet[Cycle]:
    """Cycles that can still take objectives (not closed), the latest first."""
    return Cycle.objects.exclude(state=Cycle.State.CLOSED).order_by("-start_date", "name")


def people_for_picker() -> list[User]:
    """Active people who can own objectives and key results (viewers change nothing)."""
    return list(
        User.objects.filter(is_active=True)
        .exclude(role=User.Role.VIEWER)
        .select_related("team")
        .order_by("full_name", "email")
    )


def owners_for(user: User, people: list[User]) -> list[User]:
    """Of ``people``, those ``user`` may create objectives for — the same decision as
    ``okrs.permissions.can_create_objective_for``, made with one query for all of them."""
    if not can_write(user):
        return []
    if user.is_org_admin:
        return people
    allowed = {user.pk, *report_ids(user)}
    return [person for person in people if person.pk in allowed]


def descendant_ids(objective_id: int) -> set[int]:
    """``objective_id`` and every objective aligned below it, at any depth (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(_DESCENDANTS_SQL, [objective_id])
        return {row[0] for row in cursor.fetchall()}


def parent_token(parent: Objective | KeyResult | None) -> str:
    """The picker's value for a parent: "objective:12" or "key_result:34"."""
    if parent is None:
        return ""
    return f"{'key_result' if isinstance(parent, KeyResult) else 'objective'}:{parent.pk}"


@dataclass(frozen=True)
class AlignmentOption:
    token: str
    item: Objective | KeyResult
    is_key_result: bool
    checked: bool


@dataclass(frozen=True)
class AlignmentCandidates:
    objectives: list[Objective]
    key_results: list[KeyResult]
    selected: Objective | KeyResult | None
    cycle_missing: bool = False

    @property
    def options(self) -> list[AlignmentOption]:
        """The chosen parent first (still offered when the search no longer finds it), then the rest."""
        chosen = parent_token(self.selected)
        options = [self._option(self.selected, checked=True)] if self.selected is not None else []
        for item in [*self.objectives, *self.key_results]:
            if parent_token(item) != chosen:
                options.append(self._option(item, checked=False))
        return options

    @staticmethod
    def _option(item, *, checked: bool) -> AlignmentOption:
        return AlignmentOption(parent_token(item), item, isinstance(item, KeyResult), checked)


def parse_parent_token(token: str | None) -> tuple[str, int] | None:
    """ "objective:12" / "key_result:34" → (kind, pk); anything else → None."""
    kind, _, pk = (token or "").partition(":")
    if kind not in {"objective", "key_result"} or not pk.isdigit() or len(pk) > 18:
        return None
    return kind, int(pk)


def alignment_target(user: User, token: str | None) -> Objective | KeyResult | None:
    """The objective or key result named by ``token`` when ``user`` may see it (one query)."""
    parsed = parse_parent_token(token)
    if parsed is None:
        return None
    kind, pk = parsed
    visible = objectives_visible_to(user)
    if kind == "objective":
        return visible.select_related("cycle", "owner").filter(pk=pk).first()
    return (
        KeyResult.objects.select_related("objective__cycle", "objective__owner", "owner")
        .filter(pk=pk, objective__in=visible)
        .first()
    )


def alignment_candidates(
    user: User,
    *,
    cycle: Cycle | None,
    query: str = "",
    child: Objective | None = None,
    selected: str | None = None,
    limit: int = SEARCH_LIMIT,
) -> AlignmentCandidates:
    """What ``user`` can align an objective of ``cycle`` to: visible, non-archived objectives
    (and their key results) of the same cycle or of the cycle it belongs to, whose title
    contains ``query``; never ``child`` itself nor anything aligned below it (that would make
    a loop). At most ``limit`` of each. A fixed number of queries, whatever the organisation's size."""
    chosen = alignment_target(user, selected) if selected else None
    if cycle is None:
        return AlignmentCandidates([], [], chosen, cycle_missing=True)
    cycle_ids = [cycle.pk] + ([cycle.parent_id] if cycle.parent_id else [])
    objectives = (
        objectives_visible_to(user).filter(cycle_id__in=cycle_ids).exclude(state=Objective.State.ARCHIVED)
    )
    if child is not None and child.pk:
        objectives = objectives.exclude(pk__in=descendant_ids(child.pk))
    query = (query or "").strip()[:100]
    # The year's objectives first (a quarter aligns up to its year), then the top levels.
    order = [
        Case(When(cycle_id=cycle.pk, then=Value(1)), default=Value(0), output_field=IntegerField()),
        Case(
            When(level=Objective.Level.COMPANY, then=Value(0)),
            When(level=Objective.Level.TEAM, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        ),
        "title",
        "id",
    ]
    matching = objectives.filter(title__icontains=query) if query else objectives
    found_objectives = list(matching.select_related("cycle", "owner").order_by(*order)[:limit])
    key_results = KeyResult.objects.filter(objective__in=objectives)
    if query:
        key_results = key_results.filter(Q(title__icontains=query) | Q(objective__title__icontains=query))
    found_key_results = list(
        key_results.select_related("objective__cycle", "owner").order_by(
            "objective__title", "objective_id", "position", "id"
        )[:limit]
    )
    return AlignmentCandidates(found_objectives, found_key_results, chosen)
