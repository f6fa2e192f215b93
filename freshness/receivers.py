"""Reactions to registry events."""

from django.db import transaction
from django.dispatch import receiver

from freshness.services import findings_recheck
from registry.signals import deployment_changed, evaluation_recorded


@receiver(evaluation_recorded, dispatch_uid="freshness-recheck-on-new-evidence")
def recheck_findings_on_new_evidence(sender, evaluation, actor, **kwargs):
    """New evidence closes (or changes) the version's findings at once, by the sweep's own rules.

    After commit, in a transaction of its own: the recording transaction already holds the audit
    chain's lock, which must be the last lock taken, and the recheck takes the sweep lock first.
    """
    version_id = evaluation.version_id
    transaction.on_commit(lambda: findings_recheck(version_ids=[version_id], actor=actor))


@receiver(deployment_changed, dispatch_uid="freshness-recheck-on-deployment-change")
def recheck_findings_on_deployment_change(sender, feature, version_ids, actor, **kwargs):
    """What went live is judged at once (a rollback to a version with stale evidence blocks promotions
    now, not at the next sweep); what stopped serving has its findings closed."""
    version_ids = list(version_ids)
    transaction.on_commit(lambda: findings_recheck(version_ids=version_ids, actor=actor, trigger="deployment"))
