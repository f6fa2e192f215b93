from rest_framework.routers import SimpleRouter

from identity.api.views import reviews

app_name = "identity-api"

urlpatterns: list = []

# --- Access reviews ------------------------------------------------------------------------------
reviews_router = SimpleRouter()
reviews_router.register("access-reviews", reviews.AccessReviewViewSet, basename="access-review")
reviews_router.register("access-review-items", reviews.AccessReviewItemViewSet, basename="access-review-item")
urlpatterns += reviews_router.urls
