"""The People pages: who holds which role and team and through which source, their sign-ins, sessions,
tokens and open work (governance admins and auditors); roles granted and revoked, people deactivated and
reactivated, sessions ended and tokens revoked (governance admins), each through the audited services."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from core.exceptions import Conflict
from core.views import FilteredListView, PermissionRuleMixin, add_service_error, found_or_404
from identity import selectors
from identity.filters import PersonFilter
from identity.permissions import can_manage_people, can_read_people
from identity.views.base import ServiceFormPage, refusal_message, signed_out_here
from identity.views.people_forms import ReasonForm, RoleGrantForm, TeamJoinForm
from registry import selectors as registry_selectors
from registry import services
from registry.choices import Role
from registry.models import ApiToken, Team, UserSession

READ_REFUSED = "Only governance admins and auditors see the People pages."
WRITE_REFUSED = "Only governance admins change people's roles, teams and accounts."


def _name(person) -> str:
    return person.get_full_name() or person.get_username()


class PeopleListView(PermissionRuleMixin, FilteredListView):
    filterset_class = PersonFilter
    template_name = "identity/people_list.html"
    partial_template_name = "identity/partials/people_table.html"
    permission_required = can_read_people
    permission_denied_message = READ_REFUSED

    def get_base_queryset(self):
        return selectors.people()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = []
        for person in context["object_list"]:
            roles, teams = selectors.holdings_of(person)
            rows.append({"person": person, "roles": roles, "teams": teams})
        context["rows"] = rows
        return context


class PersonMixin(PermissionRuleMixin):
    """The person the URL names (``username``). Governance admins and auditors only: anyone else gets a 403
    whether or not the username exists, so the page says nothing about who has an account."""

    permission_required = can_read_people
    permission_denied_message = READ_REFUSED

    @found_or_404("No one has that username.")
    def person(self):
        return selectors.person(self.kwargs["username"])

    def back(self):
        return redirect("identity:person_detail", username=self.person.get_username())


class PersonWriteMixin(PersonMixin):
    permission_required = can_manage_people
    permission_denied_message = WRITE_REFUSED


def person_context(request, person, **bound_forms) -> dict:
    """Everything the person page shows; ``bound_forms`` replace the empty forms (to show their errors)."""
    roles, teams = selectors.holdings_of(person)
    manage = can_manage_people(request.user)
    current = request.session.session_key
    sessions = services.sessions_live(person)
    for session in sessions:
        session.is_current = session.session_key == current
    context = {
        "person": person,
        "roles": roles,
        "teams": teams,
        "sessions": sessions,
        "tokens": list(registry_selectors.api_tokens_of(person)[:20]),
        "signoffs": list(selectors.signoffs_given_on_open_requests(person)),
        "features": list(selectors.features_owned_by(person)),
        "history": selectors.person_history(person),
        "can_manage": manage,
        "is_self": person.pk == request.user.pk,
        "grant_form": None,
        "join_form": None,
    }
    if manage and person.is_active:
        held_roles = [holding.key for holding in roles]
        context["grant_form"] = RoleGrantForm(held=held_roles)
        context["join_form"] = TeamJoinForm(teams=_teams_to_join(teams))
    context.update(bound_forms)
    return context


def _teams_to_join(held_teams):
    return Team.objects.exclude(slug__in=[holding.key for holding in held_teams]).order_by("name")


class PersonDetailView(PersonMixin, View):
    template_name = "identity/person_detail.html"

    def get(self, request, username):
        return render(request, self.template_name, person_context(request, self.person))


class PersonActionView(PersonWriteMixin, View):
    """POST one form of the person page. On an error the page is shown again with the form as typed and
    the service's reason (422, or 403 for a refusal such as a self-grant); on success, a message and back."""

    context_key = ""

    def get_form(self):
        raise NotImplementedError

    def act(self, form) -> str:
        raise NotImplementedError

    def post(self, request, username):
        form = self.get_form()
        status = 422
        if form.is_valid():
            try:
                message = self.act(form)
            except PermissionDenied as error:
                form.add_error(None, refusal_message(error))
                status = 403
            except (ValidationError, Conflict) as error:
                add_service_error(form, error)
            else:
                messages.success(request, message)
                return self.back()
        context = person_context(request, self.person, **{self.context_key: form})
        return render(request, PersonDetailView.template_name, context, status=status)


class RoleGrantView(PersonActionView):
    context_key = "grant_form"

    def get_form(self):
        roles, _teams = selectors.holdings_of(self.person)
        return RoleGrantForm(self.request.POST, held=[holding.key for holding in roles])

    def act(self, form) -> str:
        role = form.cleaned_data["role"]
        services.role_grant(actor=self.request.user, user=self.person, role=role, reason=form.cleaned_data["reason"])
        return f"{_name(self.person)} now holds the {Role(role).label.lower()} role."


