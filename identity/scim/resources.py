"""The SCIM view of people and groups: what Gatehouse keeps of them, as `scim2-models` resources.

The resources below declare only the attributes Gatehouse keeps, so the schemas published at
``/Schemas`` (made from them) tell an identity provider exactly what it can rely on. Anything else a
provider sends (phone numbers, the enterprise extension, a password) is accepted and dropped
(``POLICY``), as providers send what their mapping holds whatever the service provider says.

A person: ``userName`` is the account's username, ``name.givenName``/``name.familyName`` its first and
last name, the primary email (or the first) its email address, ``active`` whether it may sign in; the
formatted name, the display name and the whole list of emails are kept as given
(``ScimUser.attributes``). A group: its ``displayName`` is what ``GroupMapping.group_name`` names, and
its members are people (groups of groups are refused).
"""

import uuid
from typing import Annotated, Any, ClassVar

from django.db.models import Q
from pydantic import Field
from scim2_models import (
    URN,
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    ComplexAttribute,
    Context,
    ETag,
    ExtensibleStringEnum,
    Filter,
    InvalidFilterException,
    Meta,
    Mutability,
    Pagination,
    Patch,
    Reference,
    Required,
    Resource,
    ResourceType,
    ScimPolicy,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
)
from scim2_models.path.expressions import (
    AttrPath,
    CompareOperator,
    Comparison,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
)

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
DEFAULT_COUNT = 100
MAX_RESULTS = 200

# What Gatehouse tolerates from identity providers: attributes it does not keep are dropped; a PATCH
# "remove" with a value selects what to remove, and a path filter matching nothing adds the entry it
# describes (as Microsoft Entra ID sends them).
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)

# A person's SCIM id is derived from the account, so it is the same whenever the account is first shown.
_NAMESPACE = uuid.UUID("5b0c6f0e-2d7a-4f4e-9a61-6761746568f5")


def scim_id_for(user_pk: int) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"user:{user_pk}")


# --- The resources ------------------------------------------------------------------------------------


class Name(ComplexAttribute):
    formatted: str | None = None
    """The full name, as the identity provider formats it."""

    family_name: str | None = None
    """The family name: the account's last name."""

    given_name: str | None = None
    """The given name: the account's first name."""


class Email(ComplexAttribute):
    class Type(ExtensibleStringEnum):
        work = "work"
        home = "home"
        other = "other"

    value: str | None = None
    """An email address; the primary one (or the first) is the account's."""

    type: Type | None = None
    """What the address is for, e.g. 'work'."""

    primary: bool | None = None
    """Whether this is the person's preferred address."""


class User(Resource[Any]):
    __schema__ = URN(USER_SCHEMA)

    user_name: Annotated[str | None, Required.true, Uniqueness.server] = None
    """The username people sign in with; unique, whatever its case."""

    name: Name | None = None
    """The components of the person's name."""

    display_name: str | None = None
    """The name to show for the person."""

    active: bool | None = None
    """Whether the person may sign in. False deactivates the account: its sessions end and its API tokens
    are revoked at once."""

    emails: list[Email] | None = None
    """The person's email addresses."""

    Name: ClassVar[type[ComplexAttribute]] = Name
    Emails: ClassVar[type[ComplexAttribute]] = Email


class GroupMember(ComplexAttribute):
    value: Annotated[str | None, Mutability.immutable, CaseExact.true] = None
    """The id of the member, a person."""

    ref: Annotated[Reference["User"] | None, Mutability.immutable] = Field(
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    """The URI of the member."""

    type: Annotated[str | None, Mutability.immutable] = Field(None, examples=["User"])
    """The type of the member: always 'User'."""


class Group(Resource[Any]):
    __schema__ = URN(GROUP_SCHEMA)

    display_name: Annotated[str | None, Required.true] = None
    """The group's name: a group mapping with this name gives its members a role or a team."""

    members: list[GroupMember] | None = None
    """The people in the group."""

    Members: ClassVar[type[ComplexAttribute]] = GroupMember


RESOURCES: dict[str, type[Resource[Any]]] = {"User": User, "Group": Group}


# --- Discovery (RFC 7644 §4) --------------------------------------------------------------------------


def service_provider_config(base: str) -> ServiceProviderConfig:
    return ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        pagination=Pagination(cursor=False, index=True, default_page_size=DEFAULT_COUNT, max_page_size=MAX_RESULTS),
        authentication_schemes=[
            AuthenticationScheme(
                type=AuthenticationScheme.Type.oauthbearertoken,
                name="Gatehouse API token",
                description="An API token with the SCIM provisioning scope, made by a governance admin on the API "
                "tokens page, sent as 'Authorization: Bearer <token>'.",
                primary=True,
            )
        ],
        meta=Meta(resource_type="ServiceProviderConfig", location=f"{base}ServiceProviderConfig"),
    )


