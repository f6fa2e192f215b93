"""What the People, Teams and Account pages share: a form handed to a service, whose refusals are shown on
the form with everything typed kept, and a safe place to go back to."""

from __future__ import annotations

from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from core.exceptions import Conflict
from core.views import PermissionRuleMixin, add_service_error


def refusal_message(error: PermissionDenied) -> str:
    return getattr(error, "message", None) or str(error) or "You may not do this."


class ServiceFormPage(PermissionRuleMixin, View):
    """GET shows the page with an empty form; POST validates it and calls ``perform(form)``, which returns
    the response (a redirect). Invalid input and a service's ``ValidationError``/``Conflict`` show the page
    again with the errors (422), a service's ``PermissionDenied`` (e.g. separation of duties) with its
    reason on the form (403): never an error page, never the input lost."""

    form_class = None
    template_name = ""

    def get_form_kwargs(self) -> dict:
        return {}

    def get_form(self, data=None):
        return self.form_class(data, **self.get_form_kwargs())

    def get_context_data(self, form) -> dict:
        return {"form": form}

    def render_page(self, form, status: int = 200):
        return render(self.request, self.template_name, self.get_context_data(form), status=status)

    def get(self, request, *args, **kwargs):
        return self.render_page(self.get_form())

    def perform(self, form):
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST)
        if not form.is_valid():
            return self.render_page(form, status=422)
        try:
            return self.perform(form)
        except PermissionDenied as error:
            form.add_error(None, refusal_message(error))
            return self.render_page(form, status=403)
        except (ValidationError, Conflict) as error:
            add_service_error(form, error)
            return self.render_page(form, status=422)


def safe_next(request, default: str) -> str:
    """The ``next`` the form carries when it is a path of this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def signed_out_here(request):
    """When a change just ended this browser's own session: finish signing out (a fresh, empty session, as
    the sign-out button leaves) and return the redirect to the sign-in page; otherwise None."""
    key = request.session.session_key
    if key and not request.session.exists(key):
        logout(request)
        return redirect("login")
    return None
