"""Single sign-on pages: the way to the identity provider and back, sign-out, and the group mappings
governance edits. A sign-in that cannot complete shows the person a page saying what to do and logs the
cause for the operator; it never answers 500."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.views import View
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from core.views import PermissionRuleMixin, add_service_error, found_or_404
from identity import oidc, services
from identity.models import GroupMapping, OidcIdentity
from registry.choices import Role
from registry.middleware import SIGNED_IN_AT_IDENTITY_PROVIDER_SESSION_KEY, mark_signed_in_at_identity_provider
from registry.models import Team
from registry.permissions import is_governance, sees_everything

ID_TOKEN_SESSION_KEY = "gatehouse_oidc_id_token"


def failure_page(request, failure: oidc.SsoFailure):
    failure.log()
    return render(
        request,
        "identity/oidc_failed.html",
        {
            "person": failure.person,
            "try_again": oidc.TRY_AGAIN,
            "provider_name": oidc.provider_name(),
            "password_offered": oidc.password_sign_in_refusal(request, "") is None,
        },
        status=failure.status,
    )


@method_decorator(login_not_required, name="dispatch")
class OidcStartView(OIDCAuthenticationRequestView):
    """To the identity provider's sign-in, with a fresh state, nonce and PKCE verifier in the session."""

    def __init__(self, **kwargs):
        View.__init__(self, **kwargs)  # the endpoints are looked up per request, from discovery

    def get(self, request):
        if not oidc.configured():
            raise Http404("Single sign-on is not configured.")
        try:
            provider = oidc.discovery()
        except oidc.SsoFailure as failure:
            return failure_page(request, failure)
        self.OIDC_OP_AUTH_ENDPOINT = provider["authorization_endpoint"]
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


@method_decorator(login_not_required, name="dispatch")
class OidcCallbackView(View):
    """Back from the identity provider: check the state, let the backend exchange the code, sign in."""

    http_method_names = ["get"]

    def get(self, request):
        if not oidc.configured():
            raise Http404("Single sign-on is not configured.")
        try:
            return self.complete(request)
        except oidc.SsoFailure as failure:
            return failure_page(request, failure)

    def complete(self, request):
        state = request.GET.get("state", "")
        states = request.session.get("oidc_states")
        states = states if isinstance(states, dict) else {}
        pending = states.pop(state, None) if state else None
        if pending is not None:
            request.session["oidc_states"] = states  # each state is good for one answer
        error = request.GET.get("error")
        if error:
            description = request.GET.get("error_description", "")[:300]
            raise oidc.SsoFailure(
                f"{oidc.provider_name().capitalize()} did not sign you in ({error[:60]}).",
                f"OIDC provider answered the sign-in with error {error[:60]!r}: {description}",
                level=logging.WARNING,
            )
        if not request.GET.get("code") or not state:
            raise oidc.SsoFailure(oidc.EXPIRED, "OIDC callback without a code or a state", level=logging.WARNING)
        if not isinstance(pending, dict):
            raise oidc.SsoFailure(
                oidc.EXPIRED,
                "OIDC callback state mismatch: the state is not one this browser session started (an expired "
                "session, a link used twice, a sign-in begun in another browser, or a forged request)",
                level=logging.WARNING,
            )
        provider = oidc.discovery()
        issuer = request.GET.get("iss")  # RFC 9207: which provider answered (against mix-up attacks)
        if issuer and issuer != provider["issuer"]:
            raise oidc.SsoFailure(
                oidc.REFUSED, f"OIDC callback from issuer {issuer[:200]!r}, expected {provider['issuer']!r}"
            )
        user = auth.authenticate(request, nonce=pending.get("nonce"), code_verifier=pending.get("code_verifier"))
        if user is None:
            raise oidc.SsoFailure(
                oidc.REFUSED,
                "OIDC sign-in: no backend accepted the answer — is identity.oidc.OidcBackend in AUTHENTICATION_BACKENDS?",
            )
        next_url = request.session.pop("oidc_login_next", None)
        auth.login(request, user)
        mark_signed_in_at_identity_provider(request)
        request.session[ID_TOKEN_SESSION_KEY] = getattr(request, "gatehouse_id_token", "")
        self.tell(request, getattr(request, "gatehouse_sign_in", None))
        return HttpResponseRedirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))

    @staticmethod
    def tell(request, signed_in) -> None:
        if signed_in is None:
            return
        if signed_in.groups is None:
            messages.warning(
                request,
                f"{oidc.provider_name().capitalize()} sent no group information, so it gave you no roles or teams "
                "in Gatehouse. If you expected some, tell your governance team.",
            )
        for note in signed_in.applied.kept:
            messages.info(request, note)


