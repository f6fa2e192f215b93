from django.urls import path

from connectors import views

app_name = "connectors"

urlpatterns = [
    path("mlflow/", views.ServerListView.as_view(), name="server_list"),
    path("mlflow/new/", views.ServerCreateView.as_view(), name="server_create"),
    path("mlflow/<int:pk>/", views.ServerDetailView.as_view(), name="server_detail"),
    path("mlflow/<int:pk>/edit/", views.ServerEditView.as_view(), name="server_edit"),
    path("mlflow/<int:pk>/sync/", views.SyncNowView.as_view(), name="server_sync"),
    path("mlflow/<int:pk>/rotate-secret/", views.RotateSecretView.as_view(), name="server_rotate"),
    path("mlflow/<int:pk>/links/", views.LinkCreateView.as_view(), name="link_create"),
    path("mlflow/links/<int:pk>/delete/", views.LinkDeleteView.as_view(), name="link_delete"),
    path("mlflow/links/<int:pk>/mappings/", views.MappingSetView.as_view(), name="mapping_set"),
    path("mlflow/mappings/<int:pk>/delete/", views.MappingDeleteView.as_view(), name="mapping_delete"),
]
