"""The people and teams API (``/api/v1/people/``, ``/api/v1/teams/``): the same selectors and audited
services as the People and Teams pages, the same rules (``identity.permissions``).

Reads: people for governance admins and auditors; teams and their members for everyone signed in (why
each member is there only for governance and auditors). Writes: governance admins, with a token of the
``full`` scope (or a session); each takes a reason. Nobody grants themselves a role or a team (403
``separation_of_duties``); the last active governance admin keeps the role (400).

Revoking a role and removing a member are POSTs to ``roles/revoke/`` and ``members/remove/`` with a JSON
body: a reason is free text, which belongs in a body rather than in a URL (and so in access logs).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from core.api.idempotency import IdempotentPostMixin
from core.api.pagination import PAGE_PARAMETERS, PageNumberPagination
from identity import selectors
from identity.api import people_serializers as s
from identity.filters import PersonFilter, TeamFilter
from identity.permissions import can_manage_people, can_read_people
from registry import services
from registry.api.scopes import TokenScopePermission
from registry.models import Team


class PeopleAccess(permissions.BasePermission):
    """Reads: governance admins and auditors. Writes: governance admins."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            self.message = "Only governance admins and auditors see people."
            return can_read_people(request.user)
        self.message = "Only governance admins change people's roles and accounts."
        return can_manage_people(request.user)


class TeamAccess(permissions.BasePermission):
    """Reads: everyone signed in. Writes: governance admins."""

    message = "Only governance admins create and rename teams and change who is in them."

    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or can_manage_people(request.user)


def _person_named(username: str):
    found = get_user_model().objects.filter(username=username).first()
    if found is None:
        raise ValidationError({"username": [f"No one has the username “{username}”."]})
    return found


