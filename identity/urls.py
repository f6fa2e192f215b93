from django.urls import path

from identity.views import oidc

app_name = "identity"

urlpatterns: list = [
    # --- Single sign-on (OpenID Connect) and the group mappings ---
    path("oidc/authenticate/", oidc.OidcStartView.as_view(), name="oidc_start"),
    path("oidc/callback/", oidc.OidcCallbackView.as_view(), name="oidc_callback"),
    path("identity/group-mappings/", oidc.GroupMappingsView.as_view(), name="oidc_mappings"),
    path("identity/group-mappings/<int:pk>/delete/", oidc.GroupMappingDeleteView.as_view(), name="oidc_mapping_delete"),
]
