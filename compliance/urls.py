from django.urls import path

from compliance.views import documents, profiles, standards

app_name = "compliance"

urlpatterns = [
    path("", profiles.RegisterView.as_view(), name="register"),
    path("iso-42001/", standards.StatementView.as_view(), name="soa"),
    path("iso-42001/export.<str:file_format>", standards.StatementExportView.as_view(), name="soa_export"),
    path("iso-42001/<str:control_id>/", standards.ControlView.as_view(), name="control"),
    path("iso-42001/<str:control_id>/evidence/", standards.EvidenceAddView.as_view(), name="evidence_add"),
    path(
        "iso-42001/<str:control_id>/evidence/<int:pk>/remove/",
        standards.EvidenceRemoveView.as_view(),
        name="evidence_remove",
    ),
    path("nist-ai-rmf/", standards.CrosswalkView.as_view(), name="crosswalk"),
    path("nist-ai-rmf/<str:key>/", standards.SubcategoryView.as_view(), name="subcategory"),
    path("features/<slug:slug>/", profiles.FeatureComplianceView.as_view(), name="profile"),
    path("features/<slug:slug>/panel/", profiles.PanelView.as_view(), name="panel"),
    path("features/<slug:slug>/profile/", profiles.ProfileEditView.as_view(), name="profile_edit"),
    path("features/<slug:slug>/profile/confirm/", profiles.ProfileConfirmView.as_view(), name="profile_confirm"),
    path("features/<slug:slug>/technical-file/", profiles.TechnicalFileView.as_view(), name="technical_file"),
    path("features/<slug:slug>/documents/<str:kind>/", documents.DocumentView.as_view(), name="document"),
    path(
        "features/<slug:slug>/documents/<str:kind>/r<int:number>/",
        documents.RevisionView.as_view(),
        name="revision",
    ),
    path(
        "features/<slug:slug>/documents/<str:kind>/r<int:number>/submit/",
        documents.RevisionSubmitView.as_view(),
        name="revision_submit",
    ),
    path(
        "features/<slug:slug>/documents/<str:kind>/r<int:number>/review/",
        documents.RevisionReviewView.as_view(),
        name="revision_review",
    ),
]
