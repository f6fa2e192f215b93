from django.urls import path
from rest_framework.routers import SimpleRouter

from freshness.api import views

router = SimpleRouter()
router.register("freshness/findings", views.FindingViewSet, basename="finding")
router.register("freshness/runs", views.SweepRunViewSet, basename="sweep-run")

app_name = "freshness-api"
urlpatterns = [
    path("features/<slug:slug>/monitoring-plan/", views.MonitoringPlanView.as_view(), name="monitoring-plan"),
    path(
        "features/<slug:slug>/monitoring-plan/review/",
        views.MonitoringReviewView.as_view(),
        name="monitoring-plan-review",
    ),
    *router.urls,
]
