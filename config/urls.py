from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from connectors.views import WebhookView as ConnectorWebhookView
from identity.views.oidc import SignOutView
from registry.urls_two_factor import passkey_patterns
from registry.views.auth import LoginView

urlpatterns = [
    path("", include("registry.urls")),
    path("approvals/", include("approvals.urls")),
    path("incidents/", include("incidents.urls")),
    path("freshness/", include("freshness.urls")),
    path("webhooks/", include("webhooks.urls")),
    path("readiness/", include("readiness.urls")),
    path("packs/", include("packs.urls")),
    path("", include("routing.urls")),
    path("drills/", include("drills.urls")),
    path("", include("identity.urls")),
    path("connectors/", include("connectors.urls")),
    path("compliance/", include("compliance.urls")),
    path("accounts/login/", LoginView.as_view(), name="login"),
    # Ends the Gatehouse session (and, after single sign-on, the identity provider's when it offers that).
    path("accounts/logout/", SignOutView.as_view(), name="logout"),
    path("", include("registry.urls_two_factor")),
    path("account/passkeys/", include(passkey_patterns)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("registry.api.urls", namespace="api")),
    path("api/v1/", include("approvals.api.urls", namespace="approvals-api")),
    path("api/v1/", include("incidents.api.urls", namespace="incidents-api")),
    path("api/v1/", include("freshness.api.urls", namespace="freshness-api")),
    path("api/v1/", include("webhooks.api.urls", namespace="webhooks-api")),
    path("api/v1/", include("readiness.api.urls", namespace="readiness-api")),
    path("api/v1/", include("packs.api.urls", namespace="packs-api")),
    path("api/v1/", include("routing.api.urls", namespace="routing-api")),
    path("api/v1/", include("drills.api.urls", namespace="drills-api")),
    path("api/v1/", include("identity.api.urls", namespace="identity-api")),
    path("api/v1/", include("connectors.api.urls", namespace="connectors-api")),
    path("api/v1/", include("compliance.api.urls", namespace="compliance-api")),
    # MLflow webhook deliveries: signed with the connector's secret (connectors.services.webhook_verify).
    path("api/v1/connectors/mlflow/<int:pk>/webhook/", ConnectorWebhookView.as_view(), name="connectors-webhook"),
    # SCIM 2.0 provisioning for the identity provider (identity.api.scim): an API token with the scim scope only.
    path("scim/v2/", include("identity.api.scim_urls", namespace="scim")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Its page rules in static/css/api-docs.css, not an inline style element (the policy refuses inline style).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
]

# Under /api/ even a URL no route matches, or a body Django refuses, answers JSON (core.api.exceptions).
handler400 = "core.api.exceptions.bad_request"
handler404 = "core.api.exceptions.not_found"
