from django.urls import path

from drills import views

app_name = "drills"

urlpatterns = [
    path("", views.DrillRunListView.as_view(), name="run_list"),
    path("new/", views.DrillCreateView.as_view(), name="run_create"),
    path("<int:pk>/", views.DrillRunDetailView.as_view(), name="run_detail"),
    path("impact/<str:kind>/<str:key>/", views.ImpactView.as_view(), name="impact"),
]
