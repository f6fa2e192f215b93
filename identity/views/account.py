"""Each person's own Account page: the roles and teams they hold and why, their last sign-in, the browsers
signed in as them (theirs to end) and their API tokens. The second factor and the tokens keep their own
pages (two_factor:security, registry:token_list); this page links to them."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views import View

from core.views import found_or_404
from identity import selectors
from identity.forms import TimeZoneForm
from identity.permissions import can_read_people
from identity.views.base import refusal_message, signed_out_here
from registry import selectors as registry_selectors
from registry import services
from registry.middleware import remember_time_zone
from registry.models import UserSession
from registry.services.two_factor import has_second_factor


def _account_page(request, time_zone_form=None, status=200):
    me = selectors.person(request.user.get_username())
    roles, teams = selectors.holdings_of(me)
    current = request.session.session_key
    sessions = services.sessions_live(me)
    for session in sessions:
        session.is_current = session.session_key == current
    tokens = [token for token in registry_selectors.api_tokens_of(me) if token.is_active]
    return render(
        request,
        "identity/account.html",
        {
            "me": me,
            "roles": roles,
            "teams": teams,
            "sessions": sessions,
            "others": [session for session in sessions if not session.is_current],
            "tokens": tokens,
            "has_second_factor": has_second_factor(me),
            "show_reasons": True,
            "can_read_people": can_read_people(request.user),
            "time_zone_form": time_zone_form or TimeZoneForm(initial={"time_zone": services.time_zone_of(me)}),
        },
        status=status,
    )


class AccountView(View):
    def get(self, request):
        return _account_page(request)


class AccountTimeZoneView(View):
    """POST: the zone your pages show times in. A bad choice shows the account page again with the error."""

    def post(self, request):
        form = TimeZoneForm(request.POST)
        if form.is_valid():
            zone = form.cleaned_data["time_zone"]
            try:
                changed = services.time_zone_set(actor=request.user, user=request.user, time_zone=zone)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                remember_time_zone(request, zone)
                if changed:
                    messages.success(request, f"Times now show in {zone}.")
                return redirect("identity:account")
        return _account_page(request, time_zone_form=form, status=422)


class AccountSessionEndView(View):
    """POST: end one of your own sessions. Anyone else's is a 404."""

    @found_or_404("No such session: it may have ended already.")
    def session(self) -> UserSession:
        return UserSession.objects.get(pk=self.kwargs["pk"], user=self.request.user)

    def post(self, request, pk):
        try:
            services.session_end(actor=request.user, session=self.session)
        except PermissionDenied as error:
            messages.error(request, refusal_message(error))
            return redirect("identity:account")
        if (signed_out := signed_out_here(request)) is not None:
            return signed_out
        messages.success(request, "Ended that session: the browser is signed out at its next request.")
        return redirect("identity:account")


class AccountSessionsEndOthersView(View):
    """POST: sign out everywhere else; this browser stays signed in."""

    def post(self, request):
        ended = services.sessions_end_all(user=request.user, actor=request.user, keep=request.session.session_key)
        if ended:
            messages.success(request, f"Signed out {ended} other session{'s' if ended != 1 else ''}.")
        else:
            messages.info(request, "You were signed in nowhere else.")
        return redirect("identity:account")
