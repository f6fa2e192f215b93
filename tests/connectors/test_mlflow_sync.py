"""The MLflow connector against a real MLflow server: versions imported with their lineage and mapped
metrics, idempotently; problems shown on the connector, never a half-imported version; MLflow's signed
webhooks; and the drift check when a deploying alias moves outside Gatehouse."""

import time

import pytest

from connectors import services
from connectors.models import DriftFinding, MlflowLineage, MlflowServer
from registry.models import Evaluation, FeatureVersion, Notification
from registry.services import version_submit

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def first_version(new_version):
    """Version 1 of claims-triage (its prompt and policy pack are what imports start from)."""
    return new_version(summary="The hand-made first version.")


@pytest.fixture
def connector(mlflow_server, ml_engineer, feature, pins, model_name, first_version):
    server = services.server_create(actor=ml_engineer, name="ML platform", url=mlflow_server.url, team=feature.team)
    link = services.link_create(
        actor=ml_engineer, server=server, model_name=model_name, feature=feature, catalog_model=pins["model"]
    )
    services.mapping_set(actor=ml_engineer, link=link, metric="accuracy", kind="benchmark", threshold=0.85)
    return server, link


def test_versions_import_with_lineage_and_evaluations_once(mlflow_server, connector, model_name, feature):
    server, link = connector
    first = mlflow_server.register(model_name, {"accuracy": 0.91, "latency_ms": 840})
    second = mlflow_server.register(model_name, {"accuracy": 0.82})

    outcome = services.sync_server(server)

    assert outcome.ok, outcome.problems
    assert [version.number for version in outcome.imported] == [2, 3]
    imported = FeatureVersion.objects.get(feature=feature, number=2)
    assert imported.status == "draft"
    assert imported.parameters["mlflow"]["version"] == first["version"]
    assert imported.parameters["mlflow"]["run_id"] == first["run_id"]
    assert imported.mlflow_lineage.source == first["source"]
    assert "Imported from MLflow" in imported.change_summary
    evaluation = Evaluation.objects.get(version=imported)
    assert (evaluation.kind, evaluation.metric, evaluation.score, evaluation.passed) == (
        "benchmark",
        "accuracy",
        0.91,
        True,
    )
    assert first["run_id"] in evaluation.artifact_url
    assert Evaluation.objects.get(version__number=3, version__feature=feature).passed is False  # 0.82 < 0.85
    assert second["run_id"] == FeatureVersion.objects.get(feature=feature, number=3).mlflow_lineage.run_id

    # However often it runs, each MLflow version is imported once.
    assert services.sync_server(server).imported == []
    mlflow_server.register(model_name, {"accuracy": 0.93})
    assert [version.number for version in services.sync_server(server).imported] == [4]
    assert MlflowLineage.objects.filter(link=link).count() == 3
    server.refresh_from_db()
    assert server.last_success_at is not None and server.last_error == ""


def test_problems_are_shown_on_the_connector_and_nothing_is_half_imported(
    mlflow_server, connector, model_name, feature, ml_engineer, pins
):
    server, link = connector
    mlflow_server.register(model_name, {"precision": 0.9})  # no "accuracy": the mapped metric is missing
    gone = f"{model_name}-gone"
    mlflow_server.register(gone, {"accuracy": 0.9})
    other = services.link_create(
        actor=ml_engineer, server=server, model_name=gone, feature=feature, catalog_model=pins["model"]
    )
    mlflow_server.delete_model(gone)

    outcome = services.sync_server(server)

    assert len(outcome.imported) == 1  # the other link still imported
    server.refresh_from_db()
    other.refresh_from_db()
    assert "does not exist in MLflow" in other.last_error
    assert "has no metric “accuracy”" in server.last_error
    assert server.last_success_at is None  # the deleted model is a problem; the missing metric only a warning
    assert not Evaluation.objects.filter(version__feature=feature, version__number=2).exists()


