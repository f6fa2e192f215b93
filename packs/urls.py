from django.urls import path

from packs import views

app_name = "packs"

urlpatterns = [
    path("", views.ExportListView.as_view(), name="export_list"),
    path("new/<slug:slug>/", views.ExportRequestView.as_view(), name="export_request"),
    path("new/<slug:slug>/v<int:number>/", views.ExportRequestView.as_view(), name="export_request_version"),
    path("panel/<slug:slug>/", views.PackPanelView.as_view(), name="panel"),
    path("<int:pk>/", views.ExportDetailView.as_view(), name="export_detail"),
    path("<int:pk>/download/", views.ExportDownloadView.as_view(), name="export_download"),
]
