from django.urls import path

from compliance.api import views

app_name = "compliance-api"

urlpatterns = [
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
