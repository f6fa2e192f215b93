"""Support's decision lookup, and governance's suspension of vendors and models."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from registry.models import CatalogModel, Vendor
from registry.permissions import is_governance
from registry.views.base import ServiceFormView
from routing import selectors, services, tokens
from routing.panels import visible_changes


@login_required
def decision_lookup(request):
    token = request.GET.get("token", "").strip()
    request_id = request.GET.get("request_id", "").strip()
    context = {"section": "decisions", "token": token, "request_id": request_id, "error": "", "view": None,
               "records": None}
    if request_id and not token:
        context["records"] = list(selectors.ledger_records(user=request.user, request_id=request_id)[:50])
        if len(context["records"]) == 1:
            token = context["token"] = context["records"][0].token
    if token:
        try:
            claim = tokens.read(token)
        except tokens.BadToken as bad:
            context["error"] = str(bad)
        else:
            context["view"] = selectors.decision_view(claim, user=request.user)
            if context["view"] is None:
                context["error"] = "The decision names a feature that does not exist or that you may not see."
    return render(request, "routing/decision_lookup.html", context)


class StatusChangeForm(forms.Form):
    reason = forms.CharField(label="Why", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
                             help_text="Owners of the affected features and auditors read this.")


class CatalogStatusView(LoginRequiredMixin, ServiceFormView):
    """Suspend or reinstate a vendor or a model: the routes it changes first, then the reason."""

    form_class = StatusChangeForm
    template_name = "routing/catalog_status.html"

    def dispatch(self, request, *args, kind, key, action, **kwargs):
        if action not in ("suspend", "reinstate"):
            raise Http404("Unknown action.")
        self.kind, self.suspend = kind, action == "suspend"
        self.entry = get_object_or_404(Vendor, slug=key) if kind == "vendor" else get_object_or_404(
            CatalogModel.objects.select_related("vendor"), pk=key
        )
        if request.user.is_authenticated and not is_governance(request.user):
            raise PermissionDenied(f"Only governance admins suspend or reinstate a {kind}.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        changes = visible_changes(self.request.user, self.entry, self.kind)
        return {
            **super().get_context_data(**kwargs), "kind": self.kind, "entry": self.entry, "suspend": self.suspend,
            "changes": [change for change in changes if change.changed],
            "unchanged": sum(not change.changed for change in changes), "section": f"{self.kind}_detail",
        }

    def perform(self, form):
        entry, changes = services.catalog_status_change(
            actor=self.request.user, suspend=self.suspend, reason=form.cleaned_data["reason"], **{self.kind: self.entry}
        )
        verb = "suspended" if self.suspend else "reinstated"
        messages.success(self.request, f"{entry} {verb}. {len(changes)} live route{'s' if len(changes) != 1 else ''} "
                                       "changed; resolve answers accordingly from now on.")
        return entry
