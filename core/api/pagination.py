from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import pagination, serializers


class PageNumberPagination(pagination.PageNumberPagination):
    """``count``/``next``/``previous``/``results``; ``?page=`` and ``?page_size=`` (at most 200)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


# An analysis that is not a plain list (it carries totals besides its rows) pages its rows itself: its
# view calls ``PageNumberPagination().paginate_queryset`` and serializes the answer with a subclass of
# ``PageSerializer`` (given the paginator in its context), which documents the same ``?page=`` and
# ``?page_size=`` and the same ``count``/``next``/``previous`` as every list.
PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="A page number within the paginated result set."),
    OpenApiParameter("page_size", int, description="Number of results to return per page (at most 200)."),
]


class PageSerializer(serializers.Serializer):
    count = serializers.SerializerMethodField()
    next = serializers.SerializerMethodField()
    previous = serializers.SerializerMethodField()

    def get_count(self, _answer) -> int:
        return self.context["paginator"].page.paginator.count

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_next(self, _answer):
        return self.context["paginator"].get_next_link()

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_previous(self, _answer):
        return self.context["paginator"].get_previous_link()
