from django.urls import path

from routing import stream
from routing.api import views

app_name = "routing-api"
urlpatterns = [
    path("resolve/", views.ResolveView.as_view(), name="resolve"),
    path("routing/snapshot/", views.SnapshotView.as_view(), name="snapshot"),
    path("routing/stream/", stream.StreamView.as_view(), name="stream"),
    path("decisions/", views.DecisionRecordListView.as_view(), name="decision-records"),
    path("decisions/ledger/", views.LedgerView.as_view(), name="ledger"),
    path("decisions/<str:token>/", views.DecisionView.as_view(), name="decision"),
    path("features/<slug:slug>/decisions/export/", views.DecisionExportView.as_view(), name="decision-export"),
    path("vendors/<slug:key>/routes/", views.CatalogRoutesView.as_view(kind="vendor"), name="vendor-routes"),
    path(
        "vendors/<slug:key>/suspend/",
        views.CatalogStatusView.as_view(kind="vendor", action="suspend"),
        name="vendor-suspend",
    ),
    path(
        "vendors/<slug:key>/reinstate/",
        views.CatalogStatusView.as_view(kind="vendor", action="reinstate"),
        name="vendor-reinstate",
    ),
    path("models/<int:key>/routes/", views.CatalogRoutesView.as_view(kind="model"), name="model-routes"),
    path(
        "models/<int:key>/suspend/",
        views.CatalogStatusView.as_view(kind="model", action="suspend"),
        name="model-suspend",
    ),
    path(
        "models/<int:key>/reinstate/",
        views.CatalogStatusView.as_view(kind="model", action="reinstate"),
        name="model-reinstate",
    ),
]
