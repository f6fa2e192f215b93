"""What every page shares: filtered paginated lists, and forms whose valid input goes to a service."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.views import View
from django.views.generic import FormView, ListView

from core.exceptions import Conflict


class ClampedPaginationMixin:
    """A bad or too-large ``?page=`` shows the nearest page instead of a 404."""

    def paginate_queryset(self, queryset, page_size):
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()


class FilteredListView(ClampedPaginationMixin, ListView):
    """A list page: a restricted queryset, a shared FilterSet, pagination, an htmx partial for results.

    Subclasses set ``filterset_class``, ``template_name``, ``partial_template_name`` and implement
    ``get_base_queryset()`` (a selector call, restricted to the user).
    """

    filterset_class = None
    partial_template_name: str | None = None
    paginate_by: int | None = None  # None: the GATEHOUSE_PAGE_SIZE setting, read per request

    def get_base_queryset(self):
        raise NotImplementedError

    def get_queryset(self):
        self.filterset = self.filterset_class(self.request.GET or None, queryset=self.get_base_queryset(), request=self.request)
        if self.filterset.is_bound and not self.filterset.is_valid():
            return self.filterset.queryset.none()
        return self.filterset.qs

    def get_paginate_by(self, queryset):
        return self.paginate_by or settings.GATEHOUSE_PAGE_SIZE

    def get_template_names(self):
        if getattr(self.request, "htmx", False) and self.partial_template_name and not self.request.htmx.boosted:
            return [self.partial_template_name]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context["filter"] = self.filterset
        context["querystring"] = query.urlencode()
        context["is_filtered"] = any(value for key, value in self.request.GET.items() if key != "page")
        return context


def add_service_error(form, error: ValidationError | Conflict) -> None:
    """Put a service's refusal on the form: field errors on their fields, the rest on the form."""
    if isinstance(error, Conflict):
        form.add_error(None, error.message)
    elif hasattr(error, "error_dict"):
        for field, field_errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error.messages)


class ServiceFormView(FormView):
    """A form whose valid input is handed to a service in ``perform(form)``.

    The service's ``ValidationError`` becomes field or form errors, ``Conflict`` a form error, and
    the page is shown again with everything the user typed.
    """

    success_message = ""

    def perform(self, form):
        raise NotImplementedError

    def form_valid(self, form):
        try:
            self.object = self.perform(form)
        except (ValidationError, Conflict) as error:
            add_service_error(form, error)
            return self.form_invalid(form)
        if self.success_message:
            messages.success(self.request, self.success_message.format(object=self.object))
        return HttpResponseRedirect(self.get_success_url())

    def get_success_url(self):
        return self.object.get_absolute_url()


class SuggestionsView(View):
    """htmx: the ``<option>``s of a ``SuggestionsInput``'s ``<datalist>``, at most ``limit`` matches of what
    was typed (``core.widgets``).

    The box sends what was typed under its field's name (htmx includes the element's own value), so the
    view reads the one parameter it is given, whatever the field is called. Subclasses implement
    ``get_suggestions(typed, limit)``: ``(value, label)`` pairs, best first, from a selector.
    """

    limit = 20
    longest_typed = 100

    def get_suggestions(self, typed: str, limit: int) -> list[tuple[str, str]]:
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        typed = next(iter(request.GET.values()), "").strip()[: self.longest_typed]
        return render(request, "includes/suggestions.html", {"suggestions": self.get_suggestions(typed, self.limit)})
