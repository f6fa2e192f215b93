"""``/scim/v2/``: SCIM 2.0 provisioning. Token-only (``identity.api.scim``), so no sign-in page redirect."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path, re_path

from identity.api import scim

app_name = "scim"


def _view(view_class):
    return login_not_required(view_class.as_view())


urlpatterns = [
    path("ServiceProviderConfig", _view(scim.ServiceProviderConfigView), name="service_provider_config"),
    path("ResourceTypes", _view(scim.ResourceTypeListView), name="resource_types"),
    path("ResourceTypes/<str:name>", _view(scim.ResourceTypeDetailView), name="resource_type"),
    path("Schemas", _view(scim.SchemaListView), name="schemas"),
    path("Schemas/<str:schema_id>", _view(scim.SchemaDetailView), name="schema"),
    path("Users", _view(scim.UserListView), name="users"),
    path("Users/.search", _view(scim.UserSearchView), name="users_search"),
    path("Users/<str:scim_id>", _view(scim.UserDetailView), name="user"),
    path("Groups", _view(scim.GroupListView), name="groups"),
    path("Groups/.search", _view(scim.GroupSearchView), name="groups_search"),
    path("Groups/<str:scim_id>", _view(scim.GroupDetailView), name="group"),
    path(".search", _view(scim.RootSearchView), name="search"),
    re_path(r"^(?P<rest>.*)$", _view(scim.NotFoundView), name="not_found"),
]
