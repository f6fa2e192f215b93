"""Django admin shows roles and teams but does not change them: that would skip the reason, separation of
duties and the audit trail. It points to the People page instead; making a superuser still works."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from registry.models import AuditEvent

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_the_user_admin_shows_groups_read_only_and_links_the_people_page(admin_client, product_owner):
    response = admin_client.get(reverse("admin:auth_user_change", args=[product_owner.pk]))

    text = response.content.decode()
    assert response.status_code == 200
    assert 'name="groups"' not in text  # no control to change them
    assert f'href="/people/{product_owner.username}/"' in text


def test_posting_groups_to_the_user_admin_changes_no_membership(admin_client, outsider):
    governance = Group.objects.get_or_create(name="governance")[0]
    url = reverse("admin:auth_user_change", args=[outsider.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name in form.fields}
    data.update(
        {
            "username": outsider.username,
            "groups": [governance.pk],
            "date_joined_0": outsider.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": outsider.date_joined.strftime("%H:%M:%S"),
            "is_active": "on",
        }
    )
    data.pop("last_login", None)
    data.pop("password", None)

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert not outsider.groups.exists()
    assert not AuditEvent.objects.filter(action="role.granted").exists()


def test_groups_are_read_only_in_the_admin(admin_client):
    group = Group.objects.get_or_create(name="security")[0]

    assert admin_client.get(reverse("admin:auth_group_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:auth_group_add")).status_code == 403
    assert admin_client.post(reverse("admin:auth_group_delete", args=[group.pk]), {"post": "yes"}).status_code == 403
    assert Group.objects.filter(pk=group.pk).exists()


def test_createsuperuser_still_works(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-enough-passphrase-42")

    call_command("createsuperuser", "--noinput", username="root", email="root@example.test", stdout=io.StringIO())

    assert User.objects.get(username="root").is_superuser
