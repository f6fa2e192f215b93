from django.urls import path

from readiness import views

app_name = "readiness"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("features/<slug:slug>/", views.FeatureReadinessView.as_view(), name="feature"),
    path("features/<slug:slug>/panel/", views.FeaturePanelView.as_view(), name="panel"),
]
