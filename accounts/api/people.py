"""People and teams over the API, and ``me``. Everyone signed in reads people (active and
deactivated) and teams; org admins invite, edit, deactivate and reactivate people and
create, rename and move teams — through the same services as the settings pages, so the
same rules hold (the last org admin keeps their role, no circular reporting lines …)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q
from django.urls import path
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions
from accounts.api.filters import IdFilter, StrictBooleanFilter
from accounts.api.serializers_people import (
    MeSerializer,
    TeamCreateSerializer,
    TeamSerializer,
    TeamUpdateSerializer,
    UserInviteSerializer,
    UserSerializer,
    UserUpdateSerializer,
    refuse_input,
)
from accounts.api.views import VisibleViewSet, api_router
from accounts.models import Team, User
from accounts.permissions import require
from accounts.selectors_settings import people_for_settings
from accounts.services import (
    team_add,
    team_move,
    team_rename,
    user_deactivate,
    user_invite,
    user_reactivate,
    user_update,
)

# --- users --------------------------------------------------------------------------------


class UserFilter(filters.FilterSet):
    team = IdFilter(field_name="team_id", help_text="Team id: its members (not its sub-teams').")
    role = filters.ChoiceFilter(choices=User.Role.choices)
    is_active = StrictBooleanFilter(help_text="false: deactivated people only.")
    manager = IdFilter(field_name="manager_id", help_text="Manager's user id: their direct reports.")
    q = filters.CharFilter(method="search", max_length=200, help_text="Part of the name or e-mail address.")

    class Meta:
        model = User
        fields = ["team", "role", "is_active", "manager", "q"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(full_name__icontains=value) | Q(email__icontains=value))


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, VisibleViewSet):
    """The organisation's people, deactivated ones included (``is_active``). Org admins
    invite people (they receive an e-mail to choose their password), change their name,
    role, team, manager and time zone, and deactivate or reactivate them. People are never
    deleted: a deactivated person keeps their OKRs and reviews but cannot sign in."""

    queryset = User.objects.none()
    serializer_class = UserSerializer
    filterset_class = UserFilter
    ordering_fields = ["id", "email", "full_name"]

    def visible_queryset(self, user):
        return people_for_settings()

    @extend_schema(request=UserInviteSerializer, responses={201: UserSerializer})
    def create(self, request):
        """Invite someone (org admins): they are created without a password and e-mailed a
        one-time link to choose it."""
        require(permissions.can_manage_people(request.user), _("Only org admins invite people."))
        data = UserInviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_invite(actor=request.user, **data.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=UserUpdateSerializer, responses=UserSerializer)
    def partial_update(self, request, pk=None):
        """Change a person's name, role, team, manager or time zone (org admins). Fields
        left out keep their value. The last active org admin cannot be demoted."""
        permissions.require(
            permissions.can_manage_people(request.user), _("Only org admins change people's roles and teams.")
        )
        person = self.get_object()
        data = UserUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = {
            "full_name": person.full_name,
            "role": person.role,
            "team": person.team,
            "manager": person.manager,
            "timezone": person.timezone,
            **data.validated_data,
        }
        person = user_update(actor=request.user, user=person, **values)
        return Response(UserSerializer(person).data)

    @extend_schema(request=None, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """Deactivate a person (org admins): they can no longer sign in or use their tokens;
        their OKRs and reviews stay. Nobody deactivates themselves or the last org admin."""
        permissions.require(
            permissions.can_manage_people(request.user), _("Only org admins deactivate people.")
        )
        person = self.get_object()
        refuse_input(request)
        return Response(UserSerializer(user_deactivate(actor=request.user, user=person)).data)

    @extend_schema(request=None, responses=UserSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        """Reactivate a deactivated person (org admins)."""
        permissions.require(
            permissions.can_manage_people(request.user), _("Only org admins reactivate people.")
        )
        person = self.get_object()
        refuse_input(request)
        return Response(UserSerializer(user_reactivate(actor=request.user, user=person)).data)


# --- teams --------------------------------------------------------------------------------


class TeamFilter(filters.FilterSet):
    parent = IdFilter(field_name="parent_id", help_text="Parent team id: its direct sub-teams.")
    top_level = StrictBooleanFilter(
        field_name="parent", lookup_expr="isnull", help_text="true: only teams at the top of the tree."
    )

    class Meta:
        model = Team
        fields = ["parent", "top_level"]


def _team_tree() -> dict[int, tuple[int | None, str]]:
    return {
        pk: (parent_id, name) for pk, parent_id, name in Team.objects.values_list("pk", "parent_id", "name")
    }


class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, VisibleViewSet):
    """The organisation's teams (a tree: ``parent`` is null at the top), with each team's
    path from the top and its number of active members. Org admins create teams, and rename
    or move them with PATCH."""

    queryset = Team.objects.none()
    serializer_class = TeamSerializer
    filterset_class = TeamFilter
    ordering_fields = ["id", "name"]

    def visible_queryset(self, user):
        return Team.objects.annotate(member_count=Count("members", filter=Q(members__is_active=True)))

    def get_serializer_context(self):
        tree: dict = {}

        def team_tree():
            # Read once per response, and only when a team is shown.
            if "teams" not in tree:
                tree["teams"] = _team_tree()
            return tree["teams"]

        return {**super().get_serializer_context(), "team_tree": team_tree}

    def _shown(self, team: Team) -> dict:
        return TeamSerializer(
            self.visible_queryset(self.request.user).get(pk=team.pk), context=self.get_serializer_context()
        ).data

    @extend_schema(request=TeamCreateSerializer, responses={201: TeamSerializer})
    def create(self, request):
        """Create a team under ``parent`` (org admins); sibling teams have different names."""
        require(permissions.can_manage_teams(request.user), _("Only org admins create teams."))
        data = TeamCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = team_add(actor=request.user, **data.validated_data)
        return Response(self._shown(team), status=status.HTTP_201_CREATED)

    @extend_schema(request=TeamUpdateSerializer, responses=TeamSerializer)
    def partial_update(self, request, pk=None):
        """Rename (``name``) and/or move (``parent``; null for the top level) a team (org
        admins). A team cannot move under itself or one of its sub-teams. Both changes
        happen, or neither."""
        permissions.require(
            permissions.can_manage_teams(request.user), _("Only org admins rename or move teams.")
        )
        team = self.get_object()
        data = TeamUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            if "name" in data.validated_data:
                team = team_rename(actor=request.user, team=team, name=data.validated_data["name"])
            if "parent" in data.validated_data:
                team = team_move(actor=request.user, team=team, parent=data.validated_data["parent"])
        return Response(self._shown(team))


# --- me -----------------------------------------------------------------------------------


class MeView(APIView):
    """The signed-in person, with the time zone and language the platform uses for them
    and, when the request carries an API token, that token (id, scope, expiry)."""

    @extend_schema(responses=MeSerializer, operation_id="me_retrieve")
    def get(self, request):
        return Response(MeSerializer(request.user, context={"request": request}).data)


router = api_router()
router.register("users", UserViewSet, basename="api-user")
router.register("teams", TeamViewSet, basename="api-team")
urlpatterns = [path("me/", MeView.as_view(), name="api-me"), *router.urls]