class SignOutView(auth_views.LogoutView):
    """Ends the Gatehouse session; after a single sign-on, also the provider's when it offers that
    (RP-initiated logout) and OIDC_SIGN_OUT_AT_PROVIDER is on."""

    def post(self, request, *args, **kwargs):
        at_provider = self.end_session_url(request)
        response = super().post(request, *args, **kwargs)
        if not at_provider:
            return response
        # Not a redirect: the Content Security Policy's form-action 'self' (rightly) stops a form's
        # redirect to another origin, so a page forwards the browser instead.
        return render(
            request,
            "identity/oidc_signed_out.html",
            {"end_session_url": at_provider, "provider_name": oidc.provider_name()},
        )

    @staticmethod
    def end_session_url(request) -> str:
        if not (
            settings.OIDC_SIGN_OUT_AT_PROVIDER
            and oidc.configured()
            and request.user.is_authenticated
            and request.session.get(SIGNED_IN_AT_IDENTITY_PROVIDER_SESSION_KEY)
        ):
            return ""
        try:
            endpoint = oidc.discovery().get("end_session_endpoint")
        except oidc.SsoFailure as failure:
            failure.log()
            return ""
        if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
            return ""
        query = {
            "client_id": settings.OIDC_RP_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
        }
        if request.session.get(ID_TOKEN_SESSION_KEY):
            query["id_token_hint"] = request.session[ID_TOKEN_SESSION_KEY]
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(query)}"


# --- Group mappings --------------------------------------------------------------------------------


def _targets():
    roles = [(f"role:{value}", f"Role: {label}") for value, label in Role.choices]
    teams = [(f"team:{team.pk}", f"Team: {team.name}") for team in Team.objects.order_by("name")]
    return [("", "Choose a role or a team…"), *roles, *teams]


