from django.urls import path

from freshness import views

app_name = "freshness"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("findings/<int:pk>/", views.FindingDetailView.as_view(), name="finding_detail"),
    path("runs/", views.SweepRunListView.as_view(), name="run_list"),
    path("runs/new/", views.RunSweepView.as_view(), name="run_sweep"),
    path("plans/<slug:slug>/", views.PlanDetailView.as_view(), name="plan_detail"),
    path("plans/<slug:slug>/edit/", views.PlanEditView.as_view(), name="plan_edit"),
    path("plans/<slug:slug>/review/", views.PlanReviewView.as_view(), name="plan_review"),
]