@extend_schema_view(
    list=extend_schema(summary="People, with their roles and teams and the source of each"),
    retrieve=extend_schema(summary="One person"),
)
class PersonViewSet(IdempotentPostMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Everyone with an account, active or not: roles and teams with the source holding each (granted in
    Gatehouse, the identity provider's mapping, SCIM), last sign-in, live sessions and API tokens."""

    serializer_class = s.PersonSerializer
    filterset_class = PersonFilter
    lookup_field = "username"
    lookup_value_regex = "[^/]+"
    permission_classes = [permissions.IsAuthenticated, TokenScopePermission, PeopleAccess]

    def get_queryset(self):
        return selectors.people()

    def get_object(self):
        """The person the URL names, whatever the query string says (a DELETE's input may be there)."""
        try:
            return selectors.person(self.kwargs["username"])
        except get_user_model().DoesNotExist:
            raise NotFound("No one has that username.") from None

    def _answer(self, person):
        return Response(s.PersonSerializer(selectors.person(person.get_username())).data)

    @extend_schema(
        methods=["POST"],
        summary="Grant a role",
        request=s.RoleChangeSerializer,
        responses={200: s.PersonSerializer},
        description="Grant ``role`` with a reason. Refused (403 ``separation_of_duties``) for yourself.",
    )
    @action(detail=True, methods=["post"])
    def roles(self, request, username=None):
        person = self.get_object()
        data = self._input(s.RoleChangeSerializer)
        services.role_grant(actor=request.user, user=person, role=data["role"], reason=data["reason"])
        return self._answer(person)

    @extend_schema(
        summary="Revoke a role",
        request=s.RoleChangeSerializer,
        responses={200: s.PersonSerializer},
        description="Revoke ``role`` with a reason: every source at once; the signer's approvals on requests "
        "still open that needed the role are withdrawn, audited. Revoking a role the person does not hold "
        "changes nothing.",
    )
    @action(detail=True, methods=["post"], url_path="roles/revoke", url_name="roles-revoke")
    def roles_revoke(self, request, username=None):
        person = self.get_object()
        data = self._input(s.RoleChangeSerializer)
        services.role_revoke(actor=request.user, user=person, role=data["role"], reason=data["reason"])
        return self._answer(person)

    @extend_schema(
        summary="Deactivate a person",
        request=s.AccountChangeSerializer,
        responses={200: s.PersonSerializer},
        description="They can no longer sign in; their sessions end and their API tokens are revoked at once. "
        "Their roles and teams stay, for a reactivation.",
    )
    @action(detail=True, methods=["post"])
    def deactivate(self, request, username=None):
        person = self.get_object()
        data = self._input(s.AccountChangeSerializer)
        services.person_deactivate(actor=request.user, user=person, reason=data["reason"])
        return self._answer(person)

    @extend_schema(
        summary="Reactivate a person",
        request=s.AccountChangeSerializer,
        responses={200: s.PersonSerializer},
        description="They can sign in again; their tokens stay revoked.",
    )
    @action(detail=True, methods=["post"])
    def reactivate(self, request, username=None):
        person = self.get_object()
        data = self._input(s.AccountChangeSerializer)
        services.person_reactivate(actor=request.user, user=person, reason=data["reason"])
        return self._answer(person)

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


@extend_schema_view(
    list=extend_schema(summary="Teams, with how many active members each has"),
    retrieve=extend_schema(summary="One team"),
    create=extend_schema(summary="Create a team", request=s.TeamCreateSerializer, responses={201: s.TeamSerializer}),
    partial_update=extend_schema(
        summary="Rename a team or change its description",
        request=s.TeamUpdateSerializer,
        responses={200: s.TeamSerializer},
    ),
)
class TeamViewSet(
    IdempotentPostMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Teams own features; their members may change them. Listed for everyone signed in."""

    serializer_class = s.TeamSerializer
    filterset_class = TeamFilter
    lookup_field = "slug"
    http_method_names = ["get", "post", "patch", "head", "options"]
    permission_classes = [permissions.IsAuthenticated, TokenScopePermission, TeamAccess]

    def get_queryset(self):
        return selectors.teams()

    def get_object(self):
        """The team the URL names, whatever the query string says (a DELETE's input may be there)."""
        try:
            return selectors.team(self.kwargs["slug"])
        except Team.DoesNotExist:
            raise NotFound("No such team.") from None

    def create(self, request, *args, **kwargs):
        serializer = s.TeamCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        team = services.team_create(actor=request.user, **serializer.validated_data)
        return Response(s.TeamSerializer(selectors.team(team.slug)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        team = self.get_object()
        serializer = s.TeamUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.team_update(
            actor=request.user,
            team=team,
            name=data.get("name", team.name),
            description=data.get("description", team.description),
            reason=data.get("reason", ""),
        )
        return Response(s.TeamSerializer(selectors.team(team.slug)).data)

    @extend_schema(
        methods=["GET"],
        summary="A team's members",
        parameters=PAGE_PARAMETERS,
        responses={200: s.MemberPageSerializer},
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a member",
        request=s.MemberChangeSerializer,
        responses={200: s.MemberSerializer},
        description="Put an active person in the team, with a reason. Refused (403 ``separation_of_duties``) "
        "for yourself.",
    )
    @action(detail=True, methods=["get", "post"], filterset_class=None, pagination_class=None)
    def members(self, request, slug=None):
        team = self.get_object()
        context = {"team": team, "show_sources": can_read_people(request.user), "request": request}
        if request.method == "GET":
            paginator = PageNumberPagination()
            page = paginator.paginate_queryset(selectors.team_members(team), request, view=self)
            return Response(s.MemberPageSerializer(page, context={**context, "paginator": paginator}).data)
        serializer = s.MemberChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        person = _person_named(serializer.validated_data["username"])
        services.team_member_add(actor=request.user, team=team, user=person, reason=serializer.validated_data["reason"])
        member = selectors.team_member(team, person.get_username())
        return Response(s.MemberSerializer(member, context=context).data)

    @extend_schema(
        summary="Remove a member",
        request=s.MemberChangeSerializer,
        responses={204: OpenApiResponse(description="They are not in the team (any more).")},
        description="Take a person out of the team, with a reason: every source at once (the identity provider "
        "puts them back at its next sign-in or sync if it still says so).",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="members/remove",
        url_name="members-remove",
        filterset_class=None,
        pagination_class=None,
    )
    def members_remove(self, request, slug=None):
        team = self.get_object()
        serializer = s.MemberChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        person = _person_named(serializer.validated_data["username"])
        services.team_member_remove(
            actor=request.user, team=team, user=person, reason=serializer.validated_data["reason"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
