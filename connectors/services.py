"""The connectors' one write path: registering MLflow servers, linking their models to features, mapping
run metrics to evaluations, importing versions, and the drift check. Pages, the API, the webhook receiver
and the Celery tasks all call these; each checks permissions, locks what it changes and writes its audit
event in the same transaction. Imports act as the server's ``run_as`` person through the registry's own
services (``version_create``, ``evaluation_record``), so they meet the same rules as a person typing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors.mlflow_api import MlflowClient, MlflowError, MlflowNotFound
from connectors.models import (
    DriftFinding,
    MetricMapping,
    MlflowLineage,
    MlflowModelLink,
    MlflowPromptLineage,
    MlflowServer,
)
from connectors.permissions import can_add_server, can_manage_server
from registry.choices import EvaluationKind
from registry.models import Deployment, FeatureVersion
from registry.permissions import can_edit_feature
from registry.services import evaluation_record, notify, prompt_version_create, version_create
from registry.services.audit import audit_record

log = logging.getLogger("gatehouse.connectors")

WEBHOOK_TOLERANCE_SECONDS = 300  # a delivery older (or newer) than this is refused: no replays
WEBHOOK_EVENTS = {
    "model_version.created",
    "model_version_alias.created",
    "model_version_alias.deleted",
    "prompt_version.created",
}


def _server_payload(server: MlflowServer) -> dict:
    return {
        "name": server.name,
        "url": server.url,
        "team": server.team.slug if server.team_id else None,
        "token": "environment variable " + server.token_env
        if server.token_env
        else ("set" if server.token else "none"),
        "run_as": server.run_as.get_username(),
        "active": server.active,
        "import_prompts": server.import_prompts,
    }


def _require_manager(actor, server: MlflowServer) -> None:
    if not can_manage_server(actor, server):
        raise PermissionDenied("Only governance and the server's team manage this MLflow connector.")


# --- Servers ------------------------------------------------------------------------------------------


def server_create(
    *, actor, name: str, url: str, team=None, token: str = "", token_env: str = "", import_prompts: bool = False
) -> MlflowServer:
    if not can_add_server(actor, team):
        raise PermissionDenied("Governance adds MLflow servers for anyone; a team's members for their team.")
    if token and token_env:
        raise ValidationError({"token_env": "Give the token or the environment variable holding it, not both."})
    server = MlflowServer(
        name=name.strip(),
        url=url.strip().rstrip("/"),
        team=team,
        token=token,
        token_env=token_env.strip(),
        webhook_secret=secrets.token_urlsafe(32),
        run_as=actor,
        import_prompts=import_prompts,
    )
    server.full_clean()
    with transaction.atomic():
        server.save()
        audit_record(
            actor=actor, action="mlflow_server.created", target=server, payload={"new": _server_payload(server)}
        )
    return server


def server_update(
    *,
    actor,
    server: MlflowServer,
    name: str,
    url: str,
    token: str = "",
    token_env: str = "",
    active: bool = True,
    clear_token: bool = False,
    import_prompts: bool = False,
) -> MlflowServer:
    """Change a server. An empty ``token`` keeps the stored one (it is never shown again) unless
    ``clear_token``; a ``token_env`` replaces a stored token."""
    _require_manager(actor, server)
    if token and token_env:
        raise ValidationError({"token_env": "Give the token or the environment variable holding it, not both."})
    with transaction.atomic():
        locked = MlflowServer.objects.select_for_update().get(pk=server.pk)
        before = _server_payload(locked)
        locked.name, locked.url, locked.active = name.strip(), url.strip().rstrip("/"), active
        locked.import_prompts = import_prompts
        if token:
            locked.token, locked.token_env = token, ""
        elif token_env:
            locked.token, locked.token_env = "", token_env.strip()
        elif clear_token:
            locked.token, locked.token_env = "", ""
        locked.full_clean()
        locked.save()
        after = _server_payload(locked)
        changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
        if token and before["token"] == after["token"]:
            changes["token"] = ["replaced", "replaced"]
        if changes:
            audit_record(actor=actor, action="mlflow_server.updated", target=locked, payload={"changes": changes})
    return locked


def webhook_secret_rotate(*, actor, server: MlflowServer) -> str:
    _require_manager(actor, server)
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        locked = MlflowServer.objects.select_for_update().get(pk=server.pk)
        locked.webhook_secret = secret
        locked.save(update_fields=["webhook_secret"])
        audit_record(actor=actor, action="mlflow_server.secret_rotated", target=locked, payload={})
    return secret


# --- Links and metric mappings ----------------------------------------------------------------------


def link_create(
    *,
    actor,
    server: MlflowServer,
    model_name: str,
    feature,
    catalog_model,
    alias: str = "",
    environment: str = "production",
) -> MlflowModelLink:
    _require_manager(actor, server)
    if not can_edit_feature(actor, feature):
        raise PermissionDenied(f"Only the team that owns {feature} and governance link models to it.")
    if server.team_id is not None and feature.team_id != server.team_id:
        raise ValidationError({"feature": "A team's MLflow server feeds only that team's features."})
    link = MlflowModelLink(
        server=server,
        model_name=model_name.strip(),
        feature=feature,
        catalog_model=catalog_model,
        alias=alias.strip().lstrip("@"),
        environment=environment,
    )
    link.full_clean()
    with transaction.atomic():
        link.save()
        audit_record(
            actor=actor,
            action="mlflow_link.created",
            target=link,
            feature=feature,
            payload={
                "new": {
                    "server": server.name,
                    "model": link.model_name,
                    "feature": feature.slug,
                    "catalog_model": str(catalog_model),
                    "alias": link.alias,
                    "environment": environment,
                }
            },
        )
    return link


def link_delete(*, actor, link: MlflowModelLink) -> None:
    _require_manager(actor, link.server)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="mlflow_link.deleted",
            target=link,
            feature=link.feature,
            payload={"model": link.model_name, "feature": link.feature.slug},
        )
        link.delete()


def mapping_set(
    *, actor, link: MlflowModelLink, metric: str, kind: str, threshold: float, higher_is_better: bool = True
) -> MetricMapping:
    """Map a run metric to an evaluation kind with its threshold and direction (creates or replaces)."""
    _require_manager(actor, link.server)
    if kind not in EvaluationKind.values:
        raise ValidationError({"kind": "Choose an evaluation kind."})
    metric = metric.strip()
    if not metric:
        raise ValidationError({"metric": "Name the run metric, as MLflow logs it."})
    with transaction.atomic():
        mapping, created = MetricMapping.objects.select_for_update().get_or_create(
            link=link,
            metric=metric,
            defaults={"kind": kind, "threshold": threshold, "higher_is_better": higher_is_better},
        )
        before = (
            None
            if created
            else {"kind": mapping.kind, "threshold": mapping.threshold, "higher_is_better": mapping.higher_is_better}
        )
        mapping.kind, mapping.threshold, mapping.higher_is_better = kind, threshold, higher_is_better
        mapping.save()
        after = {"kind": kind, "threshold": threshold, "higher_is_better": higher_is_better}
        if before != after:
            audit_record(
                actor=actor,
                action="mlflow_mapping.set",
                target=link,
                feature=link.feature,
                payload={"metric": metric, "old": before, "new": after},
            )
    return mapping


def mapping_delete(*, actor, mapping: MetricMapping) -> None:
    _require_manager(actor, mapping.link.server)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="mlflow_mapping.deleted",
            target=mapping.link,
            feature=mapping.link.feature,
            payload={"metric": mapping.metric},
        )
        mapping.delete()


# --- Sync: import and drift ------------------------------------------------------------------------------


@dataclass
class SyncOutcome:
    imported: list[FeatureVersion] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the sync failed there
    warnings: list[str] = field(default_factory=list)  # imported, but something to fix (a metric not logged)
    drift_opened: list[DriftFinding] = field(default_factory=list)
    prompts: list = field(default_factory=list)  # catalog prompt versions imported
    drift_closed: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def sync_server(server: MlflowServer, *, trigger: str = "schedule") -> SyncOutcome:
    """Import every new MLflow version of each linked model, turn mapped metrics into evaluations, and check
    each deploying alias. One version's import is all or nothing; a problem with one link is recorded on it
    and the others go on. The server keeps the time of the last attempt, of the last success and the error."""
    outcome = SyncOutcome()
    client = MlflowClient.for_server(server)
    MlflowServer.objects.filter(pk=server.pk).update(last_attempt_at=timezone.now())
    try:
        client.ping()
    except MlflowError as error:
        outcome.problems.append(str(error))
        MlflowServer.objects.filter(pk=server.pk).update(last_error=str(error)[:2000])
        return outcome
    if server.import_prompts:
        try:
            outcome.prompts += _import_prompts(server, client, outcome)
        except MlflowError as error:
            outcome.problems.append(f"Prompts: {error}")
        except (PermissionDenied, ValidationError) as error:
            outcome.problems.append(f"Prompts: {_sentence(error)}")
    for link in server.links.select_related("feature", "catalog_model").prefetch_related("mappings"):
        try:
            outcome.imported += _import_link(server, link, client, outcome)
            _check_drift(server, link, client, outcome)
        except MlflowNotFound:
            _link_problem(
                link, f"The model “{link.model_name}” does not exist in MLflow (deleted or renamed?).", outcome
            )
        except MlflowError as error:
            _link_problem(link, str(error), outcome)
            if not isinstance(error, MlflowNotFound) and _server_wide(error):
                break
        except (PermissionDenied, ValidationError) as error:
            _link_problem(link, _sentence(error), outcome)
        else:
            if link.last_error and not any(
                problem.startswith(f"{link.model_name}:") for problem in [*outcome.problems, *outcome.warnings]
            ):
                MlflowModelLink.objects.filter(pk=link.pk).update(last_error="")
    now = timezone.now()
    shown = "\n".join([*outcome.problems, *outcome.warnings])[:2000]
    if outcome.ok:
        MlflowServer.objects.filter(pk=server.pk).update(last_success_at=now, last_error=shown)
    else:
        MlflowServer.objects.filter(pk=server.pk).update(last_error=shown)
    log.info(
        "mlflow sync of %s (%s): %d imported, %d problems",
        server.name,
        trigger,
        len(outcome.imported),
        len(outcome.problems),
    )
    return outcome


def _server_wide(error: MlflowError) -> bool:
    from connectors.mlflow_api import MlflowAuthFailed, MlflowUnreachable

    return isinstance(error, (MlflowAuthFailed, MlflowUnreachable))


def _sentence(error) -> str:
    if isinstance(error, ValidationError):
        messages = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
        return "; ".join(f"{key}: {' '.join(value)}" if key else " ".join(value) for key, value in messages.items())
    return str(error)


def _link_problem(link: MlflowModelLink, message: str, outcome: SyncOutcome) -> None:
    outcome.problems.append(f"{link.model_name}: {message}")
    MlflowModelLink.objects.filter(pk=link.pk).update(last_error=message[:2000])


def _version_number(model_version: dict) -> int:
    try:
        return int(model_version.get("version", 0))
    except (TypeError, ValueError):
        return 0


def _import_link(server, link, client: MlflowClient, outcome: SyncOutcome) -> list[FeatureVersion]:
    imported = []
    known = set(link.lineages.values_list("model_version", flat=True))
    versions = sorted(client.model_versions(link.model_name), key=_version_number)
    for model_version in versions:
        number = str(model_version.get("version", ""))
        if not number or number in known or model_version.get("status", "READY") != "READY":
            continue
        run = client.run(model_version["run_id"]) if model_version.get("run_id") else {}
        metrics = _latest_metrics(run)
        missing = [mapping.metric for mapping in link.mappings.all() if mapping.metric not in metrics]
        version = _import_version(server, link, model_version, run, metrics, client)
        if version is None:
            continue
        imported.append(version)
        if missing:
            outcome.warnings.append(
                f"{link.model_name}: version {number} was imported, but its run has no metric "
                + ", ".join(f"“{name}”" for name in missing)
                + " (check the mapping's spelling)."
            )
    return imported


def _latest_metrics(run: dict) -> dict[str, dict]:
    latest: dict[str, dict] = {}
    for metric in run.get("data", {}).get("metrics", []) or []:
        key = metric.get("key")
        if key and (key not in latest or int(metric.get("step", 0)) >= int(latest[key].get("step", 0))):
            latest[key] = metric
    return latest


def _import_version(server, link, model_version: dict, run: dict, metrics: dict, client) -> FeatureVersion | None:
    """One MLflow version → one draft version with lineage and its mapped evaluations, all or nothing."""
    feature = link.feature
    number = str(model_version["version"])
    base = feature.versions.order_by("-number").first()
    if base is None:
        raise ValidationError(
            f"{feature} has no version yet to take its prompt and policy pack from: create version 1 first."
        )
    lineage = {
        "model": link.model_name,
        "version": number,
        "run_id": model_version.get("run_id") or "",
        "source": model_version.get("source") or "",
        "logged_model": model_version.get("model_id") or "",
        "server": server.url,
    }
    parameters = {**(base.parameters or {}), "mlflow": lineage}
    run_link = client.run_link(run) if run else ""
    try:
        with transaction.atomic():
            version = version_create(
                actor=server.run_as,
                feature=feature,
                model=link.catalog_model,
                prompt=base.prompt,
                policy_pack=base.policy_pack,
                fallback_models=[fallback.model for fallback in base.fallbacks.order_by("position")],
                datasets=[(link_row.dataset, link_row.usage) for link_row in base.dataset_links.all()],
                tools=base.tools,
                parameters=parameters,
                retrieval_index=base.retrieval_index,
                parent=base,
                change_summary=f"Imported from MLflow: {link.model_name} version {number}"
                + (f" (run {lineage['run_id']})." if lineage["run_id"] else "."),
            )
            MlflowLineage.objects.create(
                version=version,
                link=link,
                model_version=number,
                run_id=lineage["run_id"],
                source=lineage["source"][:1000],
                logged_model_id=lineage["logged_model"][:100],
            )
            for mapping in link.mappings.all():
                metric = metrics.get(mapping.metric)
                if metric is None:
                    continue
                evaluation_record(
                    actor=server.run_as,
                    version=version,
                    kind=mapping.kind,
                    suite=f"mlflow:{link.model_name}",
                    metric=mapping.metric,
                    score=float(metric["value"]),
                    threshold=mapping.threshold,
                    higher_is_better=mapping.higher_is_better,
                    run_at=_when(metric.get("timestamp")),
                    artifact_url=run_link,
                    notes=f"From MLflow run {lineage['run_id']}.",
                )
            audit_record(
                actor=server.run_as,
                action="mlflow.version_imported",
                target=version,
                feature=feature,
                payload={
                    "mlflow": lineage,
                    "evaluations": sorted(set(metrics) & {m.metric for m in link.mappings.all()}),
                },
            )
    except IntegrityError:  # imported meanwhile by another sync (a webhook and the schedule at once)
        return None
    return version


PROMPT_TEXT_TAG = "mlflow.prompt.text"


def _tags(entity: dict) -> dict[str, str]:
    tags = entity.get("tags") or []
    if isinstance(tags, dict):
        return tags
    return {tag.get("key"): tag.get("value") for tag in tags if isinstance(tag, dict)}


def _import_prompts(server, client: MlflowClient, outcome: SyncOutcome) -> list:
    """Each new version of each MLflow prompt becomes the next version of the catalog prompt of that name,
    with its template, once (the lineage remembers which MLflow version it was)."""
    imported = []
    known = set(MlflowPromptLineage.objects.filter(server=server).values_list("name", "mlflow_version"))
    for prompt in client.prompts():
        name = prompt.get("name", "")
        versions = sorted(client.prompt_versions(name), key=_version_number)
        for prompt_version in versions:
            number = str(prompt_version.get("version", ""))
            template = _tags(prompt_version).get(PROMPT_TEXT_TAG, "")
            if not name or not number or (name, number) in known:
                continue
            if not template.strip():
                outcome.warnings.append(f"Prompt {name} version {number} has no template in MLflow: not imported.")
                continue
            try:
                with transaction.atomic():
                    created = prompt_version_create(
                        actor=server.run_as,
                        name=name,
                        template=template,
                        notes=f"Imported from MLflow ({server.name}): {name} version {number}.",
                    )
                    MlflowPromptLineage.objects.create(
                        prompt_version=created, server=server, name=name, mlflow_version=number
                    )
                    audit_record(
                        actor=server.run_as,
                        action="mlflow.prompt_imported",
                        target=created,
                        payload={"prompt": name, "mlflow_version": number, "version": created.version},
                    )
            except IntegrityError:  # imported meanwhile
                continue
            known.add((name, number))
            imported.append(created)
    return imported


def _when(timestamp_ms) -> datetime:
    try:
        moment = datetime.fromtimestamp(int(timestamp_ms) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return timezone.now()
    return min(moment, timezone.now())


def _check_drift(server, link, client: MlflowClient, outcome: SyncOutcome) -> None:
    """Where the link names a deploying alias, does MLflow point it at what Gatehouse has live?"""
    if not link.alias:
        return
    target = client.alias_version(link.model_name, link.alias)
    live_versions = list(
        Deployment.objects.filter(feature=link.feature, environment=link.environment).select_related("version")
    )
    live_numbers = {
        lineage.model_version: lineage.version
        for lineage in MlflowLineage.objects.filter(link=link, version__in=[d.version_id for d in live_versions])
    }
    drifted = target is not None and str(target.get("version")) not in live_numbers
    with transaction.atomic():
        current = DriftFinding.objects.select_for_update().filter(link=link, closed_at__isnull=True).first()
        if current is not None and (not drifted or current.mlflow_version != str(target.get("version"))):
            current.closed_at = timezone.now()
            current.save(update_fields=["closed_at"])
            audit_record(
                actor=None,
                action="mlflow.drift_closed",
                target=current,
                feature=link.feature,
                payload={"alias": link.alias, "mlflow_version": current.mlflow_version},
            )
            outcome.drift_closed += 1
            current = None
        if drifted and current is None:
            number = str(target.get("version"))
            live = live_versions[0].version if live_versions else None
            detail = (
                f"MLflow's @{link.alias} of {link.model_name} points at version {number}, which Gatehouse has not "
                f"made live in {link.environment}"
                + (
                    f" (live: {live.label}, MLflow version " + ", ".join(sorted(live_numbers)) + ")."
                    if live and live_numbers
                    else f" (live: {live.label})."
                    if live
                    else " (nothing is live)."
                )
                + " It moved outside Gatehouse: request the gate for it, or move the alias back."
            )
            finding = DriftFinding.objects.create(
                link=link,
                feature=link.feature,
                alias=link.alias,
                mlflow_version=number,
                live_version=live,
                detail=detail,
            )
            audit_record(
                actor=None,
                action="mlflow.drift_opened",
                target=finding,
                feature=link.feature,
                payload={"alias": link.alias, "mlflow_version": number, "live": live.label if live else None},
            )
            feature = link.feature
            notify(
                users=[feature.accountable_owner, feature.incident_owner],
                subject=f"{feature}: MLflow @{link.alias} moved outside Gatehouse",
                body=detail,
                url=feature.get_absolute_url(),
                key=f"mlflow-drift:{finding.pk}",
            )
            outcome.drift_opened.append(finding)


MODEL_URI = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)$")


@dataclass
class Imported:
    version: FeatureVersion
    created: bool


def import_model_uri(*, actor, model_uri: str, feature_slug: str = "") -> Imported:
    """Import one MLflow version now, named ``models:/<name>/<version>`` (a pipeline's ``--from-mlflow``):
    through the link from that model to a feature the actor may change, on a server they manage. Importing
    it again answers the version made the first time."""
    match = MODEL_URI.match(model_uri.strip())
    if match is None:
        raise ValidationError({"model_uri": "Name the MLflow version as models:/<registered model>/<version number>."})
    name, number = match["name"], match["version"]
    links = [
        link
        for link in MlflowModelLink.objects.select_related("server__run_as", "feature", "catalog_model").filter(
            model_name=name, server__active=True
        )
        if can_manage_server(actor, link.server) and can_edit_feature(actor, link.feature)
    ]
    if feature_slug:
        links = [link for link in links if link.feature.slug == feature_slug]
    if not links:
        raise ValidationError(
            {
                "model_uri": f"No MLflow link of yours takes “{name}”: link it to a feature on an MLflow server's page first."
            }
        )
    if len(links) > 1:
        raise ValidationError(
            {
                "feature": f"“{name}” feeds several features: name one ({', '.join(sorted(link.feature.slug for link in links))})."
            }
        )
    link = links[0]
    existing = MlflowLineage.objects.filter(link=link, model_version=number).select_related("version").first()
    if existing is not None:
        return Imported(existing.version, created=False)
    client = MlflowClient.for_server(link.server)
    try:
        model_version = client.model_version(name, number)
        if model_version.get("status", "READY") != "READY":
            raise ValidationError({"model_uri": f"MLflow has not finished registering {model_uri}: try again shortly."})
        run = client.run(model_version["run_id"]) if model_version.get("run_id") else {}
    except MlflowNotFound:
        raise ValidationError({"model_uri": f"MLflow has no {model_uri}."}) from None
    # Any other MlflowError (down, token refused) goes to the caller: the API answers 503 with it.
    version = _import_version(link.server, link, model_version, run, _latest_metrics(run), client)
    if version is None:  # imported meanwhile
        return Imported(MlflowLineage.objects.get(link=link, model_version=number).version, created=False)
    return Imported(version, created=True)


# --- Webhooks ------------------------------------------------------------------------------------------------


class WebhookRefused(Exception):
    """A delivery that is not MLflow's, or too old: answered 401 without detail."""


def webhook_signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """MLflow's ``X-MLflow-Signature``: ``v1,`` + base64 of HMAC-SHA256 over ``"{delivery}.{timestamp}.{body}"``."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()


def webhook_verify(server: MlflowServer, *, signature: str, delivery_id: str, timestamp: str, body: bytes) -> None:
    if not (server.active and server.webhook_secret and signature and delivery_id and timestamp):
        raise WebhookRefused
    try:
        sent = int(timestamp)
    except ValueError:
        raise WebhookRefused from None
    if abs(time.time() - sent) > WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookRefused
    expected = webhook_signature(server.webhook_secret, delivery_id, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise WebhookRefused
