"""The connector pages: who may add and see a server, the token kept encrypted and never shown, the webhook
secret shown once, bad input kept with its errors, and the sync's problems on the page."""

import pytest
from django.db import connection
from django.urls import reverse

from connectors import services
from connectors.models import MlflowModelLink, MlflowServer
from registry.models import AuditEvent
from tests.factories import CatalogModelFactory, FeatureFactory, TeamFactory

pytestmark = pytest.mark.django_db


def add(client, **data):
    return client.post(reverse("connectors:server_create"), data)


def test_a_team_adds_its_server_the_token_is_encrypted_and_the_secret_shown_once(client, ml_engineer, team):
    client.force_login(ml_engineer)

    response = add(client, name="ML platform", url="http://127.0.0.1:5000", team=team.pk, token="s3cr3t-token")

    server = MlflowServer.objects.get()
    assert response.status_code == 302
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM connectors_mlflowserver WHERE id = %s", [server.pk])
        assert cursor.fetchone()[0].startswith("enc:v1:")
    assert server.token == "s3cr3t-token" and server.run_as == ml_engineer
    page = client.get(server.get_absolute_url()).content.decode()
    assert server.webhook_secret in page and "s3cr3t-token" not in page
    assert server.webhook_secret not in client.get(server.get_absolute_url()).content.decode()  # once
    event = AuditEvent.objects.get(action="mlflow_server.created")
    assert event.payload["new"]["token"] == "set" and "s3cr3t" not in str(event.payload)


def test_bad_input_is_kept_with_its_errors(client, ml_engineer, team):
    client.force_login(ml_engineer)

    response = add(client, name="ML platform", url="not a url", team=team.pk, token="t", token_env="MLFLOW_TOKEN")

    assert response.status_code == 422
    page = response.content.decode()
    assert "Enter a valid URL" in page and 'value="ML platform"' in page
    assert not MlflowServer.objects.exists()
    both = add(client, name="ML platform", url="http://mlflow.test", team=team.pk, token="t", token_env="MLFLOW_TOKEN")
    assert both.status_code == 422 and "not both" in both.content.decode()


def test_other_teams_neither_see_nor_manage_a_teams_server(client, ml_engineer, other_product_owner, outsider, team):
    server = services.server_create(actor=ml_engineer, name="ML platform", url="http://mlflow.test", team=team)

    client.force_login(other_product_owner)
    assert client.get(server.get_absolute_url()).status_code == 404
    assert "ML platform" not in client.get(reverse("connectors:server_list")).content.decode()
    assert client.post(reverse("connectors:server_sync", args=[server.pk])).status_code == 404
    client.force_login(outsider)
    assert client.get(reverse("connectors:server_create")).status_code == 403


def test_a_link_feeds_only_the_servers_teams_features_and_mappings_are_edited(
    client, ml_engineer, governance_admin, team
):
    server = services.server_create(actor=ml_engineer, name="ML platform", url="http://mlflow.test", team=team)
    own = FeatureFactory(team=team, slug="claims-triage")
    foreign = FeatureFactory(team=TeamFactory(), slug="fraud-scoring")
    model = CatalogModelFactory()
    client.force_login(governance_admin)

    refused = client.post(
        reverse("connectors:link_create", args=[server.pk]),
        {"model_name": "m", "feature": foreign.slug, "catalog_model": model.pk, "environment": "production"},
    )
    assert refused.status_code == 422 and "only that team's features" in refused.content.decode()
    created = client.post(
        reverse("connectors:link_create", args=[server.pk]),
        {
            "model_name": "claims-classifier",
            "feature": own.slug,
            "catalog_model": model.pk,
            "alias": "@champion",
            "environment": "production",
        },
    )
    assert created.status_code == 302
    link = MlflowModelLink.objects.get()
    assert link.alias == "champion"
    mapped = client.post(
        reverse("connectors:mapping_set", args=[link.pk]),
        {"metric": "accuracy", "kind": "benchmark", "threshold": "0.8", "higher_is_better": "on"},
    )
    assert mapped.status_code == 302
    bad = client.post(reverse("connectors:mapping_set", args=[link.pk]), {"metric": "", "kind": "nonsense"})
    assert bad.status_code == 422
    page = client.get(server.get_absolute_url()).content.decode()
    assert "claims-classifier" in page and "<code>accuracy</code>" in page


def test_the_last_problem_and_the_last_success_are_on_the_page(client, ml_engineer, team):
    server = services.server_create(actor=ml_engineer, name="ML platform", url="http://127.0.0.1:9", team=team)
    client.force_login(ml_engineer)
    assert "What went wrong" not in client.get(server.get_absolute_url()).content.decode()

    services.sync_server(server)  # even with no model linked, the server must answer

    page = client.get(server.get_absolute_url()).content.decode()
    assert "What went wrong at the last sync" in page and "did not answer" in page
    assert "No successful sync yet" in page