def resource_types(base: str) -> list[ResourceType]:
    found = []
    for name, model in RESOURCES.items():
        resource_type = ResourceType.from_resource(model)
        resource_type.description = "People" if name == "User" else "Groups of the identity provider"
        resource_type.meta = Meta(resource_type="ResourceType", location=f"{base}ResourceTypes/{name}")
        found.append(resource_type)
    return found


def schemas(base: str) -> list:
    found = []
    for model in RESOURCES.values():
        schema = model.to_schema()
        schema.meta = Meta(resource_type="Schema", location=f"{base}Schemas/{schema.id}")
        found.append(schema)
    return found


def dump(resource, response_parameters=None) -> dict:
    """A resource (or a list response) as it is sent."""
    return resource.model_dump(
        scim_ctx=Context.RESOURCE_QUERY_RESPONSE, response_parameters=response_parameters, scim_policy=POLICY
    )


# --- Accounts and groups as resources -----------------------------------------------------------------


def user_resource(user, link, base: str) -> User:
    """``user`` (an account) as SCIM shows it; ``link`` is its ``ScimUser``."""
    attributes = link.attributes or {}
    name = Name(
        formatted=attributes.get("formatted") or None,
        family_name=user.last_name or None,
        given_name=user.first_name or None,
    )
    if "emails" in attributes:
        emails = [Email.model_validate(entry, scim_policy=POLICY) for entry in attributes["emails"]]
    else:
        emails = [Email(value=user.email, primary=True)] if user.email else []
    scim_id = str(link.scim_id)
    return User(
        id=scim_id,
        external_id=link.external_id or None,
        user_name=user.get_username(),
        name=name if name.model_dump(exclude_none=True) else None,
        display_name=attributes.get("displayName") or None,
        active=user.is_active,
        emails=emails or None,
        meta=Meta(
            resource_type="User",
            created=user.date_joined,
            last_modified=max(user.date_joined, link.updated_at),
            location=f"{base}Users/{scim_id}",
        ),
    )


def group_resource(group, member_ids, base: str) -> Group:
    """``group`` (a ``ScimGroup``) as SCIM shows it; ``member_ids`` are its members' SCIM ids."""
    scim_id = str(group.scim_id)
    return Group(
        id=scim_id,
        external_id=group.external_id or None,
        display_name=group.display_name,
        members=[GroupMember(value=str(member), ref=f"{base}Users/{member}", type="User") for member in member_ids]
        or None,
        meta=Meta(
            resource_type="Group",
            created=group.created_at,
            last_modified=group.updated_at,
            location=f"{base}Groups/{scim_id}",
        ),
    )


def person_fields(resource: User) -> dict:
    """What a User resource asks of the account, as ``identity.scim.services`` takes it."""
    emails = [entry.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE) for entry in resource.emails or []]
    emails = [entry for entry in emails if entry]
    primary = next((entry for entry in emails if entry.get("primary")), emails[0] if emails else {})
    name = resource.name or Name()
    attributes: dict[str, Any] = {"emails": emails}
    if name.formatted:
        attributes["formatted"] = name.formatted
    if resource.display_name:
        attributes["displayName"] = resource.display_name
    return {
        "user_name": resource.user_name or "",
        "given_name": name.given_name or "",
        "family_name": name.family_name or "",
        "email": primary.get("value") or "",
        "active": resource.active,
        "external_id": resource.external_id or "",
        "attributes": attributes,
    }


def group_fields(resource: Group) -> dict:
    """What a Group resource asks: its name, external id and the SCIM ids of its members."""
    member_ids = []
    for member in resource.members or []:
        if (member.type or "User").lower() != "user":
            raise InvalidValue(f"Groups hold people, not {member.type!r}: Gatehouse does not nest groups.")
        if not member.value:
            raise InvalidValue("Name each member by its id ('value').")
        member_ids.append(member.value)
    return {
        "display_name": resource.display_name or "",
        "external_id": resource.external_id or "",
        "member_ids": member_ids,
    }


class InvalidValue(Exception):
    """A value Gatehouse cannot take; the view answers 400 invalidValue with the message."""


