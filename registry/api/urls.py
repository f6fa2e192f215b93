from django.urls import path
from rest_framework.routers import DefaultRouter

from registry.api import views

router = DefaultRouter()
router.register("features", views.FeatureViewSet, basename="feature")
router.register("feature-changes", views.FeatureChangeRequestViewSet, basename="feature-change")
router.register("versions", views.VersionViewSet, basename="version")
router.register("evaluations", views.EvaluationViewSet, basename="evaluation")
router.register("vendors", views.VendorViewSet, basename="vendor")
router.register("models", views.CatalogModelViewSet, basename="model")
router.register("prompts", views.PromptVersionViewSet, basename="prompt")
router.register("policy-packs", views.PolicyPackViewSet, basename="policy-pack")
router.register("datasets", views.DatasetViewSet, basename="dataset")
# /teams/ (list, create, rename, members) is the identity app's: identity/api/people.py
router.register("regions", views.RegionViewSet, basename="region")
router.register("deployments", views.DeploymentViewSet, basename="deployment")
router.register("deployment-events", views.DeploymentEventViewSet, basename="deployment-event")
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")
router.register("audit-verifications", views.AuditVerificationViewSet, basename="audit-verification")
router.register("read-records", views.ReadRecordViewSet, basename="read-record")
router.register("reviewer-grants", views.ReviewerGrantViewSet, basename="reviewer-grant")

app_name = "api"
urlpatterns = [path("live-at/", views.LiveAtView.as_view(), name="live-at"), *router.urls]
