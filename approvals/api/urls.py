from rest_framework.routers import SimpleRouter

from approvals.api import views

router = SimpleRouter()
router.register("approval-requests", views.ApprovalRequestViewSet, basename="approval-request")
router.register("queue", views.QueueViewSet, basename="queue")
router.register("signoffs", views.SignOffViewSet, basename="signoff")
router.register("gate-policies", views.GatePolicyViewSet, basename="gate-policy")

app_name = "approvals-api"
urlpatterns = router.urls
