"""The MLflow connector pages. Thin: they read through selectors and write through ``connectors.services``."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from connectors import selectors, services, tasks
from connectors.forms import LinkForm, MappingForm, ServerForm
from connectors.models import MetricMapping, MlflowModelLink, MlflowServer
from connectors.permissions import can_manage_server, can_read_server
from core.audit_context import audit_context
from registry.permissions import is_governance, user_team_ids
from registry.selectors import features_visible_to

# The webhook secret is shown once, on the page after it was made (creation or rotation).
SECRET_ONCE = "gatehouse_mlflow_secret_once"


def _server_or_404(request, pk) -> MlflowServer:
    server = selectors.servers_visible_to(request.user).filter(pk=pk).first()
    if server is None or not can_read_server(request.user, server):
        raise Http404("No such MLflow server.")
    return server


def _errors_into(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _linkable_features(user, server):
    features = features_visible_to(user).order_by("name")
    if server.team_id is not None:
        features = features.filter(team_id=server.team_id)
    if not is_governance(user):
        features = features.filter(team_id__in=user_team_ids(user))
    return features


class ServerListView(View):
    def get(self, request):
        servers = list(selectors.servers_visible_to(request.user))
        return render(
            request,
            "connectors/server_list.html",
            {
                "servers": servers,
                "can_add": is_governance(request.user) or bool(user_team_ids(request.user)),
                "drift": list(selectors.open_drift_visible_to(request.user)[:20]),
            },
        )


class ServerCreateView(View):
    def dispatch(self, request, *args, **kwargs):
        if not (is_governance(request.user) or user_team_ids(request.user)):
            raise PermissionDenied("Governance and team members add MLflow servers.")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return render(request, "connectors/server_form.html", {"form": ServerForm(user=request.user)})

    def post(self, request):
        form = ServerForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                server = services.server_create(
                    actor=request.user,
                    name=data["name"],
                    url=data["url"],
                    team=data["team"],
                    token=data["token"],
                    token_env=data["token_env"],
                    import_prompts=data["import_prompts"],
                )
            except ValidationError as error:
                _errors_into(form, error)
            else:
                messages.success(
                    request,
                    f"Added {server.name}. Link its models to features below, then sync; set up MLflow's webhook with "
                    "the address and secret shown here.",
                )
                request.session[SECRET_ONCE] = server.pk
                return redirect(server.get_absolute_url() + "#webhook")
        return render(request, "connectors/server_form.html", {"form": form}, status=422)


class ServerDetailView(View):
    def get(self, request, pk, link_form=None, mapping_forms=None, status=200):
        server = _server_or_404(request, pk)
        manage = can_manage_server(request.user, server)
        links = list(selectors.links_of(server, request.user))
        show_secret = manage and request.session.pop(SECRET_ONCE, None) == server.pk
        return render(
            request,
            "connectors/server_detail.html",
            {
                "server": server,
                "can_manage": manage,
                "links": links,
                "lineage": selectors.lineage_of(server, request.user),
                "prompts": list(server.prompt_lineages.select_related("prompt_version")[:50]),
                "drift": [f for f in selectors.open_drift_visible_to(request.user) if f.link.server_id == server.pk],
                "link_form": link_form or LinkForm(features=_linkable_features(request.user, server)),
                "mapping_forms": mapping_forms or {},
                "mapping_blank": MappingForm(),
                "webhook_url": request.build_absolute_uri(reverse("connectors-webhook", args=[server.pk])),
                "webhook_secret": server.webhook_secret if show_secret else "",
            },
            status=status,
        )


class ServerEditView(View):
    def _server(self, request, pk):
        server = _server_or_404(request, pk)
        if not can_manage_server(request.user, server):
            raise PermissionDenied("Only governance and the server's team manage this MLflow connector.")
        return server

    def get(self, request, pk):
        server = self._server(request, pk)
        form = ServerForm(
            user=request.user,
            editing=True,
            initial={
                "name": server.name,
                "url": server.url,
                "token_env": server.token_env,
                "active": server.active,
                "import_prompts": server.import_prompts,
            },
        )
        return render(request, "connectors/server_form.html", {"form": form, "server": server})

    def post(self, request, pk):
        server = self._server(request, pk)
        form = ServerForm(request.POST, user=request.user, editing=True)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.server_update(
                    actor=request.user,
                    server=server,
                    name=data["name"],
                    url=data["url"],
                    token=data["token"],
                    token_env=data["token_env"],
                    active=data["active"],
                    clear_token=data["clear_token"],
                    import_prompts=data["import_prompts"],
                )
            except ValidationError as error:
                _errors_into(form, error)
            else:
                messages.success(request, f"Saved {data['name']}.")
                return redirect(server.get_absolute_url())
        return render(request, "connectors/server_form.html", {"form": form, "server": server}, status=422)


class _ManageAction(View):
    """POST-only actions on a server the user manages."""

    def server(self, request, pk) -> MlflowServer:
        server = _server_or_404(request, pk)
        if not can_manage_server(request.user, server):
            raise PermissionDenied("Only governance and the server's team manage this MLflow connector.")
        return server


class SyncNowView(_ManageAction):
    def post(self, request, pk):
        server = self.server(request, pk)
        tasks.sync_one.delay(server.pk, "by hand")
        messages.success(request, "Sync started: new versions appear below as they are imported.")
        return redirect(server.get_absolute_url())


class RotateSecretView(_ManageAction):
    def post(self, request, pk):
        server = self.server(request, pk)
        services.webhook_secret_rotate(actor=request.user, server=server)
        messages.success(request, "New webhook secret: set it on MLflow's webhook now; the old one no longer works.")
        request.session[SECRET_ONCE] = server.pk
        return redirect(server.get_absolute_url() + "#webhook")


class LinkCreateView(_ManageAction):
    def post(self, request, pk):
        server = self.server(request, pk)
        form = LinkForm(request.POST, features=_linkable_features(request.user, server))
        if form.is_valid():
            try:
                link = services.link_create(actor=request.user, server=server, **form.cleaned_data)
            except ValidationError as error:
                _errors_into(form, error)
            else:
                messages.success(
                    request, f"{link.model_name} now feeds {link.feature.name}. Sync to import its versions."
                )
                return redirect(server.get_absolute_url() + "#links")
        return ServerDetailView().get(request, pk, link_form=form, status=422)


def _link_for(request, pk) -> MlflowModelLink:
    link = get_object_or_404(
        MlflowModelLink.objects.select_related("server", "feature"),
        pk=pk,
        feature__in=features_visible_to(request.user),
    )
    if not can_manage_server(request.user, link.server):
        raise PermissionDenied("Only governance and the server's team manage this MLflow connector.")
    return link


class LinkDeleteView(View):
    def post(self, request, pk):
        link = _link_for(request, pk)
        server = link.server
        services.link_delete(actor=request.user, link=link)
        messages.success(request, f"{link.model_name} no longer feeds {link.feature.name}; imported versions stay.")
        return redirect(server.get_absolute_url() + "#links")


class MappingSetView(View):
    def post(self, request, pk):
        link = _link_for(request, pk)
        form = MappingForm(request.POST)
        if form.is_valid():
            try:
                services.mapping_set(actor=request.user, link=link, **form.cleaned_data)
            except ValidationError as error:
                _errors_into(form, error)
            else:
                messages.success(
                    request, f"“{form.cleaned_data['metric']}” becomes a {form.cleaned_data['kind']} evaluation."
                )
                return redirect(link.server.get_absolute_url() + f"#link-{link.pk}")
        return ServerDetailView().get(request, link.server_id, mapping_forms={link.pk: form}, status=422)


class MappingDeleteView(View):
    def post(self, request, pk):
        mapping = get_object_or_404(MetricMapping.objects.select_related("link__server", "link__feature"), pk=pk)
        link = _link_for(request, mapping.link_id)
        services.mapping_delete(actor=request.user, mapping=mapping)
        messages.success(request, f"“{mapping.metric}” is no longer imported.")
        return redirect(link.server.get_absolute_url() + f"#link-{link.pk}")


@method_decorator(csrf_exempt, name="dispatch")
class WebhookView(View):
    """MLflow's webhook deliveries. The credential is the HMAC signature with the server's secret (MLflow sends
    no token): anything unsigned, wrongly signed or older than five minutes is 401, an unknown server 404."""

    def post(self, request, pk):
        server = MlflowServer.objects.filter(pk=pk).first()
        if server is None:
            return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
        body = request.body
        try:
            services.webhook_verify(
                server,
                signature=request.headers.get("X-MLflow-Signature", ""),
                delivery_id=request.headers.get("X-MLflow-Delivery-Id", ""),
                timestamp=request.headers.get("X-MLflow-Timestamp", ""),
                body=body,
            )
        except services.WebhookRefused:
            return JsonResponse(
                {"detail": "Invalid or missing signature.", "code": "authentication_failed"}, status=401
            )
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return JsonResponse({"detail": "The body is not JSON.", "code": "parse_error"}, status=400)
        event = f"{payload.get('entity', '')}.{payload.get('action', '')}" if isinstance(payload, dict) else ""
        if event in services.WEBHOOK_EVENTS:
            with audit_context(source="api"):
                tasks.sync_one.delay(server.pk, f"webhook {event}")
            return JsonResponse({"accepted": event}, status=202)
        return HttpResponse(status=204)  # an event Gatehouse does not follow: nothing to do
