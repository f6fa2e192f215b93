from django.urls import path

from readiness.api import views

app_name = "readiness-api"
urlpatterns = [
    path("readiness/", views.InventoryView.as_view(), name="inventory"),
    path("readiness/history/", views.InventoryHistoryView.as_view(), name="history"),
    path("readiness/features/<slug:slug>/", views.FeatureReadinessView.as_view(), name="feature"),
    path("readiness/features/<slug:slug>/history/", views.FeatureHistoryView.as_view(), name="feature-history"),
]
