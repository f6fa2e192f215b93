from rest_framework.routers import SimpleRouter

from webhooks.api import views

router = SimpleRouter()
router.register("webhooks/subscriptions", views.SubscriptionViewSet, basename="subscription")
router.register("webhooks/deliveries", views.DeliveryViewSet, basename="delivery")

app_name = "webhooks-api"
urlpatterns = router.urls
