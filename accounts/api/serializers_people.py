"""Serializers of the people resources (users, teams, me, inbox): output shapes, and
input shapes that only check types — the services in ``accounts.services`` and
``accounts.inbox`` hold every rule."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.api.serializers import StrictInputSerializer
from accounts.models import ApiToken, InboxItem, Team, User

TEAM_PATH_SEPARATOR = " / "


class NoInputSerializer(StrictInputSerializer):
    """For actions that take no input: any field sent is refused rather than ignored."""


def refuse_input(request) -> None:
    """Raise a 400 naming each field sent to an action that takes none."""
    NoInputSerializer(data=request.data).is_valid(raise_exception=True)


# --- people ------------------------------------------------------------------------------


class UserSerializer(serializers.ModelSerializer):
    team = serializers.IntegerField(source="team_id", read_only=True, allow_null=True, help_text="Team id.")
    manager = serializers.IntegerField(
        source="manager_id", read_only=True, allow_null=True, help_text="The manager's user id."
    )
    timezone = serializers.CharField(
        read_only=True, help_text="The person's own time zone; empty means the organisation's."
    )
    language = serializers.CharField(
        read_only=True, help_text="The person's own language; empty means the organisation's."
    )
    is_active = serializers.BooleanField(read_only=True, help_text="False once deactivated (cannot sign in).")

    class Meta:
        model = User
        fields = [
            "id", "email", "full_name", "role", "team", "manager", "timezone", "language",
            "is_active", "date_joined",
        ]  # fmt: skip
        read_only_fields = fields


class UserInviteSerializer(StrictInputSerializer):
    email = serializers.EmailField(max_length=254)
    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(
        choices=User.Role.choices,
        required=False,
        default=User.Role.MEMBER,
        help_text="org_admin, manager, member or viewer (consultants are added by the platform team).",
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, default=None
    )
    manager = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.all(), required=False, allow_null=True, default=None,
        help_text="An active person's id.",
    )  # fmt: skip


class UserUpdateSerializer(StrictInputSerializer):
    """Every field is optional; what is left out keeps its current value."""

    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=User.Role.choices, required=False)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    manager = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    timezone = serializers.CharField(
        max_length=64, required=False, allow_blank=True,
        help_text="An IANA time zone such as Europe/Berlin; empty for the organisation's.",
    )  # fmt: skip


class ApiTokenSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "scope", "prefix", "expires_at"]
        read_only_fields = fields


class MeSerializer(UserSerializer):
    effective_timezone = serializers.SerializerMethodField(
        help_text="The time zone used for you: yours, else the organisation's."
    )
    effective_language = serializers.SerializerMethodField(
        help_text="The language used for you: yours, else the organisation's."
    )
    token = serializers.SerializerMethodField(
        help_text="The API token this request was authenticated with; null for a session."
    )

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "effective_timezone", "effective_language", "token"]
        read_only_fields = fields

    def _organization(self):
        return getattr(self.context["request"], "tenant", None)

    def get_effective_timezone(self, user: User) -> str:
        return user.timezone or getattr(self._organization(), "timezone", "") or "UTC"

    def get_effective_language(self, user: User) -> str:
        return user.language or getattr(self._organization(), "language", "") or "en"

    @extend_schema_field(ApiTokenSummarySerializer(allow_null=True))
    def get_token(self, user: User):
        token = self.context["request"].auth
        return ApiTokenSummarySerializer(token).data if isinstance(token, ApiToken) else None


# --- teams --------------------------------------------------------------------------------


class TeamSerializer(serializers.ModelSerializer):
    parent = serializers.IntegerField(
        source="parent_id", read_only=True, allow_null=True, help_text="Parent team id; null at the top."
    )
    path = serializers.SerializerMethodField(
        help_text=f"Names from the top of the tree, separated by “{TEAM_PATH_SEPARATOR}”."
    )
    member_count = serializers.IntegerField(read_only=True, help_text="Active members of this team itself.")

    class Meta:
        model = Team
        fields = ["id", "name", "parent", "path", "member_count", "created_at"]
        read_only_fields = fields

    def get_path(self, team: Team) -> str:
        """From the whole tree (one query per response, passed in as ``team_tree``)."""
        tree: dict[int, tuple[int | None, str]] = self.context["team_tree"]()
        names, seen, current = [], set(), team.pk
        while current is not None and current in tree and current not in seen:
            seen.add(current)
            parent_id, name = tree[current]
            names.append(name)
            current = parent_id
        return TEAM_PATH_SEPARATOR.join(reversed(names))


class TeamCreateSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=120)
    parent = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(), required=False, allow_null=True, default=None,
        help_text="The parent team's id; null or left out for a top-level team.",
    )  # fmt: skip


class TeamUpdateSerializer(StrictInputSerializer):
    """``name`` renames the team, ``parent`` moves it (null: to the top level)."""

    name = serializers.CharField(max_length=120, required=False)
    parent = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)


# --- inbox --------------------------------------------------------------------------------


def _safe_link(link: str) -> str:
    # As the inbox page: entries link to pages of this site only (a path), never elsewhere.
    return link if link.startswith("/") and not link.startswith("//") and "\\" not in link else ""


class InboxItemSerializer(serializers.ModelSerializer):
    link = serializers.SerializerMethodField(help_text="A path on this organisation's host, or empty.")
    unread = serializers.SerializerMethodField()

    class Meta:
        model = InboxItem
        fields = ["id", "kind", "title", "body", "link", "due_at", "created_at", "read_at", "unread"]
        read_only_fields = fields

    def get_link(self, item: InboxItem) -> str:
        return _safe_link(item.link)

    def get_unread(self, item: InboxItem) -> bool:
        return item.read_at is None


class MarkedReadSerializer(serializers.Serializer):
    marked_read = serializers.IntegerField(
        read_only=True, help_text="How many unread entries were marked read by this call."
    )
