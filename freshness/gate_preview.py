"""Freshness's part of a gate policy preview (registered in ``approvals.extensions``): the findings the
sweep would open, change or close under the proposed requirements, and which promotions allowed today
it would then refuse."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from approvals.extensions import FindingsEffect
from freshness.guards import blocking_findings, blocks_promotion
from freshness.models import blocks
from freshness.services import findings_preview


def findings_effect(*, feature_ids: list[int], version_ids: set[int], now: datetime, policies: dict) -> FindingsEffect:
    outcome = findings_preview(version_ids=version_ids, policies=policies, now=now)
    opened: dict[tuple, list[str]] = defaultdict(list)
    closed: dict[tuple, list[str]] = defaultdict(list)
    for finding in outcome.opened + outcome.changed:
        opened[(finding.feature_id, finding.version_id, finding.environment)].append(
            f"{finding.get_evidence_kind_display()} evidence {finding.get_state_display().lower()}"
        )
    for finding in outcome.closed:
        closed[(finding.feature_id, finding.version_id, finding.environment)].append(
            f"{finding.get_evidence_kind_display()} evidence ({finding.get_close_reason_display().lower()})"
        )

    blocking_now: dict[int, dict[tuple, bool]] = defaultdict(dict)
    for finding in blocking_findings(feature_ids):
        blocking_now[finding.feature_id][(finding.version_id, finding.environment, finding.evidence_kind)] = True
    blocking_after = {feature_id: dict(found) for feature_id, found in blocking_now.items()}
    for finding in outcome.opened + outcome.changed + outcome.refreshed + outcome.closed:
        key = (finding.version_id, finding.environment, finding.evidence_kind)
        blocking_after.setdefault(finding.feature_id, {})[key] = not finding.closed_at and blocks(
            environment=finding.environment, state=finding.state, stale_at=finding.stale_at, now=now
        )

    def blocking_versions(found: dict, feature_id: int) -> set[int]:
        return {version_id for (version_id, _env, _kind), on in found.get(feature_id, {}).items() if on}

    def newly_blocked(feature_id: int, version_id: int, environment: str) -> bool:
        rule = {"version_id": version_id, "environment": environment}
        return blocks_promotion(blocking_versions(blocking_after, feature_id), **rule) and not blocks_promotion(
            blocking_versions(blocking_now, feature_id), **rule
        )

    return FindingsEffect(opened=dict(opened), closed=dict(closed), newly_blocked=newly_blocked)
