"""SCIM 2.0 under ``/scim/v2/``: Users, Groups and the discovery endpoints (RFC 7644).

Only an API token with the ``scim`` scope, whose user is a governance admin, gets in: sessions and
tokens of other scopes are refused (``TokenScopePermission`` with ``token_scopes_exclusive``). Every
answer, errors included, is ``application/scim+json`` with a SCIM error body (RFC 7644 §3.12). The views
parse and answer; ``identity.scim.services`` makes every change.
"""

from __future__ import annotations

import json
import logging
import uuid

import pydantic
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse
from django.urls import reverse
from rest_framework import exceptions, permissions
from rest_framework.views import APIView
from scim2_models import (
    Context,
    Error,
    ListResponse,
    PatchOp,
    ResourceType,
    Schema,
    SCIMException,
    SearchRequest,
)

from core.api.parsers import BoundedJSONParser
from core.exceptions import Conflict
from identity.models import ScimGroup, ScimUser
from identity.scim import services
from identity.scim.resources import (
    GROUP_FILTERS,
    GROUP_SCHEMA,
    MAX_RESULTS,
    POLICY,
    USER_FILTERS,
    USER_SCHEMA,
    Group,
    InvalidValue,
    User,
    dump,
    filter_query,
    group_fields,
    group_resource,
    person_fields,
    resource_types,
    schemas,
    service_provider_config,
    user_resource,
)
from registry.api.scopes import SCIM, TokenScopePermission
from registry.permissions import is_governance

logger = logging.getLogger("identity.scim")

CONTENT_TYPE = "application/scim+json"


class ScimError(Exception):
    def __init__(self, status: int, detail: str, scim_type: str | None = None):
        super().__init__(detail)
        self.status, self.detail, self.scim_type = status, detail, scim_type


def scim_response(payload: dict | None, status: int = 200, location: str = "") -> HttpResponse:
    response = HttpResponse(
        json.dumps(payload) if payload is not None else b"", status=status, content_type=CONTENT_TYPE
    )
    if payload is None:
        del response["Content-Type"]
    if location:
        response["Location"] = location
    response["Cache-Control"] = "no-store"
    return response


