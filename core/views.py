"""What every page shares: who may open it and which object its URL names, filtered paginated lists, and
forms whose valid input goes to a service."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import FormView, ListView

from core.exceptions import Conflict


def found_or_404(message: str):
    """Declares an object a page's URL names, found among those the user may see.

    The decorated method looks it up through a visibility-aware selector and returns it; when it returns
    ``None`` or raises ``ObjectDoesNotExist`` the page is a 404 saying ``message``, so an object the user
    may not see answers exactly like one that does not exist. The result is a cached property: looked up
    once, on first use, so a view finds only what the request needs (a wrong method stays a 405)::

        @found_or_404("No such incident, or it is restricted.")
        def incident(self):
            return selectors.incident_detail(user=self.request.user, pk=self.kwargs["pk"])
    """

    def decorate(find):
        @wraps(find)
        def lookup(view):
            try:
                found = find(view)
            except ObjectDoesNotExist:
                found = None
            if found is None:
                raise Http404(message)
            return found

        return cached_property(lookup)

    return decorate


class PermissionRuleMixin:
    """Declares who may use a page; checked in ``dispatch`` before the handler runs, refused with a 403.

    ``permission_required`` is a rule from a ``permissions`` module: ``rule(user)``, or
    ``rule(user, object)`` when ``permission_object`` names the attribute holding the object the rule is
    about (usually a ``found_or_404`` property). That object is found first, so what the user may not see
    is a 404 before any 403. ``permission_denied_message`` says why, formatted with ``view``
    (``"Only the {view.feature.team} team..."``); override ``get_permission_denied_message`` when it
    depends on more. Methods the view does not answer get their 405 without the check. Anonymous users
    are left to the sign-in redirect.
    """

    permission_required = None
    permission_object = ""
    permission_denied_message = ""

    def has_permission(self) -> bool:
        rule = type(self).permission_required  # a plain function on the class: not bound to the view
        if rule is None:
            return True
        if self.permission_object:
            return rule(self.request.user, getattr(self, self.permission_object))
        return rule(self.request.user)

    def get_permission_denied_message(self) -> str:
        return self.permission_denied_message.format(view=self)

    def dispatch(self, request, *args, **kwargs):
        method = request.method.lower()
        answered = method in self.http_method_names and hasattr(self, method)
        if answered and request.user.is_authenticated and not self.has_permission():
            raise PermissionDenied(self.get_permission_denied_message())
        return super().dispatch(request, *args, **kwargs)


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
        self.filterset = self.filterset_class(
            self.request.GET or None, queryset=self.get_base_queryset(), request=self.request
        )
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
    invalid_status = 200  # 400 where a refused form should say so by its status too

    def perform(self, form):
        raise NotImplementedError

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = self.invalid_status
        return response

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
