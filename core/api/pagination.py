from django.core.paginator import Paginator
from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import pagination, serializers
from rest_framework.response import Response

from core.pagination import COUNT_LIMIT, BoundedCountPaginator, counted


class PageNumberPagination(pagination.PageNumberPagination):
    """``count``/``next``/``previous``/``results``; ``?page=`` and ``?page_size=`` (at most 200)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class CountedPagination(PageNumberPagination):
    """Pages of a list the view counted already, with its other totals in one query
    (``core.pagination.counted``)."""

    def __init__(self, count: int):
        self.known_count = count

    def django_paginator_class(self, object_list, per_page):
        return counted(Paginator(object_list, per_page), self.known_count)


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


class BoundedCountPagination(PageNumberPagination):
    """Pages of a list too long to count (``core.pagination.BoundedCountPaginator``): ``count`` is exact up
    to 10,000 rows; beyond, it is 10,000 and ``count_exact`` is false ("more than 10,000"), and ``next``
    still leads to every page."""

    django_paginator_class = BoundedCountPaginator

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response(
            {
                "count": paginator.shown_count,
                "count_exact": paginator.count_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        answer = super().get_paginated_response_schema(schema)
        answer["required"] = ["count", "count_exact", "results"]
        answer["properties"]["count"]["description"] = (
            f"The number of results, exact up to {COUNT_LIMIT:,}; beyond, {COUNT_LIMIT:,} (see count_exact)."
        )
        answer["properties"] = {
            "count": answer["properties"]["count"],
            "count_exact": {
                "type": "boolean",
                "description": f"False when there are more than {COUNT_LIMIT:,} results (count is then a floor).",
            },
            **{key: value for key, value in answer["properties"].items() if key != "count"},
        }
        return answer
