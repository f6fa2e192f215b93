"""Deleting a person must not break the audit chain: the trail hashes the actor's id. A person who has acted is
deactivated, never deleted (the database protects the row; Django admin says what to do instead), and the
trail keeps who they were. Someone who never acted may still be deleted."""

import pytest
from django.contrib.auth import get_user_model
from django.db.models import ProtectedError
from django.urls import reverse

from registry.models import AuditEvent
from registry.services import audit_verify
from tests.factories import UserFactory
from tests.registry.test_audit_chain import prompt_write

User = get_user_model()


@pytest.fixture
def acted(ml_engineer):
    prompt_write(ml_engineer)
    return ml_engineer


def test_a_person_who_acted_cannot_be_deleted_and_the_chain_holds(acted):
    with pytest.raises(ProtectedError):
        acted.delete()

    event = AuditEvent.objects.get()
    assert (event.actor_id, event.actor_name) == (acted.pk, "mel-ml")
    assert audit_verify().ok


def test_admin_refuses_to_delete_a_person_in_the_trail_and_suggests_deactivation(admin_client, acted):
    url = reverse("admin:auth_user_delete", args=[acted.pk])

    for response in (admin_client.get(url, follow=True), admin_client.post(url, {"post": "yes"}, follow=True)):
        assert response.redirect_chain[-1][0] == reverse("admin:auth_user_change", args=[acted.pk])
        text = response.content.decode()
        assert "The account mel-ml has acted in the audit trail (1 event)" in text
        assert "deactivate the account instead" in text

    assert User.objects.filter(pk=acted.pk).exists()
    assert audit_verify().ok


def test_admin_bulk_delete_lists_people_in_the_trail_as_protected(admin_client, acted):
    bystander = UserFactory(username="never-acted")
    changelist = reverse("admin:auth_user_changelist")
    form = {"action": "delete_selected", "_selected_action": [acted.pk, bystander.pk]}

    response = admin_client.post(changelist, form)
    assert "mel-ml has acted in the audit trail" in response.content.decode()
    admin_client.post(changelist, {**form, "post": "yes"})

    assert User.objects.filter(pk__in=[acted.pk, bystander.pk]).count() == 2
    assert audit_verify().ok


def test_admin_still_deletes_someone_who_never_acted(admin_client, acted):
    bystander = UserFactory(username="never-acted")

    response = admin_client.post(reverse("admin:auth_user_delete", args=[bystander.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=bystander.pk).exists()
    assert audit_verify().ok