class PersonTeamJoinView(PersonActionView):
    context_key = "join_form"

    def get_form(self):
        _roles, teams = selectors.holdings_of(self.person)
        return TeamJoinForm(self.request.POST, teams=_teams_to_join(teams))

    def act(self, form) -> str:
        team = form.cleaned_data["team"]
        services.team_member_add(
            actor=self.request.user, team=team, user=self.person, reason=form.cleaned_data["reason"]
        )
        return f"{_name(self.person)} is now in the {team.name} team."


class RoleRevokeView(PersonWriteMixin, ServiceFormPage):
    """A confirmation page: where the role comes from, and what taking it would do (sign-offs withdrawn)."""

    form_class = ReasonForm
    template_name = "identity/person_role_revoke.html"

    @found_or_404("No such role.")
    def role(self) -> str:
        role = self.kwargs["role"]
        return role if role in Role.values else None

    def holding(self):
        roles, _teams = selectors.holdings_of(self.person)
        return next((holding for holding in roles if holding.key == self.role), None)

    def get(self, request, *args, **kwargs):
        if self.holding() is None:
            messages.info(request, f"{_name(self.person)} does not hold the {Role(self.role).label.lower()} role.")
            return self.back()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, form) -> dict:
        return {
            "form": form,
            "person": self.person,
            "role": self.role,
            "role_label": Role(self.role).label,
            "holding": self.holding(),
            "consequences": services.membership_consequences(self.person, removed_roles=[self.role]),
        }

    def perform(self, form):
        left = services.role_revoke(
            actor=self.request.user, user=self.person, role=self.role, reason=form.cleaned_data["reason"]
        )
        label = Role(self.role).label.lower()
        if left:
            messages.success(self.request, f"{_name(self.person)} no longer holds the {label} role.")
        else:
            messages.info(self.request, f"{_name(self.person)} did not hold the {label} role; nothing changed.")
        return self.back()


class DeactivateView(PersonWriteMixin, ServiceFormPage):
    """A confirmation page: the sessions that end, the tokens revoked, the open work left to reassign."""

    form_class = ReasonForm
    template_name = "identity/person_deactivate.html"
    reactivate = False

    def get(self, request, *args, **kwargs):
        if self.person.is_active == self.reactivate:
            state = "active" if self.reactivate else "deactivated"
            messages.info(request, f"{_name(self.person)} is already {state}.")
            return self.back()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, form) -> dict:
        person = self.person
        return {
            "form": form,
            "person": person,
            "reactivate": self.reactivate,
            "is_self": person.pk == self.request.user.pk,
            "sessions": [] if self.reactivate else services.sessions_live(person),
            "active_tokens": person.active_tokens,
            "signoffs": list(selectors.signoffs_given_on_open_requests(person)),
            "features": list(selectors.features_owned_by(person)),
        }

    def perform(self, form):
        if self.reactivate:
            services.person_reactivate(actor=self.request.user, user=self.person, reason=form.cleaned_data["reason"])
            messages.success(
                self.request,
                f"{_name(self.person)} can sign in again. Their roles and teams are as they were; their API tokens "
                "stay revoked.",
            )
        else:
            services.person_deactivate(actor=self.request.user, user=self.person, reason=form.cleaned_data["reason"])
            messages.success(
                self.request,
                f"Deactivated {_name(self.person)}: they are signed out everywhere and their API tokens are revoked.",
            )
        return self.back()


class PersonSessionEndView(PersonWriteMixin, View):
    """POST: end one of the person's signed-in sessions (that browser is signed out at its next request)."""

    @found_or_404("No such session: it may have ended already.")
    def session(self) -> UserSession:
        return UserSession.objects.get(pk=self.kwargs["pk"], user=self.person)

    def post(self, request, username, pk):
        try:
            services.session_end(actor=request.user, session=self.session)
        except PermissionDenied as error:
            messages.error(request, refusal_message(error))
        else:
            if (signed_out := signed_out_here(request)) is not None:
                return signed_out
            messages.success(request, f"Ended a session of {_name(self.person)}: that browser is signed out.")
        return self.back()


class PersonSessionsEndAllView(PersonWriteMixin, View):
    """POST: end every session of the person (yours on this browser too, if it is your own page)."""

    def post(self, request, username):
        ended = services.sessions_end_all(user=self.person, actor=request.user)
        if (signed_out := signed_out_here(request)) is not None:
            return signed_out
        messages.success(request, f"Ended {ended} session{'s' if ended != 1 else ''} of {_name(self.person)}.")
        return self.back()


class PersonTokenRevokeView(PersonWriteMixin, View):
    """POST: revoke one of the person's API tokens."""

    @found_or_404("No such token.")
    def token(self) -> ApiToken:
        return ApiToken.objects.get(pk=self.kwargs["pk"], user=self.person)

    def post(self, request, username, pk):
        token = self.token
        try:
            services.api_token_revoke(actor=request.user, token=token)
        except Conflict as error:
            messages.info(request, error.message)
        else:
            messages.success(request, f"Revoked {token.name} of {_name(self.person)}. Anything using it now gets 401.")
        return redirect(reverse("identity:person_detail", args=[self.person.get_username()]) + "#tokens")
