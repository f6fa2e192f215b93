"""The signed-in user's API tokens. A new token is shown once, on the response to the POST."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from core.exceptions import Conflict
from core.views import found_or_404
from registry import selectors, services
from registry.forms import ApiTokenForm
from registry.models import ApiToken, TokenScope
from registry.permissions import is_governance


def _scim_base(request) -> str:
    """Where the identity provider sends SCIM requests (the identity app serves it), for governance to copy."""
    try:
        return request.build_absolute_uri(reverse("scim:not_found", kwargs={"rest": ""}))
    except NoReverseMatch:
        return ""


@method_decorator(never_cache, name="dispatch")
class ApiTokenListView(View):
    template_name = "registry/token_list.html"

    def render_page(self, request, form, new_token=None, status=200):
        tokens = selectors.api_tokens_of(request.user)
        legacy = any(
            token.scopes == ["full"] and token.expires_at is None and token.revoked_at is None for token in tokens
        )
        return render(
            request,
            self.template_name,
            {
                "form": form,
                "tokens": tokens,
                "new_token": new_token,
                "legacy": legacy,
                "is_governance": is_governance(request.user),
                "scim_base": _scim_base(request),
            },
            status=status,
        )

    def get(self, request):
        return self.render_page(request, ApiTokenForm(user=request.user))

    def post(self, request):
        form = ApiTokenForm(request.POST, user=request.user)
        if not form.is_valid():
            return self.render_page(request, form, status=400)
        try:
            token, raw = services.api_token_create(
                actor=request.user,
                user=request.user,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=form.expires_at(),
            )
        except ValidationError as error:
            for field, messages_ in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages_)
            return self.render_page(request, form, status=400)
        new_token = {"token": token, "raw": raw, "scim": TokenScope.SCIM in token.scopes}
        return self.render_page(request, ApiTokenForm(user=request.user), new_token=new_token)


class ApiTokenRevokeView(View):
    """POST: revoke one of one's own tokens; anyone else's is a 404."""

    @found_or_404("No ApiToken matches the given query.")
    def token(self) -> ApiToken:
        return selectors.api_token_of(self.request.user, self.kwargs["pk"])

    def post(self, request, pk):
        token = self.token
        try:
            services.api_token_revoke(actor=request.user, token=token)
        except Conflict as error:
            messages.info(request, error.message)
        else:
            messages.success(request, f"Revoked {token.name}. Anything using it now gets 401.")
        return redirect("registry:token_list")
