from django.urls import path

from identity.views import reviews

app_name = "identity"

urlpatterns: list = []

# --- Access reviews ------------------------------------------------------------------------------
urlpatterns += [
    path("access-reviews/", reviews.ReviewListView.as_view(), name="review_list"),
    path("access-reviews/new/", reviews.ReviewStartView.as_view(), name="review_start"),
    path("access-reviews/<int:pk>/", reviews.ReviewDetailView.as_view(), name="review_detail"),
    path("access-reviews/<int:pk>/close/", reviews.ReviewCloseView.as_view(), name="review_close"),
    path(
        "access-reviews/<int:pk>/export.csv",
        reviews.ReviewExportView.as_view(file_format="csv"),
        name="review_export_csv",
    ),
    path(
        "access-reviews/<int:pk>/export.pdf",
        reviews.ReviewExportView.as_view(file_format="pdf"),
        name="review_export_pdf",
    ),
    path("access-reviews/items/<int:pk>/", reviews.ItemView.as_view(), name="review_item"),
    path("access-reviews/items/<int:pk>/decide/", reviews.ItemDecideView.as_view(), name="review_item_decide"),
]
