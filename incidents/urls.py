from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.IncidentListView.as_view(), name="incident_list"),
    path("new/", views.IncidentCreateView.as_view(), name="incident_create"),
    path("live-at/", views.LiveAtPreviewView.as_view(), name="live_at_preview"),
    path("<int:pk>/", views.IncidentDetailView.as_view(), name="incident_detail"),
    path("<int:pk>/comment/", views.CommentView.as_view(), name="comment"),
    path("<int:pk>/status/", views.TransitionView.as_view(), name="transition"),
    path("<int:pk>/owner/", views.AssignView.as_view(), name="assign"),
    path("<int:pk>/owner/suggestions/", views.OwnerSuggestionsView.as_view(), name="owner_suggestions"),
    path("<int:pk>/link/", views.LinkView.as_view(), name="link"),
    path("<int:pk>/serious/", views.SeriousView.as_view(), name="serious"),
    path("<int:pk>/rollback/", views.IncidentRollbackView.as_view(), name="rollback"),
    path("<int:pk>/report/", views.ReportView.as_view(), name="report"),
    path("<int:pk>/report/json/", views.ReportJsonView.as_view(), name="report_json"),
    path("<int:pk>/report/notes/", views.ReportNotesView.as_view(), name="report_notes"),
    path("<int:pk>/report/submissions/", views.SubmissionView.as_view(), name="report_submit"),
    path("<int:pk>/snapshots/", views.SnapshotTakeView.as_view(), name="snapshot_take"),
    path("<int:pk>/snapshots/<int:snapshot>/", views.SnapshotDetailView.as_view(), name="snapshot_detail"),
    path("<int:pk>/snapshots/<int:snapshot>/json/", views.SnapshotJsonView.as_view(), name="snapshot_json"),
]
