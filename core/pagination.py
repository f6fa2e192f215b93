"""Pages of lists too long to count: the audit trail (millions of events), evaluations (hundreds of thousands).

Counting a list costs as much as reading all of it, so a page of a long one would spend most of its time
on "of 1,000,000". ``BoundedCountPaginator`` counts at most ``COUNT_LIMIT`` rows (``COUNT(*)`` over a
``LIMIT``: the same work at a thousand rows as at a million): below it the count is exact and the paginator
is Django's; beyond it the count is a floor ("more than 10,000"), ``count_exact`` is false, and a page
reads one row more than it shows to know whether another follows. Every page stays reachable.
"""

from __future__ import annotations

import math

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

COUNT_LIMIT = 10_000


class BoundedCountPaginator(Paginator):
    count_limit = COUNT_LIMIT

    @cached_property
    def count(self) -> int:
        """The exact number of rows up to ``count_limit``; ``count_limit + 1`` when there are more."""
        if not isinstance(self.object_list, QuerySet):
            return super().count
        return self.object_list.order_by()[: self.count_limit + 1].count()  # COUNT(*) over a LIMIT

    @property
    def count_exact(self) -> bool:
        return self.count <= self.count_limit

    @property
    def shown_count(self) -> int:
        """What a page says the count is: exact, or the limit ("more than")."""
        return min(self.count, self.count_limit)

    @cached_property
    def num_pages(self) -> int:
        """Exact below the limit; beyond it, the pages known to exist (more follow)."""
        if self.count_exact:
            return super().num_pages
        return math.ceil(self.count / self.per_page)

    def validate_number(self, number) -> int:
        if self.count_exact:
            return super().validate_number(number)
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def get_page(self, number) -> Page:
        try:
            return super().get_page(number)
        except EmptyPage:  # past the end of a list longer than counted: the last page known to exist
            return self.page(self.num_pages)

    def page(self, number) -> Page:
        if self.count_exact:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows:
            raise EmptyPage(self.error_messages["no_results"])
        return OpenEndedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


class OpenEndedPage(Page):
    """A page of a list longer than its paginator counts: whether another follows is read, not computed."""

    def __init__(self, object_list, number, paginator, *, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def end_index(self) -> int:
        return self.start_index() + len(self.object_list) - 1


def counted(paginator: Paginator, count: int) -> Paginator:
    """``paginator`` told how many rows it pages, counted by the caller with other totals in one query:
    it does not count them again. (``Paginator.count`` is a cached property: this is its value.)"""
    paginator.count = count
    return paginator
