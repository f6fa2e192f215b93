"""Odd or hostile input gets a clear answer and stores nothing: links, JSON numbers, filters, pages."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from registry.models import AIFeature, Notification
from registry.services import feature_update, notify, version_create
from registry.tasks import send_notification_emails
from tests.factories import CatalogModelFactory, FeatureFactory, PolicyPackFactory, PromptVersionFactory


@pytest.fixture
def feature(team):
    return FeatureFactory(slug="claims-triage", team=team)


@pytest.mark.parametrize("monitor", ["javascript:alert(document.cookie)", "data:text/html,hi", "ftp://example.test/x"])
def test_it_refuses_monitor_lines_that_are_not_http_links(product_owner, feature, monitor):
    with pytest.raises(ValidationError) as refused:
        feature_update(actor=product_owner, feature=feature, reason="add monitor", monitors=monitor)

    assert "monitors" in refused.value.message_dict
    assert AIFeature.objects.get(pk=feature.pk).monitors == ""


def test_a_stored_non_http_monitor_is_shown_as_text_not_as_a_link(client, product_owner, feature):
    AIFeature.objects.filter(pk=feature.pk).update(monitors="javascript:alert(1)\nhttps://grafana.example.test/d/1")
    client.force_login(product_owner)

    page = client.get(feature.get_absolute_url()).content.decode()

    assert 'href="javascript:' not in page
    assert 'href="https://grafana.example.test/d/1"' in page


def test_nan_in_parameters_is_refused_by_the_service(product_owner, feature):
    with pytest.raises(ValidationError) as refused:
        version_create(
            actor=product_owner,
            feature=feature,
            model=CatalogModelFactory(),
            prompt=PromptVersionFactory(),
            policy_pack=PolicyPackFactory(),
            change_summary="v1",
            parameters={"temperature": float("nan")},
        )
    assert "parameters" in refused.value.message_dict
    assert not feature.versions.exists()


def test_nan_in_the_parameters_box_is_a_form_error_that_keeps_the_text(client, product_owner, feature):
    client.force_login(product_owner)
    model, prompt, pack = CatalogModelFactory(), PromptVersionFactory(), PolicyPackFactory()

    response = client.post(
        reverse("registry:version_create", args=[feature.slug]),
        {
            "model": model.pk,
            "prompt": prompt.pk,
            "policy_pack": pack.pk,
            "change_summary": "v1",
            "parameters": '{"temperature": NaN}',
        },
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "NaN is not a number JSON allows" in page
    assert "{&quot;temperature&quot;: NaN}" in page
    assert not feature.versions.exists()


def test_the_api_answers_400_to_a_passed_filter_that_is_not_true_or_false(client, product_owner):
    client.force_login(product_owner)

    assert client.get("/api/v1/evaluations/", {"passed": "maybe"}).status_code == 400
    assert client.get("/api/v1/evaluations/", {"passed": "false"}).status_code == 200


def test_an_invalid_filter_value_is_explained_on_the_list_page(client, product_owner, feature):
    client.force_login(product_owner)

    page = client.get(reverse("registry:feature_list"), {"risk_tier": "extreme"}).content.decode()

    assert "Select a valid choice" in page
    assert "No feature matches these filters" in page


def test_each_notice_is_emailed_once_even_when_the_task_runs_twice(product_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        notices = notify(users=[product_owner], subject="Sign-off needed", url="/approvals/queue/", key="k1")

    send_notification_emails([notice.pk for notice in notices])
    send_notification_emails([notice.pk for notice in notices])

    assert len(mail.outbox) == 1
    assert Notification.objects.get().emailed_at <= timezone.now()


def test_the_same_key_never_notifies_the_same_person_twice(product_owner):
    notify(users=[product_owner], subject="Reminder", key="reminder:1:2026-11-23")
    notify(users=[product_owner], subject="Reminder", key="reminder:1:2026-11-23")

    assert Notification.objects.filter(user=product_owner).count() == 1
