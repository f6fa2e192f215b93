"""Reactions to registry events: new evidence, moved deployments and gate changes are judged at once.

Through a task queued on commit (run in place when Celery is eager, as in tests): the request that
recorded the evidence or moved the pointer does not wait for a running sweep's lock, and a failure
of the recheck cannot turn that committed write into an error. The next sweep heals anything lost.
"""

from django.db import transaction
from django.dispatch import receiver

from registry.signals import deployment_changed, evaluation_recorded


def _recheck_on_commit(version_ids, actor, trigger: str) -> None:
    from core.queueing import enqueue
    from freshness.tasks import recheck_versions

    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    transaction.on_commit(
        lambda: enqueue(
            recheck_versions,
            (list(version_ids),),
            {"actor_id": actor_id, "trigger": trigger},
            what="a findings recheck (the next sweep does it)",
        ),
        robust=True,
    )


@receiver(evaluation_recorded, dispatch_uid="freshness-recheck-on-new-evidence")
def recheck_findings_on_new_evidence(sender, evaluation, actor, **kwargs):
    """New evidence closes (or changes) the version's findings, by the sweep's own rules."""
    _recheck_on_commit([evaluation.version_id], actor, "evaluation")


@receiver(deployment_changed, dispatch_uid="freshness-recheck-on-deployment-change")
def recheck_findings_on_deployment_change(sender, feature, version_ids, actor, **kwargs):
    """What went live is judged at once (a rollback to a version with stale evidence blocks promotions
    now, not at the next sweep); what stopped serving has its findings closed."""
    _recheck_on_commit(version_ids, actor, "deployment")


GATE_ACTIONS = frozenset({"gate_policy.updated", "gate_assignment.updated"})


def recheck_findings_on_gate_change(events) -> None:
    """A ``registry.extensions.audit_listeners`` hook: a gate policy or assignment change re-judges the live
    versions it governs once it commits, so Freshness, the feature pages' promotion blockers and the
    escalations follow the new rules now, not at the next sweep (readiness and resolve follow through the
    routing epoch the same change renews)."""
    changes = [event for event in events if event.action in GATE_ACTIONS]
    if not changes:
        return
    from core.queueing import enqueue
    from freshness.tasks import recheck_gate_change

    gates = sorted({(event.payload.get("new") or {}).get("gate") for event in changes} - {None})
    tiers = sorted({event.payload.get("risk_tier") for event in changes} - {None})
    actor_id = changes[-1].actor_id
    transaction.on_commit(
        lambda: enqueue(
            recheck_gate_change,
            (gates, tiers),
            {"actor_id": actor_id},
            what="a recheck after a gate change (the next sweep does it)",
        ),
        robust=True,
    )