def test_a_server_that_does_not_answer_is_an_error_not_a_crash(connector, feature):
    server, _link = connector
    MlflowServer.objects.filter(pk=server.pk).update(url="http://127.0.0.1:9")  # nothing listens there
    server.refresh_from_db()

    outcome = services.sync_server(server)

    assert not outcome.ok
    server.refresh_from_db()
    assert "did not answer" in server.last_error
    assert server.last_attempt_at is not None and server.last_success_at is None
    assert feature.versions.count() == 1


def test_mlflow_webhooks_import_at_once_and_forged_ones_are_refused(
    mlflow_server, connector, model_name, feature, live_server, client
):
    server, _link = connector
    hook = f"{live_server.url}/api/v1/connectors/mlflow/{server.pk}/webhook/"
    mlflow_server.run(
        'client.create_webhook(name=values["n"], url=values["u"], events=["model_version.created", '
        '"model_version_alias.created", "model_version_alias.deleted"], secret=values["s"])',
        n=f"gatehouse-{server.pk}",
        u=hook,
        s=server.webhook_secret,
    )

    mlflow_server.register(model_name, {"accuracy": 0.9})

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not MlflowLineage.objects.filter(link__server=server).exists():
        time.sleep(0.5)
    assert MlflowLineage.objects.filter(link__server=server).count() == 1

    forged = client.post(
        f"/api/v1/connectors/mlflow/{server.pk}/webhook/",
        data=b'{"entity": "model_version", "action": "created", "data": {}}',
        content_type="application/json",
        HTTP_X_MLFLOW_SIGNATURE="v1,AAAA",
        HTTP_X_MLFLOW_DELIVERY_ID="x",
        HTTP_X_MLFLOW_TIMESTAMP=str(int(time.time())),
    )
    assert forged.status_code == 401
    stale = str(int(time.time()) - 3600)
    body = b'{"entity": "model_version", "action": "created", "data": {}}'
    replayed = client.post(
        f"/api/v1/connectors/mlflow/{server.pk}/webhook/",
        data=body,
        content_type="application/json",
        HTTP_X_MLFLOW_SIGNATURE=services.webhook_signature(server.webhook_secret, "d1", stale, body),
        HTTP_X_MLFLOW_DELIVERY_ID="d1",
        HTTP_X_MLFLOW_TIMESTAMP=stale,
    )
    assert replayed.status_code == 401


def test_an_alias_moved_outside_gatehouse_opens_a_drift_finding(
    mlflow_server, connector, model_name, feature, go_live, ml_engineer, product_owner
):
    server, link = connector
    link.alias = "champion"
    link.save(update_fields=["alias"])
    approved = mlflow_server.register(model_name, {"accuracy": 0.93})
    [imported] = services.sync_server(server).imported
    go_live(version_submit(actor=ml_engineer, version=imported))
    mlflow_server.set_alias(model_name, "champion", approved["version"])
    assert services.sync_server(server).drift_opened == []  # the alias points at what is live

    unapproved = mlflow_server.register(model_name, {"accuracy": 0.95})
    mlflow_server.set_alias(model_name, "champion", unapproved["version"])
    outcome = services.sync_server(server)

    [finding] = outcome.drift_opened
    assert finding.mlflow_version == unapproved["version"] and finding.is_open
    assert "moved outside Gatehouse" in finding.detail
    assert Notification.objects.filter(user=product_owner, subject__contains="moved outside Gatehouse").exists()
    assert services.sync_server(server).drift_opened == []  # still open: not opened twice

    mlflow_server.set_alias(model_name, "champion", approved["version"])
    assert services.sync_server(server).drift_closed == 1
    assert not DriftFinding.objects.filter(closed_at__isnull=True).exists()


def test_a_metric_the_run_did_not_log_is_a_warning_the_sync_still_succeeds(mlflow_server, connector, model_name):
    server, _link = connector
    mlflow_server.register(model_name, {"acc": 0.9})  # logged under another name than the mapping's

    outcome = services.sync_server(server)

    assert outcome.ok and len(outcome.imported) == 1
    server.refresh_from_db()
    assert server.last_success_at is not None
    assert "has no metric “accuracy”" in server.last_error


