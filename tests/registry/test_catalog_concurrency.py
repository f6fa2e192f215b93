"""Prompt versions and policy packs are numbered per name; two people adding a version of the same name
at the same moment must get consecutive numbers, not an error. Needs PostgreSQL for real row locks."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from registry.models import PolicyPack, PromptVersion
from registry.services import audit_verify, policy_pack_create, prompt_version_create
from registry.services import catalog as catalog_services

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def add_prompt(actor, name, region):
    return prompt_version_create(actor=actor, name=name, template=f"Sort this claim ({threading.get_ident()}).")


def add_policy_pack(actor, name, region):
    return policy_pack_create(actor=actor, name=name, allowed_regions=[region])


CREATORS = {"prompt": (add_prompt, PromptVersion), "policy_pack": (add_policy_pack, PolicyPack)}


def run_threads(work_by_name):
    failures = []

    def run(work):
        try:
            work()
        except BaseException as error:  # noqa: BLE001 - reported to the test below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,), name=name) for name, work in work_by_name.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [thread.name for thread in threads if thread.is_alive()], "writers still running"
    return failures


@pytest.mark.parametrize("kind", CREATORS)
def test_ten_writers_adding_to_an_existing_name_get_consecutive_versions(governance_admin, eu, kind):
    create, model = CREATORS[kind]
    create(governance_admin, "claims", eu)
    barrier = threading.Barrier(10)

    def writer():
        actor = get_user_model().objects.get(pk=governance_admin.pk)
        barrier.wait(timeout=30)
        create(actor, "claims", eu)

    failures = run_threads({f"writer-{index}": writer for index in range(10)})

    assert failures == []
    assert sorted(model.objects.filter(name="claims").values_list("version", flat=True)) == list(range(1, 12))
    assert audit_verify().ok


@pytest.mark.parametrize("kind", CREATORS)
def test_two_writers_adding_the_first_version_of_a_name_get_one_and_two(governance_admin, eu, kind, monkeypatch):
    """Made deterministic: the first writer pauses after inserting its row, until the second has chosen its
    number. Where numbering is serialised properly, the second never gets that far while the first is open,
    and the first simply resumes after a short wait."""
    create, model = CREATORS[kind]
    first_inserted, second_numbered = threading.Event(), threading.Event()
    real_audit_record, real_save_and_audit = catalog_services.audit_record, catalog_services._save_and_audit

    def audit_record(**kwargs):
        if threading.current_thread().name == "first":
            first_inserted.set()
            second_numbered.wait(timeout=3)
        return real_audit_record(**kwargs)

    def save_and_audit(**kwargs):
        if threading.current_thread().name == "second":
            second_numbered.set()
        return real_save_and_audit(**kwargs)

    monkeypatch.setattr(catalog_services, "audit_record", audit_record, raising=False)
    monkeypatch.setattr(catalog_services, "_save_and_audit", save_and_audit, raising=False)

    def first():
        create(get_user_model().objects.get(pk=governance_admin.pk), "fresh", eu)

    def second():
        actor = get_user_model().objects.get(pk=governance_admin.pk)
        first_inserted.wait(timeout=10)
        create(actor, "fresh", eu)

    failures = run_threads({"first": first, "second": second})

    assert failures == []
    assert sorted(model.objects.filter(name="fresh").values_list("version", flat=True)) == [1, 2]
