from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("", views.SubscriptionListView.as_view(), name="subscription_list"),
    path("new/", views.SubscriptionCreateView.as_view(), name="subscription_create"),
    path("<int:pk>/", views.SubscriptionDetailView.as_view(), name="subscription_detail"),
    path("<int:pk>/edit/", views.SubscriptionEditView.as_view(), name="subscription_edit"),
    path("<int:pk>/ping/", views.SubscriptionPingView.as_view(), name="subscription_ping"),
    path("<int:pk>/rotate-secret/", views.SubscriptionRotateView.as_view(), name="subscription_rotate"),
    path("<int:pk>/disable/", views.SubscriptionDisableView.as_view(), name="subscription_disable"),
    path("<int:pk>/enable/", views.SubscriptionEnableView.as_view(), name="subscription_enable"),
    path("<int:pk>/delete/", views.SubscriptionDeleteView.as_view(), name="subscription_delete"),
    path("deliveries/", views.DeliveryListView.as_view(), name="delivery_list"),
    path("deliveries/<uuid:pk>/", views.DeliveryDetailView.as_view(), name="delivery_detail"),
    path("deliveries/<uuid:pk>/redeliver/", views.DeliveryRedeliverView.as_view(), name="delivery_redeliver"),
]
