"""Support's decision lookup, the live routes through a vendor or model, and governance's suspension of
vendors and models."""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from core.views import PermissionRuleMixin, ServiceFormView
from registry.mixins import FeatureLookupMixin
from registry.permissions import is_governance
from routing import export as decision_export
from routing import selectors, services, tokens
from routing.panels import catalog_entry, catalog_key, routes_panel_body, visible_changes

ROWS = 200  # changed routes the suspension's confirmation lists (the API pages through them all)


@login_required
def decision_lookup(request):
    token = request.GET.get("token", "").strip()
    request_id = request.GET.get("request_id", "").strip()
    context = {
        "section": "decisions",
        "token": token,
        "request_id": request_id,
        "error": "",
        "view": None,
        "records": None,
    }
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


@method_decorator(never_cache, name="dispatch")
class CatalogRoutesView(View):
    """The body of the vendor and model pages' "Live routes" section (htmx loads it); asked without htmx
    (a browser without JavaScript follows the section's link), the same as a page of its own. Every
    signed-in user; the routes of features they may not see are left out."""

    kind = "vendor"

    def get(self, request, key):
        panel = routes_panel_body(
            user=request.user, kind=self.kind, entry=catalog_entry(self.kind, key), page=request.GET.get("page")
        )
        partial = getattr(request, "htmx", False) and not request.htmx.boosted
        template = "routing/partials/catalog_routes_body.html" if partial else "routing/catalog_routes.html"
        return render(request, template, {"panel": panel})


class StatusChangeForm(forms.Form):
    reason = forms.CharField(
        label="Why",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Owners of the affected features and auditors read this.",
    )


class CatalogStatusView(LoginRequiredMixin, PermissionRuleMixin, ServiceFormView):
    """Suspend or reinstate a vendor or a model: the routes it changes first, then the reason."""

    form_class = StatusChangeForm
    template_name = "routing/catalog_status.html"
    permission_required = is_governance
    permission_denied_message = "Only governance admins suspend or reinstate a {view.kind}."

    def dispatch(self, request, *args, kind, key, action, **kwargs):
        if action not in ("suspend", "reinstate"):
            raise Http404("Unknown action.")
        self.kind, self.suspend = kind, action == "suspend"
        self.entry = catalog_entry(kind, key)  # 404 before the permission check
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        routes = visible_changes(self.request.user, self.entry, self.kind)  # changed first
        return {
            **super().get_context_data(**kwargs),
            "kind": self.kind,
            "entry": self.entry,
            "suspend": self.suspend,
            "changes": routes[: min(ROWS, routes.changed)],
            "changed_total": routes.changed,
            "routes_lost": routes.lost,
            "unchanged": len(routes) - routes.changed,
            "section": f"{self.kind}_detail",
            "api_url": reverse(f"routing-api:{self.kind}-routes", args=[catalog_key(self.kind, self.entry)]),
        }

    def perform(self, form):
        entry, changes = services.catalog_status_change(
            actor=self.request.user, suspend=self.suspend, reason=form.cleaned_data["reason"], **{self.kind: self.entry}
        )
        verb = "suspended" if self.suspend else "reinstated"
        messages.success(
            self.request,
            f"{entry} {verb}. {len(changes)} live route{'s' if len(changes) != 1 else ''} "
            "changed; resolve answers accordingly from now on.",
        )
        return entry


class DecisionExportForm(forms.Form):
    """The range and format, under the names the API takes (``from``, ``to``, ``format``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from"] = forms.DateField(label="From (UTC day)", widget=forms.DateInput(attrs={"type": "date"}))
        self.fields["to"] = forms.DateField(
            label="To (UTC day, included)", widget=forms.DateInput(attrs={"type": "date"})
        )
        self.fields["format"] = forms.ChoiceField(
            label="Format", choices=[("csv", "CSV (spreadsheets)"), ("json", "JSON")], widget=forms.RadioSelect
        )


@method_decorator(never_cache, name="dispatch")
class DecisionExportView(FeatureLookupMixin, View):
    """Export the feature's decision ledger for a range of days (``?from=&to=&format=``): the form, or with
    the three the download, streamed. The feature's team, governance admins and auditors; a 404 for those
    who may not see the feature."""

    permission_required = decision_export.can_export_decisions
    permission_denied_message = (
        "Only the {view.feature.team} team, governance admins and auditors export the decision log of {view.feature}."
    )

    def get(self, request, slug):
        feature = self.feature
        asked = any(name in request.GET for name in ("from", "to", "format"))
        today = timezone.now().date()
        values = {
            "from": request.GET.get("from", (today - timedelta(days=29)).isoformat()),
            "to": request.GET.get("to", today.isoformat()),
            "format": request.GET.get("format", "csv"),
        }
        form = DecisionExportForm(values if asked else None, initial=values)
        if asked:
            try:
                export = decision_export.decisions_export(
                    actor=request.user,
                    feature=feature,
                    export=decision_export.export_range(first=values["from"], last=values["to"], fmt=values["format"]),
                )
            except ValidationError as error:
                form.is_valid()
                for field, errors in error.message_dict.items():
                    if field in form.fields and field not in form.errors:
                        form.add_error(field, errors)
                    elif field not in form.fields:
                        form.add_error(None, errors)
            else:
                response = StreamingHttpResponse(export.stream(), content_type=export.content_type)
                response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
                return response
        return render(
            request,
            "routing/decision_export.html",
            {
                "feature": feature,
                "form": form,
                "max_days": decision_export.MAX_SPAN_DAYS,
                "retention_days": settings.GATEHOUSE_DECISION_RETENTION_DAYS,
                "api_url": reverse("routing-api:decision-export", args=[feature.slug]),
            },
        )
