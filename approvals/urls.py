from django.urls import path

from approvals import views

app_name = "approvals"

urlpatterns = [
    path("queue/", views.QueueView.as_view(), name="queue"),
    path("requests/", views.RequestListView.as_view(), name="request_list"),
    path("requests/new/<slug:slug>/<int:number>/", views.GateRequestCreateView.as_view(), name="request_create"),
    path("requests/<int:pk>/", views.RequestDetailView.as_view(), name="request_detail"),
    path("requests/<int:pk>/promote/", views.PromoteView.as_view(), name="promote"),
    path("requests/<int:pk>/withdraw/", views.WithdrawView.as_view(), name="withdraw"),
    path("signoffs/<int:pk>/decide/", views.SignOffDecideView.as_view(), name="signoff_decide"),
    path("gates/", views.GatePolicyListView.as_view(), name="policy_list"),
    path("gates/assignments/", views.GateAssignmentUpdateView.as_view(), name="assignment_update"),
    path("gates/<slug:gate>/edit/", views.GatePolicyEditView.as_view(), name="policy_edit"),
]