# --- Filters (RFC 7644 §3.4.2.2) as queries ------------------------------------------------------------

_TEXT, _EXACT, _ID, _BOOL = "text", "exact", "id", "bool"

USER_FILTERS = {
    ("username", None): ("username", _TEXT),
    ("externalid", None): ("scim__external_id", _EXACT),
    ("id", None): ("scim__scim_id", _ID),
    ("emails", None): ("email", _TEXT),
    ("emails", "value"): ("email", _TEXT),
    ("name", "givenname"): ("first_name", _TEXT),
    ("name", "familyname"): ("last_name", _TEXT),
    ("displayname", None): ("scim__attributes__displayName", _TEXT),
    ("active", None): ("is_active", _BOOL),
}
GROUP_FILTERS = {
    ("displayname", None): ("display_name", _TEXT),
    ("externalid", None): ("external_id", _EXACT),
    ("id", None): ("scim_id", _ID),
    ("members", None): ("members__scim__scim_id", _ID),
    ("members", "value"): ("members__scim__scim_id", _ID),
}
_LOOKUPS = {
    CompareOperator.eq: "exact",
    CompareOperator.co: "contains",
    CompareOperator.sw: "startswith",
    CompareOperator.ew: "endswith",
    CompareOperator.gt: "gt",
    CompareOperator.ge: "gte",
    CompareOperator.lt: "lt",
    CompareOperator.le: "lte",
}


def filter_query(node, fields: dict, schema: str) -> Q:
    """A parsed filter (``ScimFilter.ast``) as a query over the attributes in ``fields``.

    Raises ``InvalidFilterException`` (400 invalidFilter) for what Gatehouse does not filter on."""
    if isinstance(node, LogicalExpr):
        queries = [filter_query(term, fields, schema) for term in node.terms]
        combined = queries[0]
        for query in queries[1:]:
            combined = combined & query if node.op == LogicalOperator.and_ else combined | query
        return combined
    if isinstance(node, Not):
        return ~filter_query(node.expr, fields, schema)
    if isinstance(node, Present):
        field, kind = _field(node.attr_path, fields, schema)
        present = Q(**{f"{field}__isnull": False})
        return present if kind in (_BOOL, _ID) else present & ~Q(**{field: ""})
    if isinstance(node, Comparison):
        return _comparison(node, fields, schema)
    raise InvalidFilterException(detail=f"Gatehouse does not filter with {node}.")


def _field(attr_path: AttrPath, fields: dict, schema: str) -> tuple[str, str]:
    if attr_path.uri and attr_path.uri.lower() != schema.lower():
        raise InvalidFilterException(detail=f"Gatehouse does not filter on {attr_path}.")
    key = (attr_path.attr.lower(), attr_path.sub_attr.lower() if attr_path.sub_attr else None)
    if key not in fields:
        names = sorted({f"{attr}.{sub}" if sub else attr for attr, sub in fields})
        raise InvalidFilterException(detail=f"Gatehouse filters on {', '.join(names)}; not on {attr_path}.")
    return fields[key]


def _comparison(node: Comparison, fields: dict, schema: str) -> Q:
    field, kind = _field(node.attr_path, fields, schema)
    value, op = node.value, node.op
    if kind == _BOOL:
        if not isinstance(value, bool) or op not in (CompareOperator.eq, CompareOperator.ne):
            raise InvalidFilterException(detail=f"{node.attr_path} is true or false: compare it with eq or ne.")
        query = Q(**{field: value})
        return ~query if op == CompareOperator.ne else query
    if not isinstance(value, str):
        raise InvalidFilterException(detail=f"Compare {node.attr_path} with a string in double quotes.")
    if kind == _ID:
        if op not in (CompareOperator.eq, CompareOperator.ne):
            raise InvalidFilterException(detail=f"Compare {node.attr_path} with eq or ne.")
        try:
            query = Q(**{field: uuid.UUID(value)})
        except ValueError:
            query = Q(pk__in=[])  # no such id
        return ~query if op == CompareOperator.ne else query
    if op == CompareOperator.ne:
        lookup = "iexact" if kind == _TEXT else "exact"
        return ~Q(**{f"{field}__{lookup}": value})
    lookup = _LOOKUPS[op]
    if kind == _TEXT and lookup in ("exact", "contains", "startswith", "endswith"):
        lookup = "i" + lookup  # caseExact false
    return Q(**{f"{field}__{lookup}": value})
