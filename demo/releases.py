"""The demo's release history: gate requests, sign-offs, promotions and a rollback, for ``seed_demo``.

Everything goes through the approvals and registry services, so separation of duties holds as in the
app: the requester (the team's product owner) and the author (the team's engineer) never sign, a
person signs one role per request, and promotions are made by a member of the owning team.

Each step happens on its day (``at``: working days before the seeding day): the request in the morning, the
sign-offs hours to days after it, the promotion after the last one, all in working hours, through the
demo's clock (``demo.clock``). A gate step is skipped when its version already has a request for that
environment (whatever its status); a feature with live pointers but none of the requests below is
left alone entirely (someone released it by hand); a rollback is skipped once the pointer was rolled
back. Evidence listed on a step is recorded only where the gate's check of that kind does not hold
(missing, stale or failing), by the team's engineer, run ``days_ago`` days before the request.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from approvals import services
from approvals.checks import all_checks, evidence_checks, latest_evaluations, unmet
from approvals.defaults import install_default_policies
from approvals.models import ApprovalRequest, GateAssignment, GatePolicy, GateRequirement, SignOff
from core.exceptions import Conflict
from registry.choices import DeploymentEventKind, Role, VersionStatus
from registry.models import AIFeature, Deployment, DeploymentEvent, Region
from registry.selectors import may_see_feature
from registry.services import deployment_rollback, evaluation_record, reviewer_grant_create

# --- Data ---------------------------------------------------------------------------------------

# Approvals' reasons, by role (an approval needs none, but reviewers usually say what they looked at).
APPROVAL_NOTES = {
    "ml": "Evaluation results and datasets reviewed; thresholds are appropriate for the risk tier.",
    "security": "Tool scopes, secrets handling and prompt-injection results reviewed.",
    "legal": "Intended and disallowed uses, DPIA and vendor terms reviewed.",
    "product": "Fallback, rollback and customer communication plan agreed.",
}

# outcome: "live" (every listed signer approves, then ``promoter`` promotes), "pending" (only the listed
# signers sign; the other slots wait in the role queues) or "rejected" (the listed signers approve,
# then ``reject`` = (role, username, reason) rejects). ``signers`` maps a role to usernames in slot order.
# ``evidence`` uses demo_data's evaluation tuples: (kind, suite, metric, score, threshold, days_ago, extras),
# recorded only where the gate's check of that kind fails; re-runs of kinds seeded fresh are listed too,
# so a database seeded weeks ago (whose evidence has since gone stale) still gets its releases.
RELEASES = [
    # Claims triage: v2 to production, v3 through sandbox to production, then back to v2 (see ROLLBACKS).
    {
        "feature": "claims-triage",
        "version": 2,
        "environment": "production",
        "at": 27,
        "regions": ["eu", "uk"],
        "requester": "product",
        "outcome": "live",
        "promoter": "ml",
        "signers": {"ml": ["ml2"], "security": ["security"], "legal": ["legal"], "product": ["product3"]},
        "note": "JSON output and urgency; the in-house model stays as fallback.",
        "evidence": [
            (
                "benchmark",
                "triage-gold-v3",
                "routing_accuracy",
                0.93,
                0.9,
                9,
                {"notes": "Re-run for the production gate; the previous run was older than 90 days."},
            ),
            ("safety", "claims-safety-basic", "refusal_correctness", 0.98, 0.95, 9),
        ],
    },
    {
        "feature": "claims-triage",
        "version": 3,
        "environment": "sandbox",
        "at": 7,
        "regions": ["eu", "uk"],
        "requester": "product",
        "outcome": "live",
        "promoter": "ml",
        "signers": {"ml": ["ml3"]},
        "note": "Adjusters in the pilot group try the vulnerable-customer flags.",
        "evidence": [("safety", "claims-safety-2025", "refusal_correctness", 0.98, 0.95, 7)],
    },
    {
        "feature": "claims-triage",
        "version": 3,
        "environment": "production",
        "at": 5,
        "regions": ["eu", "uk"],
        "requester": "product",
        "outcome": "live",
        "promoter": "ml",
        "signers": {"ml": ["ml3"], "security": ["security2"], "legal": ["legal"], "product": ["product4"]},
        "note": "Consumer Duty: vulnerable customers reach a senior adjuster on day one.",
        "evidence": [
            ("privacy_review", "DPIA claims triage (health details update)", "review_passed", 1, 1, 5),
            ("benchmark", "triage-gold-v3", "routing_accuracy", 0.94, 0.9, 3),
        ],
    },
    # Code assistant v2: sandbox, then production in every region it serves.
    {
        "feature": "code-assistant",
        "version": 2,
        "environment": "sandbox",
        "at": 15,
        "regions": ["eu", "uk", "us"],
        "requester": "product3",
        "outcome": "live",
        "promoter": "ml3",
        "signers": {"ml": ["ml2"]},
        "note": "Platform team dogfoods Sonnet 4 for a week.",
    },
    {
        "feature": "code-assistant",
        "version": 2,
        "environment": "production",
        "at": 10,
        "regions": ["eu", "uk", "us"],
        "requester": "product3",
        "outcome": "live",
        "promoter": "ml3",
        "signers": {"ml": ["ml"], "security": ["security"], "legal": ["legal"], "product": ["product2"]},
        "note": "Dogfooding went well: acceptance rate 31%.",
        "evidence": [
            ("privacy_review", "Code assistant data-flow review", "review_passed", 1, 1, 8),
            ("benchmark", "humaneval-internal", "pass_at_1", 0.79, 0.65, 3),
            ("safety", "secret-leak-probe", "leak_free_rate", 1.0, 0.999, 3),
        ],
    },
    # Search reranker: v1 in production where it passes, v2 (Japanese glossary) tried in sandbox in Asia.
    {
        "feature": "search-reranker",
        "version": 1,
        "environment": "production",
        "at": 36,
        "regions": ["eu", "us"],
        "requester": "product3",
        "outcome": "live",
        "promoter": "ml3",
        "signers": {"ml": ["ml2"], "security": ["security2"], "legal": ["legal"], "product": ["product"]},
        "note": "EU and US only: Japanese ranking is below threshold (v2 addresses it).",
        "evidence": [
            ("safety", "intranet-pii-filter", "pii_free_rate", 0.999, 0.995, 6),
            ("privacy_review", "Intranet click-log review", "review_passed", 1, 1, 6),
            ("benchmark", "intranet-clicks-2025-03", "ndcg_at_3", 0.74, 0.7, 6),
        ],
    },
    {
        "feature": "search-reranker",
        "version": 2,
        "environment": "sandbox",
        "at": 7,
        "regions": ["apac", "jp"],
        "requester": "product3",
        "outcome": "live",
        "promoter": "ml3",
        "signers": {"ml": ["ml"]},
        "note": "Tokyo office pilot of the Japanese glossary.",
        "evidence": [("safety", "intranet-pii-filter", "pii_free_rate", 0.999, 0.995, 2)],
    },
    # Customer support chatbot v2: sandbox, then production.
    {
        "feature": "customer-support-chatbot",
        "version": 2,
        "environment": "sandbox",
        "at": 35,
        "regions": ["eu", "uk"],
        "requester": "product4",
        "outcome": "live",
        "promoter": "ml",
        "signers": {"ml": ["ml2"]},
        "note": "Internal agents test citations and refusals.",
    },
    {
        "feature": "customer-support-chatbot",
        "version": 2,
        "environment": "production",
        "at": 33,
        "regions": ["eu", "uk"],
        "requester": "product4",
        "outcome": "live",
        "promoter": "ml",
        "signers": {"ml": ["ml3"], "security": ["security"], "legal": ["legal"], "product": ["product2"]},
        "note": "Replaces the pilot; the role-play jailbreak fix follows in v3.",
        "evidence": [
            ("privacy_review", "Support chat DPIA", "review_passed", 1, 1, 10),
            ("benchmark", "support-qa-500", "answer_correctness", 0.86, 0.8, 4),
            ("safety", "support-harmful-requests", "refusal_rate", 0.99, 0.97, 4),
        ],
    },
    # Contract summariser v2: production (moves off the deprecated Claude 3 Haiku).
    {
        "feature": "contract-summariser",
        "version": 2,
        "environment": "production",
        "at": 14,
        "regions": ["eu", "uk"],
        "requester": "product3",
        "outcome": "live",
        "promoter": "ml3",
        "signers": {"ml": ["ml2"], "security": ["security2"], "legal": ["legal"], "product": ["product4"]},
        "note": "Procurement asked for clause numbers; Claude 3 Haiku is being retired.",
        "evidence": [
            ("safety", "contract-confidentiality-probe", "leak_free_rate", 1.0, 0.999, 6),
            ("benchmark", "contracts-50", "clause_recall", 0.91, 0.85, 6),
        ],
    },
    # KYC document check v2: live in sandbox; the regulated gate to production waits for security and product.
    {
        "feature": "kyc-document-check",
        "version": 2,
        "environment": "sandbox",
        "at": 9,
        "regions": ["eu", "uk"],
        "requester": "product2",
        "outcome": "live",
        "promoter": "ml2",
        "signers": {"ml": ["ml3"]},
        "note": "Compliance analysts compare tamper flags with their own decisions.",
        "evidence": [("safety", "kyc-harmful-output", "refusal_correctness", 0.99, 0.97, 4)],
    },
    {
        "feature": "kyc-document-check",
        "version": 2,
        "environment": "production",
        "at": 3,
        "regions": ["eu", "uk"],
        "requester": "product2",
        "outcome": "pending",
        "signers": {"ml": ["ml3"], "legal": ["legal"]},
        "note": "Regulated gate: tamper recall and red-team results attached; the MLRO has been briefed.",
    },
    # Pending with gaps: fraud scoring (privacy review not yet recorded), letter translation (no benchmark
    # or safety run yet), the underwriting prototype to sandbox (no safety evidence yet).
    {
        "feature": "fraud-scoring",
        "version": 2,
        "environment": "production",
        "at": 2,
        "regions": ["eu", "uk"],
        "requester": "product2",
        "outcome": "pending",
        "signers": {"security": ["security2"]},
        "note": "Bias finding fixed; the privacy review is booked for this week.",
        "evidence": [("safety", "fraud-narrative-safety", "protected_attribute_free_rate", 1.0, 0.999, 3)],
    },
    {
        "feature": "claim-letter-translation",
        "version": 2,
        "environment": "production",
        "at": 1,
        "regions": ["eu", "uk"],
        "requester": "product",
        "outcome": "pending",
        "signers": {},
        "note": "EU and UK only: Canada waits for the Quebec glossary fix.",
    },
    {
        "feature": "underwriting-assistant",
        "version": 1,
        "environment": "sandbox",
        "at": 1,
        "regions": ["uk"],
        "requester": "product2",
        "outcome": "pending",
        "signers": {},
        "note": "Two underwriters would like to try the prototype on closed 2024 cases.",
    },
    # Rejected: the call summariser's redaction leak test fails.
    {
        "feature": "call-summariser",
        "version": 2,
        "environment": "production",
        "at": 11,
        "regions": ["eu", "uk"],
        "requester": "product4",
        "outcome": "rejected",
        "signers": {"ml": ["ml2"]},
        "reject": (
            "security",
            "security",
            (
                "The redaction leak test fails: 2 of 400 notes kept the last four card digits. Production "
                "needs a leak-free rate of at least 0.999; fix the redaction and re-run the test."
            ),
        ),
        "note": "Redaction of card and health details; follow-ups with owner and due date.",
    },
]

# (feature, environment, regions, back to version number, actor, reason, (working days ago, HH:MM)).
ROLLBACKS = [
    (
        "claims-triage",
        "production",
        ["eu", "uk"],
        2,
        "product",
        (
            "Vulnerable-customer flags fire on routine mentions of illness: the senior adjuster queue doubled on "
            "day one. Back to v2 while the prompt is tuned."
        ),
        (2, "09:40"),
    ),
]


def record_demo_evaluation(*, actor, version, spec: tuple, regions: dict[str, Region], run_at) -> None:
    """Record one evaluation of the demo data: (kind, suite, metric, score, threshold, days_ago[, extras]).
    It ran at ``run_at`` (never before its version was made) and is recorded now."""
    kind, suite, metric, score, threshold, _days_ago, *rest = spec
    extras = rest[0] if rest else {}
    region_code = extras.get("region")
    evaluation_record(
        actor=actor,
        version=version,
        kind=kind,
        suite=suite,
        metric=metric,
        score=score,
        threshold=threshold,
        higher_is_better=extras.get("higher_is_better", True),
        region=regions[region_code] if region_code else None,
        language=extras.get("language", ""),
        run_at=min(max(run_at, version.created_at + timedelta(hours=1)), timezone.now()),
        artifact_url=f"https://ci.internal.example/evals/{version.feature.slug}/v{version.number}/{kind}/{slugify(suite)}",
        notes=extras.get("notes", ""),
    )


class StepSkipped(Exception):
    """A step that cannot go as planned on this database; it is rolled back and reported."""


# --- Applying it --------------------------------------------------------------------------------

# Minutes of working time between a request and each sign-off in turn (the last ones a day or two later),
# and between the last sign-off and the promotion.
SIGNOFF_GAPS = (95, 170, 260, 190, 150)
PROMOTION_GAP = 200


class ReleaseSeeder:
    """Puts ``RELEASES`` and ``ROLLBACKS`` on the demo's agenda: each request on its day, each sign-off and
    the promotion hours to days later. Skips what exists; counts what it adds.

    A step is several entries on the agenda (other features' history happens in between), so it is not
    undone as a whole: when one of its entries is refused, that entry is undone and reported and the rest
    of the step is left out (the request stays as far as it got)."""

    def __init__(self, *, created: Counter, regions: dict[str, Region], engineers: dict[str, str], clock):
        self.created = created
        self.regions = regions
        self.engineers = engineers  # team slug -> username of the engineer who records evidence
        self.clock = clock
        self.users: dict = {}
        self.skipped: list[str] = []
        self.services = services
        self.ApprovalRequest = ApprovalRequest

    def plan(self, agenda, *, extra_steps=()) -> None:
        # The data migration installs the gates; a flushed database has lost them.
        install_default_policies(GatePolicy, GateRequirement, GateAssignment)
        left_alone = self._features_released_by_hand([*RELEASES, *extra_steps])
        for step in [*RELEASES, *extra_steps]:
            if step["feature"] not in left_alone:
                self.plan_release(agenda, step)
        for feature_slug, environment, codes, number, username, reason, (ago, at) in ROLLBACKS:
            if feature_slug not in left_alone:
                agenda.add(
                    self.clock.workday(ago, at),
                    lambda args=(feature_slug, environment, codes, number, username, reason): self.rollback(*args),
                )

    def _features_released_by_hand(self, steps) -> set[str]:
        """Features with live pointers but none of this plan's requests: someone released them; leave them."""
        planned: dict[str, list[tuple[int, str]]] = {}
        for step in steps:
            planned.setdefault(step["feature"], []).append((step["version"], step["environment"]))
        left_alone = set()
        for slug, pairs in planned.items():
            if not Deployment.objects.filter(feature__slug=slug).exists():
                continue
            if any(
                self.ApprovalRequest.objects.filter(
                    version__feature__slug=slug, version__number=number, environment=environment
                ).exists()
                for number, environment in pairs
            ):
                continue
            left_alone.add(slug)
            self.skipped.append(f"{slug}: already deployed outside the demo plan, left as it is")
        return left_alone

    def _user(self, username: str):
        """A fresh instance per entry: no roles or object permissions cached from an earlier moment."""
        return get_user_model().objects.get(username=username)

    # --- Gate steps ----------------------------------------------------------------------------

    def plan_release(self, agenda, step: dict) -> None:
        """The request on its working day from 09:10 (or ``at_time``), each sign-off and the outcome after it."""
        state = {"request": None}
        label = f"{step['feature']} v{step['version']} to {step['environment']}"
        moment = self.clock.jitter(self.clock.workday(step["at"], step.get("at_time", "09:10")), label)
        agenda.add(moment, lambda: self.guarded(label, state, self._request, step, state))
        signers = [
            (role, username, "approve", APPROVAL_NOTES.get(role, ""))
            for role, usernames in step["signers"].items()
            for username in usernames
        ]
        if step["outcome"] == "rejected":
            signers.append((*step["reject"][:2], "reject", step["reject"][2]))
        for index, signer in enumerate(signers):
            moment = self.clock.later(moment, SIGNOFF_GAPS[index % len(SIGNOFF_GAPS)])
            moment = self.clock.jitter(moment, f"{label} {signer[:2]}", 25)
            agenda.add(moment, lambda signer=signer: self.guarded(label, state, self.sign, state, *signer))
        moment = self.clock.later(moment, PROMOTION_GAP if step["outcome"] == "live" else 1)
        agenda.add(moment, lambda: self.guarded(label, state, self._outcome, step, state))

    def guarded(self, label: str, state: dict, apply, *args) -> None:
        """One entry of a step in a savepoint: if the data has drifted (say, evidence seeded long ago is now
        stale) it is undone and reported, the rest of the step is left out, and the rest of the demo goes in."""
        if state.get("done"):
            return
        counted = Counter(self.created)
        try:
            with transaction.atomic():
                apply(*args)
        except StepSkipped as skipped:
            self.skipped.append(str(skipped))
        except (PermissionDenied, ValidationError, Conflict) as refused:
            self.skipped.append(f"{label}: refused ({refused})")
        else:
            return
        state["done"] = True
        self.created.clear()
        self.created.update(counted)

    def _request(self, step: dict, state: dict) -> None:
        state["done"] = True  # until the request is made
        feature = AIFeature.objects.select_related("team").get(slug=step["feature"])
        version = feature.versions.filter(number=step["version"]).first()
        label = f"{feature.slug} v{step['version']} to {step['environment']}"
        if version is None or version.status != VersionStatus.SUBMITTED:
            self.skipped.append(f"{label}: the version is missing or not submitted")
            return
        if self.ApprovalRequest.objects.filter(version=version, environment=step["environment"]).exists():
            return  # done on an earlier run (or by hand): whatever state it is in stays
        self.record_missing_evidence(feature, version, step)
        state["request"] = self.services.approval_request_create(
            actor=self._user(step["requester"]),
            version=version,
            environment=step["environment"],
            regions=[self.regions[code] for code in step["regions"]],
            note=step.get("note", ""),
        )
        state["done"] = False
        self.created["approval requests"] += 1

    def _outcome(self, step: dict, state: dict) -> None:
        request = state["request"]
        request.refresh_from_db()
        feature, version = request.version.feature, request.version
        expected = {"live": "approved", "pending": "pending", "rejected": "rejected"}[step["outcome"]]
        if request.status != expected:
            evaluations = latest_evaluations([version.pk]).get(version.pk, {})
            gaps = unmet(all_checks(request.requirements, feature, evaluations))
            detail = "; ".join(f"{check.label}: {check.detail.rstrip('.')}" for check in gaps)
            raise StepSkipped(
                f"{feature.slug} v{version.number} to {step['environment']}: the request would be "
                f"{request.status}, not {expected} ({detail or 'sign-offs'})"
            )
        if step["outcome"] == "live":
            events = self.services.promotion_execute(actor=self._user(step["promoter"]), request=request)
            self.created["promotions"] += len(events)

    def sign(self, state: dict, role: str, username: str, decision: str, reason: str) -> None:
        request = state["request"]
        signoff = request.signoffs.filter(role=role, status="pending").order_by("slot").first()
        if signoff is None:
            raise RuntimeError(f"Request #{request.pk} has no pending {role} sign-off left for {username}.")
        self.bring_in(request.version.feature, username, role, at=request.created_at)
        self.services.signoff_decide(actor=self._user(username), signoff=signoff, decision=decision, reason=reason)
        self.created["sign-offs"] += 1

    def bring_in(self, feature: AIFeature, username: str, role: str, *, at) -> None:
        """A reviewer from outside a restricted feature's team signs through a reviewer grant from
        governance, as in a real organisation (the grant runs for a month from the request)."""
        reviewer = self._user(username)
        if not feature.restricted or may_see_feature(reviewer, feature):
            return
        reviewer_grant_create(
            actor=self._user("governance"),
            feature=feature,
            user=reviewer,
            reason=f"Reviews its releases for the organisation as {Role(role).label.lower()}.",
            expires_at=at + timedelta(days=30),
        )
        self.created["reviewer grants"] += 1

    def record_missing_evidence(self, feature: AIFeature, version, step: dict) -> None:
        """Record the step's evaluations whose kind the gate requires and which do not hold right now: run
        ``days_ago`` calendar days before the request (never before the version), recorded just before it."""
        snapshot = self.services.requirements_snapshot(
            self.services.gate_for(risk_tier=feature.risk_tier, environment=step["environment"])
        )
        checks = evidence_checks(snapshot, latest_evaluations([version.pk]).get(version.pk, {}))
        unmet_kinds = {check.key for check in checks if not check.ok}
        engineer = self._user(self.engineers[feature.team.slug])
        for kind, suite, metric, score, threshold, days_ago, *rest in step.get("evidence", []):
            if kind not in unmet_kinds:
                continue
            record_demo_evaluation(
                actor=engineer,
                version=version,
                spec=(kind, suite, metric, score, threshold, days_ago, *rest),
                regions=self.regions,
                run_at=timezone.now() - timedelta(days=days_ago, hours=2),
            )
            unmet_kinds.discard(kind)
            self.created["evaluations"] += 1

    # --- Rollbacks -----------------------------------------------------------------------------

    def rollback(self, feature_slug: str, environment: str, codes: list[str], number: int, username: str, reason: str):
        feature = AIFeature.objects.get(slug=feature_slug)
        to_version = feature.versions.get(number=number)
        for code in codes:
            region = self.regions[code]
            if DeploymentEvent.objects.filter(
                feature=feature, environment=environment, region=region, kind=DeploymentEventKind.ROLLED_BACK
            ).exists():
                continue
            deployment = Deployment.objects.filter(feature=feature, environment=environment, region=region).first()
            if deployment is None or deployment.version_id == to_version.pk:
                self.skipped.append(f"{feature_slug} {environment}/{code}: nothing to roll back")
                continue
            deployment_rollback(
                actor=self._user(username),
                feature=feature,
                environment=environment,
                region=region,
                reason=reason,
                to_version=to_version,
            )
            self.created["rollbacks"] += 1


def release_totals() -> list[tuple[str, int]]:
    """Counts for seed_demo's summary: live pointers, requests by status, pending sign-offs by role."""
    totals = [
        ("deployments", Deployment.objects.count()),
        ("  sandbox", Deployment.objects.filter(environment="sandbox").count()),
        ("  production", Deployment.objects.filter(environment="production").count()),
        ("deploy events", DeploymentEvent.objects.count()),
        ("  rollbacks", DeploymentEvent.objects.filter(kind=DeploymentEventKind.ROLLED_BACK).count()),
        ("requests", ApprovalRequest.objects.count()),
    ]
    for status in ("approved", "pending", "rejected"):
        totals.append((f"  {status}", ApprovalRequest.objects.filter(status=status).count()))
    waiting = SignOff.objects.filter(status="pending", request__status="pending")
    for role in ("ml", "security", "legal", "product"):
        totals.append((f"  queue {role}", waiting.filter(role=role).count()))
    return totals
