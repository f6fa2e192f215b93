from rest_framework.routers import SimpleRouter

from packs.api import views

router = SimpleRouter()
router.register("evidence-packs", views.PackExportViewSet, basename="evidence-pack")

app_name = "packs-api"
urlpatterns = router.urls