def test_a_pipeline_imports_one_mlflow_version_by_its_uri(mlflow_server, connector, model_name, feature, ml_engineer):
    from rest_framework.test import APIClient

    from registry.services.tokens import api_token_create

    server, _link = connector
    registered = mlflow_server.register(model_name, {"accuracy": 0.9})
    _, raw = api_token_create(actor=ml_engineer, user=ml_engineer, name="ci", scopes=["ci_write"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    uri = f"models:/{model_name}/{registered['version']}"

    created = api.post("/api/v1/mlflow/imports/", {"model_uri": uri}, format="json")
    again = api.post("/api/v1/mlflow/imports/", {"model_uri": uri}, format="json")

    assert created.status_code == 201, created.content
    assert created.json()["number"] == 2 and created.json()["status"] == "draft"
    assert again.status_code == 200 and again.json()["number"] == 2
    assert Evaluation.objects.filter(version__feature=feature, version__number=2, metric="accuracy").count() == 1
    missing = api.post("/api/v1/mlflow/imports/", {"model_uri": f"models:/{model_name}/99"}, format="json")
    assert missing.status_code == 400 and "has no" in str(missing.json())
    malformed = api.post("/api/v1/mlflow/imports/", {"model_uri": "runs:/abc/model"}, format="json")
    assert malformed.status_code == 400 and malformed.json()["code"] == "invalid"
    MlflowServer.objects.filter(pk=server.pk).update(url="http://127.0.0.1:9")
    down = api.post("/api/v1/mlflow/imports/", {"model_uri": f"models:/{model_name}/1"}, format="json")
    assert down.status_code == 200  # already imported: answered without asking MLflow
    mlflow_server.register(model_name, {"accuracy": 0.91})
    unreachable = api.post("/api/v1/mlflow/imports/", {"model_uri": f"models:/{model_name}/2"}, format="json")
    assert unreachable.status_code == 503 and unreachable.json()["code"] == "unavailable"


def test_the_command_line_creates_a_version_from_mlflow(
    mlflow_server, connector, model_name, feature, ml_engineer, live_server
):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    from registry.services.tokens import api_token_create

    registered = mlflow_server.register(model_name, {"accuracy": 0.92})
    _, raw = api_token_create(actor=ml_engineer, user=ml_engineer, name="ci", scopes=["read", "ci_write"])
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GATEHOUSE_")}}
    env.update(GATEHOUSE_URL=live_server.url, GATEHOUSE_TOKEN=raw)
    command = [str(Path(sys.prefix) / "bin" / "gatehouse"), "version", "create"]

    done = subprocess.run(
        [*command, "--from-mlflow", f"models:/{model_name}/{registered['version']}", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    mixed = subprocess.run(
        [*command, "--from-mlflow", f"models:/{model_name}/1", "--model", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    version = json.loads(done.stdout)
    assert version["number"] == 2 and version["status"] == "draft"
    assert FeatureVersion.objects.get(feature=feature, number=2).mlflow_lineage.run_id == registered["run_id"]
    assert mixed.returncode == 2 and "leave out --model" in mixed.stderr


def test_prompts_from_mlflows_prompt_registry_become_catalog_prompts_once(mlflow_server, connector, model_name):
    from registry.models import PromptVersion

    server, _link = connector
    server.import_prompts = True
    server.save(update_fields=["import_prompts"])
    mlflow_server.register(model_name, {"accuracy": 0.9})
    prompt = f"{model_name}-prompt"
    for template in ("Sort this claim: {{claim}}", "Sort this claim by urgency: {{claim}}"):
        mlflow_server.run('mlflow.genai.register_prompt(name=values["n"], template=values["t"])', n=prompt, t=template)

    outcome = services.sync_server(server)

    assert outcome.ok, outcome.problems
    versions = list(PromptVersion.objects.filter(name=prompt).order_by("version"))
    assert [(v.version, v.template) for v in versions] == [
        (1, "Sort this claim: {{claim}}"),
        (2, "Sort this claim by urgency: {{claim}}"),
    ]
    assert versions[1].mlflow_lineage.mlflow_version == "2"
    assert services.sync_server(server).prompts == []  # once
