from django.urls import path

from connectors.api import views

app_name = "connectors-api"

urlpatterns = [
    path("mlflow/imports/", views.MlflowImportView.as_view(), name="mlflow-import"),
]
