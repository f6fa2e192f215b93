"""The Teams pages: every team and who is in it, for everyone signed in (the organisation's directory); why
each member is there (source, reason, who and when), for governance admins and auditors; teams created
and renamed, members added and removed, with a reason, by governance admins through the audited services."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from core.exceptions import Conflict
from core.views import FilteredListView, PermissionRuleMixin, SuggestionsView, add_service_error, found_or_404
from identity import selectors
from identity.filters import TeamFilter
from identity.permissions import can_manage_people, can_read_people, can_read_teams
from identity.views.base import ServiceFormPage, refusal_message, safe_next
from identity.views.people_forms import MemberAddForm, ReasonForm, TeamCreateForm, TeamEditForm
from registry import services

WRITE_REFUSED = "Only governance admins create and rename teams and change who is in them."


def _name(person) -> str:
    return person.get_full_name() or person.get_username()


class TeamListView(PermissionRuleMixin, FilteredListView):
    filterset_class = TeamFilter
    template_name = "identity/team_list.html"
    partial_template_name = "identity/partials/team_table.html"
    permission_required = can_read_teams

    def get_base_queryset(self):
        return selectors.teams()

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "can_manage": can_manage_people(self.request.user)}


class TeamCreateView(ServiceFormPage):
    form_class = TeamCreateForm
    template_name = "identity/team_form.html"
    permission_required = can_manage_people
    permission_denied_message = WRITE_REFUSED

    def get_context_data(self, form) -> dict:
        return {"form": form, "team": None}

    def perform(self, form):
        team = services.team_create(actor=self.request.user, **form.cleaned_data)
        messages.success(self.request, f"Created the {team.name} team. Add its members below.")
        return redirect("identity:team_detail", slug=team.slug)


class TeamMixin(PermissionRuleMixin):
    permission_required = can_read_teams

    @found_or_404("No such team.")
    def team(self):
        return selectors.team(self.kwargs["slug"])


class TeamWriteMixin(TeamMixin):
    permission_required = can_manage_people
    permission_denied_message = WRITE_REFUSED


def team_context(request, team, **bound_forms) -> dict:
    """Everything the team page shows; ``bound_forms`` replace the empty form (to show its errors)."""
    paginator = Paginator(selectors.team_members(team), settings.GATEHOUSE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    show_sources = can_read_people(request.user)
    rows = [
        {"member": member, "sources": selectors.member_sources(member, team) if show_sources else []}
        for member in page.object_list
    ]
    manage = can_manage_people(request.user)
    context = {
        "team": team,
        "rows": rows,
        "page_obj": page,
        "paginator": paginator,
        "querystring": "",
        "show_sources": show_sources,
        "can_manage": manage,
        "can_read_people": show_sources,
        "add_form": MemberAddForm(team=team) if manage else None,
    }
    context.update(bound_forms)
    return context


class TeamDetailView(TeamMixin, View):
    template_name = "identity/team_detail.html"

    def get(self, request, slug):
        return render(request, self.template_name, team_context(request, self.team))


class TeamEditView(TeamWriteMixin, ServiceFormPage):
    form_class = TeamEditForm
    template_name = "identity/team_form.html"

    def get_form(self, data=None):
        return self.form_class(data, initial={"name": self.team.name, "description": self.team.description})

    def get_context_data(self, form) -> dict:
        return {"form": form, "team": self.team}

    def perform(self, form):
        team = services.team_update(actor=self.request.user, team=self.team, **form.cleaned_data)
        messages.success(self.request, f"Saved the {team.name} team.")
        return redirect("identity:team_detail", slug=team.slug)


class TeamMemberAddView(TeamWriteMixin, View):
    """POST from the team page. On an error the page is shown again with the form as typed and the reason."""

    def post(self, request, slug):
        team = self.team
        form = MemberAddForm(request.POST, team=team)
        status = 422
        if form.is_valid():
            person = form.cleaned_data["user"]
            try:
                joined = services.team_member_add(
                    actor=request.user, team=team, user=person, reason=form.cleaned_data["reason"]
                )
            except PermissionDenied as error:
                form.add_error(None, refusal_message(error))
                status = 403
            except (ValidationError, Conflict) as error:
                add_service_error(form, error)
            else:
                if joined:
                    messages.success(request, f"{_name(person)} is now in the {team.name} team.")
                else:
                    messages.info(request, f"{_name(person)} was already in the {team.name} team.")
                return redirect("identity:team_detail", slug=team.slug)
        return render(request, TeamDetailView.template_name, team_context(request, team, add_form=form), status=status)


class TeamMemberRemoveView(TeamWriteMixin, ServiceFormPage):
    """A confirmation page: where the membership comes from and what removing it does."""

    form_class = ReasonForm
    template_name = "identity/team_member_remove.html"

    @found_or_404("That person is not in this team.")
    def member(self):
        return selectors.team_member(self.team, self.kwargs["username"])

    def get_context_data(self, form) -> dict:
        member, team = self.member, self.team
        return {
            "form": form,
            "team": team,
            "member": member,
            "sources": selectors.member_sources(member, team),
            "outside_sources": [
                source for source in selectors.member_sources(member, team) if source.source != "manual"
            ],
            "consequences": services.membership_consequences(member, left_team_ids=[team.pk]),
            "next": safe_next(self.request, ""),
            "cancel": safe_next(self.request, reverse("identity:team_detail", args=[team.slug])),
        }

    def perform(self, form):
        member, team = self.member, self.team
        services.team_member_remove(actor=self.request.user, team=team, user=member, reason=form.cleaned_data["reason"])
        messages.success(self.request, f"{_name(member)} is no longer in the {team.name} team.")
        return redirect(safe_next(self.request, reverse("identity:team_detail", args=[team.slug])))


class MemberSuggestionsView(TeamWriteMixin, SuggestionsView):
    """htmx: active people matching what was typed in the team page's add-member box, members left out."""

    def get_suggestions(self, typed, limit):
        return selectors.person_suggestions(typed=typed, limit=limit, exclude_group=self.team.group)
