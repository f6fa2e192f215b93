from rest_framework.routers import SimpleRouter

from identity.api import people
from identity.api.views import reviews

app_name = "identity-api"

urlpatterns: list = []

# --- People and teams (/api/v1/people/, /api/v1/teams/) ---------------------------------------------
people_router = SimpleRouter()
people_router.register("people", people.PersonViewSet, basename="person")
people_router.register("teams", people.TeamViewSet, basename="team")
urlpatterns += people_router.urls
# --- Access reviews ------------------------------------------------------------------------------
reviews_router = SimpleRouter()
reviews_router.register("access-reviews", reviews.AccessReviewViewSet, basename="access-review")
reviews_router.register("access-review-items", reviews.AccessReviewItemViewSet, basename="access-review-item")
urlpatterns += reviews_router.urls
