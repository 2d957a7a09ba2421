"""The OKR explorer: a cycle's objectives as an alignment tree.

Objectives nest under their accepted parent: the parent objective, or the objective
of the parent key result. When the chosen cycle is part of a year, the year's
objectives that the cycle's objectives contribute to (directly or through other
objectives) are shown as the roots above them, marked as strategic context; the
year's other objectives are not shown. A year shows its own objectives only.

Filters apply to every node. A node whose parent is filtered out (or is not shown for
another reason) becomes a root, so nothing matching is lost; when that parent is
visible to the viewer the node says what it contributes to.

Queries: the reporting lines (not for org admins), the objectives of the cycle and its
year with their match against the filters, and the key results of the shown ones —
three at most, whatever the size of the organisation.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, fields

from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    Value,
    When,
    prefetch_related_objects,
)

from accounts.models import User
from okrs import permissions
from okrs.models import Cycle, KeyResult, Objective
from okrs.selectors import objectives_visible_to

LEVEL_ORDER = {Objective.Level.COMPANY: 0, Objective.Level.TEAM: 1, Objective.Level.INDIVIDUAL: 2}
MAX_DEPTH = 32  # alignment forbids loops; this only guards the recursion
# Objectives drawn per page: a large organisation's tree is paged by whole root subtrees
# (a root with a bigger subtree than this is cut, and says how many it hides).
NODES_PER_PAGE = 30


@dataclass(frozen=True)
class ExplorerFilters:
    team_ids: frozenset[int] | None = None  # a team and its sub-teams
    person: User | None = None  # owns the objective or one of its key results
    status: str = ""
    dimension: str = ""
    text: str = ""

    @property
    def active(self) -> bool:
        return bool(self.team_ids is not None or self.person or self.status or self.dimension or self.text)


@dataclass(frozen=True, slots=True)
class StructureRow:
    """What the tree is built from, for every visible objective of the cycle (and the year)."""

    pk: int
    title: str
    cycle_id: int
    level: str
    status: str
    parent_objective_id: int | None
    parent_key_result_id: int | None
    matches: bool  # passes the filters
    key_result_parent_id: int | None  # the objective of the parent KR


# The columns read for each row, in the dataclass's order (``pk`` is the ``id`` column).
STRUCTURE_FIELDS = tuple("id" if f.name == "pk" else f.name for f in fields(StructureRow))


@dataclass
class TreeNode:
    objective: Objective | StructureRow  # an Objective once drawn on the page
    is_context: bool = False  # from the year above the chosen cycle
    contributes_to: Objective | None = None  # a visible parent that is not shown above it
    via_key_result: KeyResult | None = None  # the parent KR this objective aligns to
    children: list[TreeNode] = field(default_factory=list)
    depth: int = 0
    hidden_children: int = 0  # contributors left out to keep the page bounded

    @property
    def key_results(self) -> list[KeyResult]:
        return list(self.objective.key_results.all())

    @property
    def confidences(self) -> list[int]:
        return [kr.confidence for kr in self.key_results if kr.confidence is not None]

    @property
    def confidence_low(self) -> int | None:
        values = self.confidences
        return min(values) if values else None

    @property
    def confidence_average(self) -> float | None:
        values = self.confidences
        return sum(values) / len(values) if values else None


@dataclass
class ExplorerTree:
    roots: list[TreeNode]
    shown: int  # objectives of the chosen cycle shown (context from the year not counted)
    in_cycle: int  # objectives of the chosen cycle the viewer may see, before filters
    status_counts: dict[str, int]
    page: int = 1
    pages: int = 1

    @property
    def empty(self) -> bool:
        return not self.roots

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None

    @property
    def previous_page(self) -> int | None:
        return self.page - 1 if self.page > 1 else None


def _filter_condition(filters: ExplorerFilters) -> Q:
    condition = Q()
    if filters.team_ids is not None:
        condition &= Q(team_id__in=filters.team_ids)
    if filters.person is not None:
        condition &= Q(owner=filters.person) | Q(
            Exists(KeyResult.objects.filter(objective=OuterRef("pk"), owner=filters.person))
        )
    if filters.status:
        condition &= Q(status=filters.status)
    if filters.dimension:
        condition &= Q(health_dimension=filters.dimension)
    text = filters.text.strip()
    if text:
        condition &= (
            Q(title__icontains=text)
            | Q(description__icontains=text)
            | Q(Exists(KeyResult.objects.filter(objective=OuterRef("pk"), title__icontains=text)))
        )
    return condition


def _parent_id(objective: Objective | StructureRow) -> int | None:
    if objective.parent_objective_id:
        return objective.parent_objective_id
    if objective.parent_key_result_id:
        return objective.key_result_parent_id
    return None


def _sort_key(node: TreeNode):
    o = node.objective
    return (not node.is_context, LEVEL_ORDER.get(o.level, 9), o.title.lower(), o.pk)


def explorer_tree(*, user: User, cycle: Cycle, filters: ExplorerFilters, page: int = 1) -> ExplorerTree:
    """The alignment tree of ``cycle`` as ``user`` may see it, filtered by ``filters``:
    page ``page`` of it (whole root subtrees, about NODES_PER_PAGE objectives a page)."""
    cycle_ids = [cycle.pk] + ([cycle.parent_id] if cycle.parent_id else [])
    condition = _filter_condition(filters)
    matches = (
        Case(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())
        if filters.active
        else Value(True, output_field=BooleanField())
    )
    # The whole cycle's structure as plain rows (thousands of objectives: building model
    # instances was most of the page's time); full objects only for the page drawn (below).
    objectives = [
        StructureRow(*row)
        for row in objectives_visible_to(user)
        .filter(cycle_id__in=cycle_ids)
        .exclude(state=Objective.State.ARCHIVED)
        .annotate(matches=matches, key_result_parent_id=F("parent_key_result__objective_id"))
        .order_by("id")
        .values_list(*STRUCTURE_FIELDS)
    ]
    by_id = {o.pk: o for o in objectives}
    members = [o for o in objectives if o.cycle_id == cycle.pk]

    # The year's objectives above the chosen cycle's (through visible objectives only).
    context: set[int] = set()
    for objective in members:
        seen = {objective.pk}
        parent_id = _parent_id(objective)
        while parent_id in by_id and parent_id not in seen:
            seen.add(parent_id)
            parent = by_id[parent_id]
            if parent.cycle_id != cycle.pk:
                context.add(parent_id)
            parent_id = _parent_id(parent)

    shown_ids = {o.pk for o in members if o.matches} | {pk for pk in context if by_id[pk].matches}
    nodes = {pk: TreeNode(objective=by_id[pk], is_context=pk in context) for pk in shown_ids}
    roots: list[TreeNode] = []
    for node in nodes.values():
        parent_id = _parent_id(node.objective)
        if parent_id in nodes:
            nodes[parent_id].children.append(node)
        else:
            node.contributes_to = by_id.get(parent_id)
            roots.append(node)
    roots.sort(key=_sort_key)
    _order(roots, 0, set())
    pages = _paginate(roots)
    page = min(max(page, 1), len(pages) or 1)
    roots = pages[page - 1] if pages else []
    drawn_nodes = list(_walk(roots))
    full = Objective.objects.select_related("owner", "team", "cycle", "parent_key_result").in_bulk(
        [node.objective.pk for node in drawn_nodes]
    )
    for node in drawn_nodes:
        node.objective = full[node.objective.pk]
        node.via_key_result = node.objective.parent_key_result
    drawn = [node.objective for node in drawn_nodes]
    if drawn:
        key_results = KeyResult.objects.select_related("owner").order_by("position", "id")
        prefetch_related_objects(drawn, Prefetch("key_results", queryset=key_results))
    for objective in drawn:
        for kr in objective.key_results.all():
            kr.objective = objective  # loaded: permission checks need no query
            kr.can_check_in = permissions.can_check_in(user, kr)
    shown_members = [nodes[pk].objective for pk in shown_ids if pk not in context]
    return ExplorerTree(
        roots=roots,
        shown=len(shown_members),
        in_cycle=len(members),
        status_counts=dict(Counter(o.status for o in shown_members)),
        page=page,
        pages=max(len(pages), 1),
    )


def _order(nodes: list[TreeNode], depth: int, seen: set[int]) -> None:
    for node in nodes:
        if node.objective.pk in seen or depth > MAX_DEPTH:
            node.children = []
            continue
        seen.add(node.objective.pk)
        node.depth = depth
        node.children.sort(key=_sort_key)
        _order(node.children, depth + 1, seen)


def _walk(nodes: list[TreeNode]):
    for node in nodes:
        yield node
        yield from _walk(node.children)


def _size(node: TreeNode) -> int:
    return 1 + sum(_size(child) for child in node.children)


def _cut(node: TreeNode, budget: int) -> int:
    """Keep at most ``budget`` nodes of ``node``'s subtree (pre-order); returns how many were kept."""
    kept = 1
    for index, child in enumerate(node.children):
        if kept >= budget:
            node.hidden_children = sum(_size(c) for c in node.children[index:])
            node.children = node.children[:index]
            break
        kept += _cut(child, budget - kept)
    return kept


def _paginate(roots: list[TreeNode]) -> list[list[TreeNode]]:
    """Group whole root subtrees into pages of about NODES_PER_PAGE objectives."""
    pages: list[list[TreeNode]] = []
    current: list[TreeNode] = []
    used = 0
    for root in roots:
        size = _size(root)
        if current and used + size > NODES_PER_PAGE:
            pages.append(current)
            current, used = [], 0
        if size > NODES_PER_PAGE:
            size = _cut(root, NODES_PER_PAGE)
        current.append(root)
        used += size
    if current:
        pages.append(current)
    return pages
