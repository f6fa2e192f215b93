from rest_framework.routers import SimpleRouter

from freshness.api import views

router = SimpleRouter()
router.register("freshness/findings", views.FindingViewSet, basename="finding")
router.register("freshness/runs", views.SweepRunViewSet, basename="sweep-run")

app_name = "freshness-api"
urlpatterns = router.urls