class GroupMappingForm(forms.Form):
    group_name = forms.CharField(
        label="Group at the identity provider",
        max_length=200,
        help_text="Exactly as the provider sends it in the groups claim, e.g. gh-security or /Engineering/ML.",
    )
    gives = forms.ChoiceField(label="Gives", choices=())
    reason = forms.CharField(label="Reason", max_length=500, help_text="Kept in the audit trail.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["gives"].choices = _targets()

    def target(self) -> dict:
        kind, _, value = self.cleaned_data["gives"].partition(":")
        if kind == "team":
            return {"team": Team.objects.filter(pk=value).first()}
        return {"role": value}


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", max_length=500, help_text="Kept in the audit trail.")


class GroupMappingsView(PermissionRuleMixin, View):
    """The groups of the identity provider that give roles and teams; governance edits, auditors read."""

    template_name = "identity/oidc_mappings.html"
    permission_denied_message = "Only governance admins and auditors see the single sign-on settings."

    def has_permission(self) -> bool:
        user = self.request.user
        return is_governance(user) if self.request.method == "POST" else sees_everything(user)

    def get_permission_denied_message(self) -> str:
        if self.request.method == "POST":
            return "Only governance admins change group mappings."
        return self.permission_denied_message

    def get(self, request, form=None):
        mappings = GroupMapping.objects.select_related("team", "created_by").order_by(
            "group_name", "role", "team__name"
        )
        page = Paginator(mappings, settings.GATEHOUSE_PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            self.template_name,
            {
                "page_obj": page,
                "paginator": page.paginator,
                "mappings": page.object_list,
                "form": form or GroupMappingForm(),
                "may_edit": is_governance(request.user),
                "settings_shown": self.settings_shown(request),
                "unmapped_groups": self.unmapped_groups(),
            },
        )

    def post(self, request):
        form = GroupMappingForm(request.POST)
        if form.is_valid():
            target = form.target()
            if "team" in target and target["team"] is None:
                form.add_error("gives", "That team no longer exists.")
            else:
                try:
                    mapping = services.group_mapping_create(
                        actor=request.user,
                        group_name=form.cleaned_data["group_name"],
                        reason=form.cleaned_data["reason"],
                        **target,
                    )
                except ValidationError as error:
                    add_service_error(form, error)
                else:
                    messages.success(
                        request, f"Mapped {mapping}: members get it at their next sign-in through single sign-on."
                    )
                    return redirect("identity:oidc_mappings")
        return self.get(request, form=form)

    @staticmethod
    def settings_shown(request) -> list[tuple[str, str]]:
        """What is configured, never the secret itself."""
        on = oidc.configured()
        cached = oidc.cached_discovery() if on else None
        return [
            ("Single sign-on", "on" if on else "off (OIDC_ISSUER and OIDC_CLIENT_ID are not both set)"),
            ("Issuer", settings.OIDC_ISSUER or "not set"),
            ("Provider name", oidc.provider_name()),
            ("Client id", settings.OIDC_RP_CLIENT_ID or "not set"),
            ("Client secret", "set" if settings.OIDC_RP_CLIENT_SECRET else "not set"),
            ("Scopes", settings.OIDC_RP_SCOPES),
            ("Groups claim", settings.OIDC_GROUPS_CLAIM),
            ("Username claim", f"{settings.OIDC_USERNAME_CLAIM} (else email, else sub)"),
            ("Redirect URI", request.build_absolute_uri(reverse("identity:oidc_callback"))),
            (
                "Provider discovery",
                "not fetched yet by this process (at the next sign-in)"
                if on and cached is None
                else ("fetched: " + cached["issuer"] if cached else "—"),
            ),
            ("Password sign-in", "on" if settings.PASSWORD_SIGN_IN else "off"),
            ("Break-glass accounts", ", ".join(settings.BREAK_GLASS_USERS) or "none"),
            ("Sign out at the provider", "on" if settings.OIDC_SIGN_OUT_AT_PROVIDER else "off"),
        ]

    @staticmethod
    def unmapped_groups(limit: int = 50) -> list[tuple[str, int]]:
        """Groups seen at sign-in that no mapping names, most common first: candidates for a mapping."""
        mapped = set(GroupMapping.objects.values_list("group_name", flat=True))
        counts: dict[str, int] = {}
        for groups in OidcIdentity.objects.filter(user__is_active=True).values_list("groups", flat=True).iterator():
            for name in groups or []:
                if isinstance(name, str) and name not in mapped:
                    counts[name] = counts.get(name, 0) + 1
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


class GroupMappingDeleteView(PermissionRuleMixin, View):
    """Asks for a reason and confirmation; people holding the role or team through it lose it at once."""

    template_name = "identity/oidc_mapping_delete.html"
    permission_required = is_governance
    permission_denied_message = "Only governance admins change group mappings."

    @found_or_404("No such group mapping: it may have been deleted already.")
    def mapping(self) -> GroupMapping:
        return GroupMapping.objects.select_related("team").get(pk=self.kwargs["pk"])

    @cached_property
    def holders(self) -> int:
        from registry.choices import MembershipSource
        from registry.models import Membership

        group = self.mapping.team.group if self.mapping.team_id else None
        rows = Membership.objects.filter(source=MembershipSource.IDP)
        rows = rows.filter(group=group) if group else rows.filter(group__name=self.mapping.role)
        return rows.count()

    def get(self, request, pk, form=None):
        return render(
            request,
            self.template_name,
            {"mapping": self.mapping, "holders": self.holders, "form": form or ReasonForm()},
        )

    def post(self, request, pk):
        form = ReasonForm(request.POST)
        if not form.is_valid():
            return self.get(request, pk, form=form)
        mapping = self.mapping
        try:
            kept = services.group_mapping_delete(
                actor=request.user, mapping=mapping, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_service_error(form, error)
            return self.get(request, pk, form=form)
        messages.success(request, f"Deleted the mapping {mapping}.")
        for note in kept:
            messages.warning(request, note)
        return redirect("identity:oidc_mappings")
