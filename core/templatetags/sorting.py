"""Click-to-sort column headers for lists whose FilterSet has a ``SortFilter`` named ``ordering``.

``{% sort_header "risk_tier" %}`` renders the ``<th>``: a link to the same list sorted by that column (the
other way round when it already is), keeping every filter and going back to the first page, with the
direction shown to the eye and to screen readers (``aria-sort``).
"""

from django import template
from django.utils.html import format_html

from core.filters import SortFilter

register = template.Library()


def current_ordering(filterset, query) -> tuple[SortFilter, str] | tuple[None, None]:
    sort = filterset.filters.get("ordering") if filterset is not None else None
    if not isinstance(sort, SortFilter):
        return None, None
    asked = (query.get("ordering") or "").split(",")[0].strip()
    known = asked.lstrip("-") in sort.columns
    return sort, asked if known else sort.default


@register.simple_tag(takes_context=True)
def sort_header(context, param: str, label: str = "", css_class: str = ""):
    request = context["request"]
    sort, current = current_ordering(context.get("filter"), request.GET)
    if sort is None:  # a table shared with a page that does not sort (a feature's history, say)
        return format_html('<th class="{}">{}</th>', css_class, label or param)
    if param not in sort.columns:
        raise template.TemplateSyntaxError(f"The list has no sortable column {param!r}.")
    column = sort.columns[param]
    label = label or column.label
    if current == param:
        state, target, arrow = "ascending", f"-{param}", "▲"
    elif current == f"-{param}":
        state, target, arrow = "descending", param, "▼"
    else:
        state, target, arrow = "none", f"-{param}" if column.descending_first else param, ""
    query = request.GET.copy()
    query.pop("page", None)
    query["ordering"] = target
    hint = {"ascending": "sorted ascending", "descending": "sorted descending", "none": "sort"}[state]
    return format_html(
        '<th class="sortable {}" aria-sort="{}"><a href="?{}" title="{}: {}">{}<span class="sort-arrow" aria-hidden="true">{}</span></a></th>',
        css_class,
        state,
        query.urlencode(),
        label,
        hint,
        label,
        arrow,
    )
