"""The notices page: your own notices only, newest first, at a constant cost; mark all read."""

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry.models import Notification
from registry.services import notify

URL = reverse("registry:notification_list")


def queries_for(client):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(URL).status_code == 200
    return len(captured)


def test_the_notices_page_costs_the_same_for_2_or_12_notices(client, product_owner, django_assert_max_num_queries):
    client.force_login(product_owner)
    notify(users=[product_owner], subject="first", key="a")
    notify(users=[product_owner], subject="second", key="b")
    few = queries_for(client)
    for index in range(10):
        notify(users=[product_owner], subject=f"more {index}", key=f"more-{index}")

    with django_assert_max_num_queries(few):
        many = client.get(URL)

    assert len(many.context["object_list"]) == 12


def test_it_lists_only_your_notices_and_marks_them_read(client, product_owner, ml_engineer):
    notify(users=[product_owner], subject="For Pat", key="p")
    notify(users=[ml_engineer], subject="For Mel", key="m")
    client.force_login(product_owner)

    page = client.get(URL).content.decode()
    client.post(URL)

    assert "For Pat" in page and "For Mel" not in page
    assert not Notification.objects.filter(user=product_owner, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=ml_engineer, read_at__isnull=True).exists()
