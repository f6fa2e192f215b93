from django.urls import path
from rest_framework.routers import SimpleRouter

from incidents.api import views

router = SimpleRouter()
router.register("incidents", views.IncidentViewSet, basename="incident")

app_name = "incidents-api"
urlpatterns = [
    path("alerts/alertmanager/", views.AlertmanagerWebhookView.as_view(), name="alertmanager"),
    *router.urls,
]
