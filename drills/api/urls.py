from django.urls import path
from rest_framework.routers import SimpleRouter

from drills.api import views

router = SimpleRouter()
router.register("drills", views.DrillRunViewSet, basename="drill")

app_name = "drills-api"
urlpatterns = [
    *router.urls,
    path("impact/<str:kind>/<str:key>/", views.ImpactView.as_view(), name="impact"),
]
