from django.urls import path

from routing import views

app_name = "routing"
urlpatterns = [
    path("decisions/", views.decision_lookup, name="decision_lookup"),
    path("decisions/export/<slug:slug>/", views.DecisionExportView.as_view(), name="decision_export"),
    path("routes/vendors/<slug:key>/", views.CatalogRoutesView.as_view(kind="vendor"), name="vendor_routes"),
    path("routes/models/<int:key>/", views.CatalogRoutesView.as_view(kind="model"), name="model_routes"),
    path(
        "routes/vendors/<slug:key>/<str:action>/",
        views.CatalogStatusView.as_view(),
        {"kind": "vendor"},
        name="vendor_status",
    ),
    path(
        "routes/models/<int:key>/<str:action>/",
        views.CatalogStatusView.as_view(),
        {"kind": "model"},
        name="model_status",
    ),
]
