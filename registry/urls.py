from django.urls import path

from registry.views import audit, catalog, deployments, features, grants, tokens

app_name = "registry"

urlpatterns = [
    path("", features.HomeView.as_view(), name="home"),
    path("features/", features.FeatureListView.as_view(), name="feature_list"),
    path("features/new/", features.FeatureCreateView.as_view(), name="feature_create"),
    path("features/<slug:slug>/", features.FeatureDetailView.as_view(), name="feature_detail"),
    path("features/<slug:slug>/edit/", features.FeatureEditView.as_view(), name="feature_edit"),
    path(
        "features/<slug:slug>/changes/<int:pk>/approve/",
        features.FeatureChangeDecideView.as_view(decision="approve"),
        name="feature_change_approve",
    ),
    path(
        "features/<slug:slug>/changes/<int:pk>/reject/",
        features.FeatureChangeDecideView.as_view(decision="reject"),
        name="feature_change_reject",
    ),
    path("features/<slug:slug>/diff/", features.VersionDiffView.as_view(), name="version_diff"),
    path("features/<slug:slug>/versions/new/", features.VersionCreateView.as_view(), name="version_create"),
    path("features/<slug:slug>/versions/<int:number>/", features.VersionDetailView.as_view(), name="version_detail"),
    path("features/<slug:slug>/versions/<int:number>/edit/", features.VersionEditView.as_view(), name="version_edit"),
    path(
        "features/<slug:slug>/versions/<int:number>/submit/",
        features.VersionSubmitView.as_view(),
        name="version_submit",
    ),
    path(
        "features/<slug:slug>/versions/<int:number>/evaluations/new/",
        features.EvaluationCreateView.as_view(),
        name="evaluation_create",
    ),
    path("features/<slug:slug>/reviewers/new/", grants.ReviewerGrantCreateView.as_view(), name="reviewer_grant_create"),
    path(
        "features/<slug:slug>/reviewers/<int:pk>/revoke/",
        grants.ReviewerGrantRevokeView.as_view(),
        name="reviewer_grant_revoke",
    ),
    path("catalog/vendors/", catalog.VendorListView.as_view(), name="vendor_list"),
    path("catalog/vendors/new/", catalog.VendorCreateView.as_view(), name="vendor_create"),
    path("catalog/vendors/<slug:slug>/", catalog.VendorDetailView.as_view(), name="vendor_detail"),
    path("catalog/models/", catalog.CatalogModelListView.as_view(), name="model_list"),
    path("catalog/models/new/", catalog.CatalogModelCreateView.as_view(), name="model_create"),
    path("catalog/models/<int:pk>/", catalog.CatalogModelDetailView.as_view(), name="model_detail"),
    path("catalog/prompts/", catalog.PromptListView.as_view(), name="prompt_list"),
    path("catalog/prompts/new/", catalog.PromptCreateView.as_view(), name="prompt_create"),
    path("catalog/prompts/<int:pk>/", catalog.PromptDetailView.as_view(), name="prompt_detail"),
    path("catalog/policies/", catalog.PolicyPackListView.as_view(), name="policy_list"),
    path("catalog/policies/new/", catalog.PolicyPackCreateView.as_view(), name="policy_create"),
    path("catalog/policies/<int:pk>/", catalog.PolicyPackDetailView.as_view(), name="policy_detail"),
    path("catalog/datasets/", catalog.DatasetListView.as_view(), name="dataset_list"),
    path("catalog/datasets/new/", catalog.DatasetCreateView.as_view(), name="dataset_create"),
    path("catalog/datasets/<int:pk>/", catalog.DatasetDetailView.as_view(), name="dataset_detail"),
    path(
        "features/<slug:slug>/live/<slug:environment>/<slug:region>/rollback/",
        deployments.RollbackView.as_view(),
        name="rollback",
    ),
    path(
        "features/<slug:slug>/live/<slug:environment>/<slug:region>/withdraw/",
        deployments.WithdrawView.as_view(),
        name="withdraw",
    ),
    path("live-at/", deployments.LiveAtView.as_view(), name="live_at"),
    path("suggest/features/", deployments.FeatureSuggestionsView.as_view(), name="feature_suggestions"),
    path("notifications/", deployments.NotificationListView.as_view(), name="notification_list"),
    path("audit/", audit.AuditEventListView.as_view(), name="audit_list"),
    path("audit/reads/", audit.ReadRecordListView.as_view(), name="read_list"),
    path("audit/download/", audit.AuditEventCsvView.as_view(), name="audit_download"),
    path("audit/verify/", audit.AuditVerifyView.as_view(), name="audit_verify"),
    path("audit/verify/<int:pk>/", audit.AuditVerifyRunView.as_view(), name="audit_verify_run"),
    path("tokens/", tokens.ApiTokenListView.as_view(), name="token_list"),
    path("tokens/<int:pk>/revoke/", tokens.ApiTokenRevokeView.as_view(), name="token_revoke"),
]