def error_response(status: int, detail: str, scim_type: str | None = None, headers=None) -> HttpResponse:
    error = Error(status=status, scim_type=scim_type, detail=detail)
    response = scim_response(error.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _messages(error: DjangoValidationError) -> str:
    if hasattr(error, "message_dict"):
        return "; ".join(f"{key}: {' '.join(values)}" for key, values in error.message_dict.items())
    return " ".join(error.messages)


def _pydantic_error(error: pydantic.ValidationError) -> ScimError:
    found = Error.from_validation_errors(error)
    first = found[0] if found else Error(status=400, scim_type="invalidValue", detail=str(error))
    detail = "; ".join(item.detail or "" for item in found[:5]) or "The request is not valid SCIM."
    return ScimError(int(first.status or 400), detail, first.scim_type or "invalidValue")


class ScimJSONParser(BoundedJSONParser):
    media_type = "application/scim+json"


class GovernanceToken(permissions.BasePermission):
    """The token's user provisions people: they must be a governance admin."""

    def has_permission(self, request, view):
        if not is_governance(request.user):
            raise exceptions.PermissionDenied(
                "This SCIM token's user is not a governance admin: SCIM provisioning needs a token of a "
                "governance admin."
            )
        return True


class ScimView(APIView):
    """The base of every SCIM view: the token check, SCIM bodies in and out, SCIM errors."""

    permission_classes = [permissions.IsAuthenticated, TokenScopePermission, GovernanceToken]
    parser_classes = [ScimJSONParser, BoundedJSONParser]
    token_scopes_exclusive = True
    token_scopes = {method: {SCIM} for method in ("get", "post", "put", "patch", "delete")}
    schema = None  # not part of the REST API's OpenAPI document: SCIM has its own discovery

    def base(self) -> str:
        return self.request.build_absolute_uri(reverse("scim:not_found", kwargs={"rest": ""}))

    def body(self) -> dict:
        data = self.request.data
        if not isinstance(data, dict) or not data:
            raise ScimError(400, "Send a JSON object as the body (application/scim+json).", "invalidSyntax")
        return data

    def dispatch(self, request, *args, **kwargs):
        # One transaction per request: a PATCH's operations apply together or not at all (RFC 7644 §3.5.2).
        with transaction.atomic():
            return super().dispatch(request, *args, **kwargs)

    def handle_exception(self, exc):
        transaction.set_rollback(True)
        if isinstance(exc, ScimError):
            return error_response(exc.status, exc.detail, exc.scim_type)
        if isinstance(exc, SCIMException):
            return error_response(exc.status, exc.detail, exc.scim_type or None)
        if isinstance(exc, pydantic.ValidationError):
            error = _pydantic_error(exc)
            return error_response(error.status, error.detail, error.scim_type)
        if isinstance(exc, InvalidValue):
            return error_response(400, str(exc), "invalidValue")
        if isinstance(exc, DjangoValidationError):
            return error_response(400, _messages(exc), "invalidValue")
        if isinstance(exc, Conflict):
            return error_response(409, exc.message, "uniqueness")
        if isinstance(exc, IntegrityError):
            return error_response(409, "Another request changed the same thing at the same moment.", "uniqueness")
        if isinstance(exc, DjangoPermissionDenied):
            return error_response(403, str(exc) or "Not allowed.")
        if isinstance(exc, Http404):
            return error_response(404, str(exc) or "Not found.")
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            detail = str(exc.detail)
            if isinstance(exc, exceptions.NotAuthenticated):
                detail = "Send an API token with the SCIM provisioning scope as 'Authorization: Bearer <token>'."
            return error_response(401, detail, headers={"WWW-Authenticate": 'Bearer realm="scim"'})
        if isinstance(exc, RequestDataTooBig):
            return error_response(413, "The request body is too large.")
        if isinstance(exc, exceptions.ParseError):
            return error_response(400, str(exc.detail), "invalidSyntax")
        if isinstance(exc, exceptions.UnsupportedMediaType):
            return error_response(415, "Send the body as application/scim+json (or application/json).")
        if isinstance(exc, exceptions.APIException):
            return error_response(exc.status_code, str(exc.detail))
        raise exc

    def response_parameters(self, model, data=None) -> SearchRequest:
        """``filter``, ``startIndex``, ``count``, ``attributes`` and ``excludedAttributes``, checked."""
        if data is None:
            data = {
                key: self.request.query_params.get(key)
                for key in ("filter", "startIndex", "count", "attributes", "excludedAttributes", "sortBy", "sortOrder")
                if self.request.query_params.get(key) not in (None, "")
            }
        else:
            data = {key: value for key, value in data.items() if key != "schemas"}
        if "sortBy" in data or "sortOrder" in data:
            raise ScimError(400, "Gatehouse does not sort SCIM results: leave sortBy out.", "invalidValue")
        for key in ("startIndex", "count"):
            if key in data and not str(data[key]).lstrip("-").isdigit():
                raise ScimError(400, f"{key} is a whole number.", "invalidValue")
        return SearchRequest[model].model_validate(data, scim_ctx=Context.SEARCH_REQUEST, scim_policy=POLICY)

    def list_answer(self, queryset, search: SearchRequest, fields: dict, schema: str, render) -> HttpResponse:
        if search.filter is not None:
            queryset = queryset.filter(filter_query(search.filter.ast, fields, schema)).distinct()
        total = queryset.count()
        start = max(search.start_index or 1, 1)
        count = min(MAX_RESULTS if search.count is None else max(search.count, 0), MAX_RESULTS)
        page = list(queryset.order_by("pk")[start - 1 : start - 1 + count]) if count else []
        resources = render(page)
        answer = ListResponse[self.model](
            total_results=total, start_index=start, items_per_page=len(resources), resources=resources
        )
        return scim_response(dump(answer, search))

    def single_answer(self, resource, status: int = 200) -> HttpResponse:
        parameters = self.response_parameters(self.model)
        location = resource.meta.location if status == 201 else ""
        return scim_response(dump(resource, parameters), status=status, location=location)


# --- Users ------------------------------------------------------------------------------------------


def _visible_users():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(Q(scim__isnull=True) | Q(scim__deprovisioned_at__isnull=True))


class UsersMixin:
    model = User

    def render_users(self, users) -> list[User]:
        links = services.scim_links(users)
        return [user_resource(user, links[user.pk], self.base()) for user in users]

    def link(self) -> ScimUser:
        try:
            scim_id = uuid.UUID(self.kwargs["scim_id"])
        except ValueError:
            raise Http404("No person has this id.") from None
        link = ScimUser.objects.select_related("user").filter(scim_id=scim_id, deprovisioned_at__isnull=True).first()
        if link is None:
            raise Http404("No person has this id.")
        return link

    def answer_for(self, link, status: int = 200) -> HttpResponse:
        link = ScimUser.objects.select_related("user").get(pk=link.pk)
        return self.single_answer(user_resource(link.user, link, self.base()), status=status)


class UserListView(UsersMixin, ScimView):
    def get(self, request):
        search = self.response_parameters(User)
        return self.list_answer(_visible_users(), search, USER_FILTERS, USER_SCHEMA, self.render_users)

    def post(self, request):
        resource = User.model_validate(self.body(), scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_policy=POLICY)
        link = services.scim_user_create(actor=request.user, fields=person_fields(resource))
        return self.answer_for(link, status=201)


class UserSearchView(UsersMixin, ScimView):
    def post(self, request):
        search = self.response_parameters(User, self.body())
        return self.list_answer(_visible_users(), search, USER_FILTERS, USER_SCHEMA, self.render_users)


class UserDetailView(UsersMixin, ScimView):
    def get(self, request, scim_id):
        return self.answer_for(self.link())

    def put(self, request, scim_id):
        link = self.link()
        current = user_resource(link.user, link, self.base())
        replacement = User.model_validate(
            self.body(), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST, scim_policy=POLICY
        )
        replacement.replace(current)
        services.scim_user_update(actor=request.user, link=link, fields=person_fields(replacement))
        return self.answer_for(link)

    def patch(self, request, scim_id):
        link = self.link()
        patch = PatchOp[User].model_validate(self.body(), scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY)
        resource = user_resource(link.user, link, self.base())
        patch.patch(resource, scim_policy=POLICY)
        if resource.active is None:
            raise ScimError(
                400,
                "active cannot be removed: a person is either active or deactivated. Replace it with true or false.",
                "mutability",
            )
        services.scim_user_update(actor=request.user, link=link, fields=person_fields(resource))
        return self.answer_for(link)

    def delete(self, request, scim_id):
        services.scim_user_delete(actor=request.user, link=self.link())
        return scim_response(None, status=204)


# --- Groups -----------------------------------------------------------------------------------------


def _groups():
    from django.contrib.auth import get_user_model

    members = get_user_model().objects.select_related("scim").order_by("pk")
    return ScimGroup.objects.prefetch_related(Prefetch("members", queryset=members))


class GroupsMixin:
    model = Group

    def render_groups(self, groups) -> list[Group]:
        base = self.base()
        return [
            group_resource(group, [member.scim.scim_id for member in group.members.all()], base) for group in groups
        ]

    def group(self) -> ScimGroup:
        try:
            scim_id = uuid.UUID(self.kwargs["scim_id"])
        except ValueError:
            raise Http404("No group has this id.") from None
        group = _groups().filter(scim_id=scim_id).first()
        if group is None:
            raise Http404("No group has this id.")
        return group

    def answer_for(self, group, status: int = 200) -> HttpResponse:
        group = _groups().get(pk=group.pk)
        return self.single_answer(self.render_groups([group])[0], status=status)


class GroupListView(GroupsMixin, ScimView):
    def get(self, request):
        search = self.response_parameters(Group)
        return self.list_answer(_groups(), search, GROUP_FILTERS, GROUP_SCHEMA, self.render_groups)

    def post(self, request):
        resource = Group.model_validate(self.body(), scim_ctx=Context.RESOURCE_CREATION_REQUEST, scim_policy=POLICY)
        group = services.scim_group_create(actor=request.user, **group_fields(resource))
        return self.answer_for(group, status=201)


class GroupSearchView(GroupsMixin, ScimView):
    def post(self, request):
        search = self.response_parameters(Group, self.body())
        return self.list_answer(_groups(), search, GROUP_FILTERS, GROUP_SCHEMA, self.render_groups)


class GroupDetailView(GroupsMixin, ScimView):
    def get(self, request, scim_id):
        return self.answer_for(self.group())

    def put(self, request, scim_id):
        group = self.group()
        current = self.render_groups([group])[0]
        replacement = Group.model_validate(
            self.body(), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST, scim_policy=POLICY
        )
        replacement.replace(current)
        group = services.scim_group_update(actor=request.user, group=group, **group_fields(replacement))
        return self.answer_for(group)

    def patch(self, request, scim_id):
        group = self.group()
        patch = PatchOp[Group].model_validate(self.body(), scim_ctx=Context.RESOURCE_PATCH_REQUEST, scim_policy=POLICY)
        resource = self.render_groups([group])[0]
        patch.patch(resource, scim_policy=POLICY)
        group = services.scim_group_update(actor=request.user, group=group, **group_fields(resource))
        return self.answer_for(group)

    def delete(self, request, scim_id):
        services.scim_group_delete(actor=request.user, group=self.group())
        return scim_response(None, status=204)


# --- Discovery (RFC 7644 §4) ---------------------------------------------------------------------------


class ServiceProviderConfigView(ScimView):
    def get(self, request):
        return scim_response(dump(service_provider_config(self.base())))


class ResourceTypeListView(ScimView):
    def get(self, request):
        found = resource_types(self.base())
        return scim_response(
            dump(
                ListResponse[ResourceType](
                    total_results=len(found), start_index=1, items_per_page=len(found), resources=found
                )
            )
        )


class ResourceTypeDetailView(ScimView):
    def get(self, request, name):
        for resource_type in resource_types(self.base()):
            if resource_type.id == name:
                return scim_response(dump(resource_type))
        raise Http404(f"No resource type is named {name[:80]!r}: Gatehouse serves User and Group.")


class SchemaListView(ScimView):
    def get(self, request):
        found = schemas(self.base())
        return scim_response(
            dump(
                ListResponse[Schema](
                    total_results=len(found), start_index=1, items_per_page=len(found), resources=found
                )
            )
        )


class SchemaDetailView(ScimView):
    def get(self, request, schema_id):
        for schema in schemas(self.base()):
            if schema.id == schema_id:
                return scim_response(dump(schema))
        raise Http404(f"No schema has the id {schema_id[:120]!r}.")


class RootSearchView(ScimView):
    def post(self, request):
        raise ScimError(501, "Search one resource type at a time: POST /Users/.search or /Groups/.search.")


class NotFoundView(ScimView):
    """Any other address under /scim/v2/: a SCIM 404, once the token is checked."""

    def get(self, request, rest):
        raise Http404("Nothing is served at this address. Gatehouse serves /Users, /Groups and discovery.")

    post = put = patch = delete = get
