"""Team paths in import files: “Product & Engineering / Platform”.

A path is a list of team names separated by “/”. It starts at the top of the tree, or at
any team whose name is unique in the organisation (so “Platform / SRE” works when there is
one team called Platform); a name used by several teams must be given with its path from
the top. Names match whatever the case and the spaces around “/”. A team whose own name
contains “/” (“R/D”) is still found: at each level the longest run of parts naming an
existing team wins. Whatever is left of the path after the deepest existing team is what
is missing (the people import creates it; the OKR import refuses it)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from accounts.models import Team

SEPARATOR = "/"
MAX_TEAM_NAME = 120


def _key(name: str) -> str:
    return SEPARATOR.join(part.strip() for part in name.lower().split(SEPARATOR))


def split_path(value: str) -> tuple[list[str] | None, str]:
    """(the names on the path, "") or (None, why the cell is not a path)."""
    parts = [part.strip() for part in value.split(SEPARATOR)]
    if any(not part for part in parts):
        return None, _("A team path has a name between each “/”, e.g. “Sales / EMEA”.")
    if any(len(part) > MAX_TEAM_NAME for part in parts):
        return None, _("Team names have at most %(n)d characters.") % {"n": MAX_TEAM_NAME}
    return parts, ""


def path_label(parts) -> str:
    return f" {SEPARATOR} ".join(parts)


@dataclass(frozen=True)
class Resolved:
    team: Team | None  # the deepest existing team on the path (None: none)
    missing: tuple[str, ...]  # the names below it that do not exist yet
    error: str = ""

    @property
    def complete(self) -> bool:
        return not self.error and not self.missing and self.team is not None


class TeamPaths:
    """The organisation's teams, loaded once (one query), for resolving paths."""

    def __init__(self, teams: list[Team] | None = None):
        teams = list(Team.objects.all()) if teams is None else teams
        self.by_id = {team.pk: team for team in teams}
        self.children: dict[int | None, dict[str, Team]] = {}
        self.by_name: dict[str, list[Team]] = {}
        for team in teams:
            self.children.setdefault(team.parent_id, {})[_key(team.name)] = team
            self.by_name.setdefault(_key(team.name), []).append(team)

    def label(self, team: Team | None) -> str:
        """The team's path from the top, e.g. “Leadership / Sales”."""
        names: list[str] = []
        seen: set[int] = set()
        while team is not None and team.pk not in seen:
            seen.add(team.pk)
            names.append(team.name)
            team = self.by_id.get(team.parent_id)
        return path_label(reversed(names))

    def _longest(self, siblings: dict[str, Team], parts: list[str], index: int) -> tuple[Team, int] | None:
        for end in range(len(parts), index, -1):
            team = siblings.get(_key(SEPARATOR.join(parts[index:end])))
            if team is not None:
                return team, end
        return None

    def resolve(self, parts: list[str]) -> Resolved:
        start = self._longest(self.children.get(None, {}), parts, 0)
        if start is None:
            for end in range(len(parts), 0, -1):
                anchors = self.by_name.get(_key(SEPARATOR.join(parts[:end])), [])
                if len(anchors) > 1:
                    labels = sorted(self.label(team) for team in anchors)
                    return Resolved(
                        None,
                        (),
                        _("Several teams are called “%(name)s”; write the path from the top: %(paths)s.")
                        % {"name": SEPARATOR.join(parts[:end]), "paths": "; ".join(labels)},
                    )
                if anchors:
                    start = anchors[0], end
                    break
        if start is None:
            return Resolved(None, tuple(parts))
        team, index = start
        while index < len(parts):
            below = self._longest(self.children.get(team.pk, {}), parts, index)
            if below is None:
                break
            team, index = below
        return Resolved(team, tuple(parts[index:]))
