from django.urls import path

from compliance.api import standards, views

app_name = "compliance-api"

urlpatterns = [
    path("compliance/iso-42001/controls/", standards.ControlListView.as_view(), name="control-list"),
    path("compliance/iso-42001/controls/<str:control_id>/", standards.ControlView.as_view(), name="control"),
    path(
        "compliance/iso-42001/controls/<str:control_id>/evidence/",
        standards.ControlEvidenceView.as_view(),
        name="control-evidence",
    ),
    path(
        "compliance/iso-42001/controls/<str:control_id>/evidence/<int:pk>/",
        standards.ControlEvidenceDetailView.as_view(),
        name="control-evidence-detail",
    ),
    path("compliance/iso-42001/export/", standards.StatementExportView.as_view(), name="soa-export"),
    path("compliance/nist-ai-rmf/subcategories/", standards.SubcategoryListView.as_view(), name="subcategory-list"),
    path("compliance/nist-ai-rmf/subcategories/<str:key>/", standards.SubcategoryView.as_view(), name="subcategory"),
    path("features/<slug:slug>/regulatory-profile/", views.ProfileView.as_view(), name="profile"),
    path(
        "features/<slug:slug>/regulatory-profile/confirm/", views.ProfileConfirmView.as_view(), name="profile-confirm"
    ),
    path("features/<slug:slug>/technical-file/", views.TechnicalFileView.as_view(), name="technical-file"),
    path("features/<slug:slug>/compliance-documents/", views.DocumentListView.as_view(), name="documents"),
    path(
        "features/<slug:slug>/compliance-documents/<str:kind>/revisions/",
        views.DraftView.as_view(),
        name="document-draft",
    ),
    path(
        "features/<slug:slug>/compliance-documents/<str:kind>/revisions/<int:number>/",
        views.RevisionView.as_view(),
        name="revision",
    ),
    path(
        "features/<slug:slug>/compliance-documents/<str:kind>/revisions/<int:number>/submit/",
        views.RevisionSubmitView.as_view(),
        name="revision-submit",
    ),
    path(
        "features/<slug:slug>/compliance-documents/<str:kind>/revisions/<int:number>/review/",
        views.RevisionReviewView.as_view(),
        name="revision-review",
    ),
]
