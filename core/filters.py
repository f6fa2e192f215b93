"""What every list's FilterSet builds on: a ``?q=`` search over the fields a list names, and an ``ordering``
parameter its column headers toggle."""

import django_filters
from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Case, F, Q, Value, When
from django.db.models.expressions import OrderBy


def search(*fields):
    def method(queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)

    return method


class SearchFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search", method="filter_q", widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search…"})
    )
    search_fields: tuple[str, ...] = ()

    def filter_q(self, queryset, name, value):
        return search(*self.search_fields)(queryset, name, value)


class Column:
    """One sortable column of a list: its URL value, its label, and what it orders by.

    ``by`` is a field path or a query expression (a severity rank, say, so "Risk tier" sorts from high to
    low rather than alphabetically), or a list of them for a column that sorts on several keys; ``descending_first`` makes the first click on the header sort newest
    or largest first, which is what people expect of dates and ages.
    """

    def __init__(self, param: str, label: str, by=None, *, descending_first: bool = False):
        self.param = param
        self.label = label
        self.by = by or param
        self.descending_first = descending_first


class SortFilter(django_filters.OrderingFilter):
    """The ``ordering`` parameter of a list, shared by its page and its API.

    Built from ``Column``s and the default (``"name"`` or ``"-created"``): every column sorts both ways
    (``risk_tier``, ``-risk_tier``), an unknown value is a form error on the page and a 400 in the API,
    and the primary key ends every ordering so that pages never overlap. The page's headers use
    ``{% sort_header %}`` (``core.templatetags.sorting``) to toggle it.
    """

    def __init__(self, *columns: Column, default: str, **kwargs):
        self.columns = {column.param: column for column in columns}
        self.default = default
        choices = []
        for column in columns:
            choices += [(column.param, f"{column.label} ↑"), (f"-{column.param}", f"{column.label} ↓")]
        kwargs.setdefault("label", "Sort by")
        kwargs.setdefault("help_text", "A column, or -column for the reverse order.")
        super().__init__(choices=choices, empty_label=None, **kwargs)

    def current(self, value) -> str:
        values = [item for item in (value or []) if item]
        return values[0] if values else self.default

    def filter(self, qs, value):
        params = [item for item in (value or []) if item] or [self.default]
        ordering = []
        for param in params:
            descending = param.startswith("-")
            column = self.columns.get(param.lstrip("-"))
            if column is None:
                continue
            keys = column.by if isinstance(column.by, list | tuple) else [column.by]
            for position, expression in enumerate(keys):
                if isinstance(expression, OrderBy):  # a key with its own direction: reversed for "-param"
                    key = expression.copy()
                    ordering.append(key.reverse_ordering() if descending else key)
                    continue
                if not isinstance(expression, str):
                    alias = f"sort_{column.param}_{position}"
                    qs = qs.alias(**{alias: expression})
                    expression = alias
                field = F(expression)
                if _never_null(qs.model, expression):  # as the index orders it: no NULLS LAST to sort by
                    ordering.append(field.desc() if descending else field.asc())
                else:
                    ordering.append(field.desc(nulls_last=True) if descending else field.asc(nulls_last=True))
        if not (ordering and _unique_key(qs.model, ordering[-1])):  # a unique column already ends it
            ordering.append("-pk" if params[0].startswith("-") else "pk")
        return qs.order_by(*ordering)


def _never_null(model, path: str) -> bool:
    """Whether every row has a value at ``path`` (no nullable field or relation on the way). Sorting such
    a column needs no NULLS LAST, which would keep the database from reading an index in its order (the
    audit trail by sequence, requests newest first) and have it sort every row instead."""
    if path == "pk":
        return True
    try:
        for part in path.split("__"):
            field = model._meta.get_field(part)
            if field.null or (field.is_relation and not (field.many_to_one or field.one_to_one)):
                return False
            if field.is_relation:
                if not field.concrete:
                    return False
                model = field.related_model
    except FieldDoesNotExist:
        return False
    return True


def _unique_key(model, key) -> bool:
    """Whether an ordering key is a unique, non-null column of ``model`` itself (then it orders every row
    alone: the primary key after it would only keep the database from reading an index in order)."""
    expression = getattr(key, "expression", None)
    name = getattr(expression, "name", None)
    if not isinstance(name, str) or "__" in name or not _never_null(model, name):
        return False
    if name == "pk":
        return True
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return bool(field.unique or field.primary_key)


def rank(field: str, order) -> Case:
    """An integer rank of a choice field, from an ordered list of its values (low to high)."""
    return Case(
        *(When(**{field: value}, then=Value(position)) for position, value in enumerate(order)),
        default=Value(len(order)),
    )
