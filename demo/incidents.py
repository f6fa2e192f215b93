"""The demo's incidents, for ``seed_demo``: one in each state, on the features the demo puts live.

Everything goes through the incidents services (and, for the one rollback, the registry's), so the
timelines, notifications and audit trail are what the app would record. Support logs most incidents;
the feature's team (its incident owner, its product owner) works them.

Idempotent: an incident is skipped when its feature already has one with the same title (or, for
the alert, one with the same fingerprint); nothing is changed or deleted on a rerun.

Timing: each incident opens at its moment of the past weeks, after the release that made its version
live, and each step follows minutes to days later (``demo.clock``), so impact windows, time to mitigate
and time to resolve are those of real incidents. The open ones are from the last day or two.

One incident carries a rollback made from the incident. Claims triage cannot be the one: its
production pointer is already back on v2 (``demo.releases.ROLLBACKS``) and its only rollback
candidate is v3, the version it left. So the search reranker's v2 goes to production in the EU
first (through the production gate, like the releases), and its incident rolls it back to v1.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.exceptions import Conflict
from incidents import services
from incidents.choices import IncidentStatus
from incidents.models import EvidenceSnapshot, Incident
from registry.models import AIFeature, Deployment, Region

# --- Data ---------------------------------------------------------------------------------------

# Put live before its incident (a gate step in demo.releases' format, planned with them): the reranker's June index.
RERANKER_V2_TO_PRODUCTION = {
    "feature": "search-reranker",
    "version": 2,
    "environment": "production",
    "at": 6,
    "at_time": "14:00",
    "regions": ["eu"],
    "requester": "product3",
    "outcome": "live",
    "promoter": "ml3",
    "signers": {"ml": ["ml2"], "security": ["security"], "legal": ["legal"], "product": ["product2"]},
    "note": "EU first: the June index adds the policy library and the Japanese glossary.",
    "evidence": [
        ("benchmark", "intranet-clicks-2025-03", "ndcg_at_3", 0.76, 0.7, 2),
        ("safety", "intranet-pii-filter", "pii_free_rate", 0.999, 0.995, 2),
        ("privacy_review", "Intranet click-log review (June index)", "review_passed", 1, 1, 2),
    ],
}

# Steps, in order, each (kind, username, ...):
#   ("status", user, status, note[, {"root_cause": ..., "follow_ups": ..., "postmortem_url": ...}])
#   ("comment", user, body)   ("link", user, url, title)   ("assign", user, new owner's username)
#   ("rollback", user, to version number, reason)
#   ("serious", user, criteria, reason): marked serious, aware now (the report's clock starts)
#   ("notes", user, {the report's written parts})   ("submit", user, kind, authority, reference, note)
# ``live``: the version number that must be live at the incident's pointer when it opens (else skipped).
# ``opened``: when support opens it, ("workday", working days ago, "HH:MM"), ("day", days ago, "HH:MM") or
# ("hours", hours ago); the impact began ``impact_minutes`` before; ``after``: minutes from the opening to
# each step, so the timeline, time to mitigate and time to resolve are what a real incident shows.
INCIDENTS = [
    {
        "feature": "customer-support-chatbot",
        "environment": "production",
        "region": "uk",
        "severity": "sev2",
        "reporter": "support",
        "title": "Role-play prompt got the chatbot to give medical advice",
        "opened": ("day", 24, "10:20"),
        "impact_minutes": 40,
        "after": [18, 112, 150, 60 * 26, 60 * 24 * 6],
        "description": (
            'A customer posted a screenshot on social media: asked to "pretend to be my GP", the chatbot '
            "suggested a dose of a prescription painkiller. Reproduced in the UK web chat with the same wording."
        ),
        "customer_impact": (
            "One confirmed conversation, now public; 14 similar conversations found in the logs, no reported "
            "harm. Medical advice is a disallowed use."
        ),
        "steps": [
            (
                "status",
                "ml",
                "investigating",
                (
                    "Reproduced on v2 with role-play framings: once in character, the model ignores the prompt's "
                    "no-medical-advice rule."
                ),
            ),
            (
                "status",
                "ml",
                "mitigated",
                (
                    "Guardrail rule in the chat service: role-play requests about health, legal or money topics are "
                    "handed over to an agent."
                ),
            ),
            (
                "comment",
                "product4",
                "Comms replied to the post and to the customer; the complaints team is contacting the 14 customers.",
            ),
            ("status", "ml", "resolved", "No bypass in 2,000 red-team role-play attempts against the guardrail."),
            (
                "status",
                "product4",
                "closed",
                "Postmortem reviewed with Customer Care and Legal.",
                {
                    "root_cause": (
                        "The v2 system prompt puts its refusal rules after the persona instructions, and the "
                        "support-harmful-requests suite had no role-play cases, so the gap passed the gate."
                    ),
                    "follow_ups": (
                        "v3 prompt: refusal rules before the persona, restated after the passages (ml)\n"
                        "Add 200 role-play cases to support-harmful-requests (ml)\n"
                        "Keep the chat-service guardrail until v3 is live in production (product4)"
                    ),
                    "postmortem_url": "https://wiki.internal.example/postmortems/support-chatbot-roleplay-medical-advice",
                },
            ),
        ],
    },
    {
        "feature": "claims-triage",
        "environment": "production",
        "region": "eu",
        "severity": "sev2",
        "reporter": "support",
        "title": "Urgent claims queued as routine while the model endpoint was overloaded",
        "opened": ("workday", 1, "08:50"),
        "impact_minutes": 95,
        "after": [9, 21, 35, 40, 165, 330],
        "description": (
            "The EU model endpoint returned overload errors and triage fell back to the in-house model. Its "
            "output has no urgency, so the router gave those claims urgency 4 and they went to the standard "
            "queue. Adjusters noticed storm-damage claims from people out of their homes waiting since the morning."
        ),
        "customer_impact": (
            "About 140 new EU claims were triaged without urgency; 9 needed same-day contact and got it late."
        ),
        "steps": [
            (
                "status",
                "ml",
                "investigating",
                "62% of triage calls since the errors began were served by the fallback, all without urgency.",
            ),
            (
                "comment",
                "ml",
                (
                    "No rollback: v1 is the in-house model alone (no urgency for any claim) and v3 was rolled back "
                    "for its own reasons. Fixing the routing of fallback results instead."
                ),
            ),
            (
                "comment",
                "product",
                (
                    "Claims operations are re-triaging today's fallback claims by hand; the Leeds and Dublin team "
                    "leads know."
                ),
            ),
            (
                "link",
                "ml",
                "https://grafana.internal.example/d/claims-triage?viewPanel=fallback-rate",
                "Fallback rate (claims triage)",
            ),
            (
                "status",
                "ml",
                "mitigated",
                "The router now sends fallback results to the general intake queue for manual triage.",
            ),
            (
                "status",
                "ml",
                "resolved",
                "Endpoint healthy for two hours; every affected claim re-triaged and its customer contacted.",
                {
                    "root_cause": (
                        "Vendor overload in the EU region. The in-house fallback returns no urgency, and the router "
                        "read a missing urgency as 4 (lowest) instead of sending the claim to manual triage."
                    ),
                    "follow_ups": (
                        "Router: a missing urgency goes to manual triage (ml)\n"
                        "Add urgency to the fallback's output and evaluate it on triage-gold-v3 (ml)\n"
                        "Alert when the fallback serves more than 10% of triage calls (ml)"
                    ),
                },
            ),
        ],
    },
    {
        "feature": "search-reranker",
        "environment": "production",
        "region": "eu",
        "severity": "sev2",
        "reporter": "support",
        "live": 2,
        "release": RERANKER_V2_TO_PRODUCTION,
        "title": "Search shows HR case notes about named employees",
        "opened": ("workday", 3, "11:40"),
        "impact_minutes": 90,
        # Serious (fundamental rights: HR records shown to colleagues) from minute 30: the rollback at 38 keeps an
        # evidence snapshot first; the initial report goes out the next day, the complete one is still due.
        "after": [12, 30, 38, 47, 55, 70, 95, 60 * 5, 60 * 24],
        "description": (
            "Since v2 went live in production in the EU, searching for a colleague's name returns HR case notes "
            "from the employee-relations share in the top three results. The June index picked up a folder "
            "that should never have been indexed; ranking documents about individuals is a disallowed use."
        ),
        "customer_impact": (
            "EU employees could read excerpts of HR case notes about colleagues in the result snippets. HR is "
            "working out which documents were shown to whom."
        ),
        "steps": [
            (
                "status",
                "ml3",
                "investigating",
                "Confirmed: intranet-2025-06 includes /hr/employee-relations; v1's intranet-2025-03 does not.",
            ),
            (
                "serious",
                "governance",
                ["rights"],
                (
                    "HR case notes about named employees were shown to colleagues: personal data protected by Union "
                    "law reached people with no right to it. Reported as a serious incident."
                ),
            ),
            (
                "rollback",
                "ml3",
                1,
                (
                    "Back to v1 (the March index, no HR folders) while the June index is rebuilt without the "
                    "employee-relations share."
                ),
            ),
            ("status", "ml3", "mitigated", "v1 serves production/eu again; 30 name searches show no HR documents."),
            (
                "link",
                "ml3",
                "https://grafana.internal.example/d/search-reranker?var-region=eu",
                "Search reranker dashboard (EU)",
            ),
            ("assign", "ml3", "product3"),
            (
                "comment",
                "product3",
                (
                    "Taking the incident over for the DPO notification and the HR follow-up; Jonas keeps working "
                    "on the index rebuild."
                ),
            ),
            (
                "notes",
                "product3",
                {
                    "affected_persons": (
                        "Employees in the EU whose HR case notes were indexed (23 documents, 17 people named), and "
                        "the colleagues who saw excerpts: 41 searches returned one in the top three."
                    ),
                    "root_cause": (
                        "The June index job crawled the whole HR share instead of the published policy folder; the "
                        "index review checked sources by folder name only."
                    ),
                    "corrective_actions_planned": (
                        "Rebuild the June index from an allow-list of folders (ml3, this week)\n"
                        "An evaluation that searches 200 employee names and fails on any HR document (ml3)\n"
                        "Tell the people named, with HR and the DPO (product3)"
                    ),
                },
            ),
            (
                "submit",
                "product3",
                "initial",
                "Data protection and AI market surveillance authority",
                "AI-INC-2026-0193",
                "Initial report sent by the secure upload form; the complete report follows once HR has finished.",
            ),
        ],
    },
    {
        "feature": "code-assistant",
        "environment": "production",
        "region": "us",
        "severity": "sev3",
        "reporter": "support",
        "title": "Completions slow for US engineers in the afternoon",
        "opened": ("day", 1, "19:10"),
        "impact_minutes": 190,
        "after": [25, 55],
        "description": (
            "Service-desk tickets from the New York office: suggestions take 2-3 s to appear between 14:00 and "
            "17:00 ET, against an 800 ms SLO. EU and UK engineers are not affected."
        ),
        "customer_impact": "Internal only: US engineers get slow or no completions (the plugin gives up after 3 s).",
        "steps": [
            (
                "status",
                "ml3",
                "investigating",
                (
                    "p95 at 2.4 s in us; Sonnet 4 is slow only from us-east. Checking why the GPT-4o fallback "
                    "kicks in so late."
                ),
            ),
            (
                "comment",
                "product3",
                "Posted in #eng-announcements: work continues without suggestions; no action needed.",
            ),
        ],
    },
    {
        "feature": "contract-summariser",
        "environment": "production",
        "region": "eu",
        "severity": "sev1",
        "reporter": "support",
        "title": "Summaries quote clauses from another supplier's contract",
        "opened": ("hours", 3),
        "impact_minutes": 150,
        "after": [15, 40],
        "description": (
            "Procurement reported that the summary of a facilities-management renewal lists a liability cap "
            "and sub-processors that belong to a different supplier's contract. Two more summaries from today "
            "show the same. Supplier contracts are confidential."
        ),
        "customer_impact": (
            "Internal users only, but confidential terms of one supplier were shown to a procurement officer "
            "working on an unrelated deal. Procurement has stopped relying on the summaries."
        ),
        "steps": [
            (
                "comment",
                "product3",
                (
                    "Procurement is back on the manual review checklist (our operational fallback). Legal is assessing "
                    "the NDA question. No promotions of this feature until we know the cause."
                ),
            ),
            (
                "comment",
                "ml3",
                (
                    "On it. Every wrong clause comes from a document uploaded in the same minute; suspect the upload "
                    "cache keys on the file name (several suppliers send 'contract.pdf'). Rolling back is not an "
                    "option: v2 is the first version in production."
                ),
            ),
        ],
    },
]

# One incident opened by Alertmanager and cleared by it, then resolved by the incident owner.
ALERT = {
    "actor": "support",
    "fingerprint": "demo-alert-chatbot-latency",
    # Fires at ``opened`` (it started ``impact_minutes`` before), clears ``cleared`` minutes later; ``after`` and
    # ``after_cleared``: minutes from the firing to each step.
    "opened": ("day", 12, "19:42"),
    "impact_minutes": 9,
    "after": [14],
    "cleared": 52,
    "after_cleared": [95],
    "labels": {
        "alertname": "ChatbotFirstTokenLatencyHigh",
        "feature": "customer-support-chatbot",
        "environment": "production",
        "region": "eu",
        "severity": "warning",
    },
    "annotations": {
        "summary": "Chatbot first-token latency above 1.5 s (p95, EU)",
        "description": "p95 time to first token has been above the 1.5 s SLO for 10 minutes in production/eu.",
    },
    "while_firing": [
        (
            "comment",
            "ml",
            (
                "Claude 3.5 Haiku is slow from the EU endpoint; requests do not time out, so the GPT-4o mini fallback "
                "never takes over. Watching before changing anything."
            ),
        ),
    ],
    "after_resolved": [
        (
            "status",
            "ml",
            "resolved",
            (
                "Alert cleared: latency back under 1.5 s once the vendor's EU capacity recovered. Follow-up: a 1.2 s "
                "first-token timeout so the fallback takes over next time."
            ),
        ),
    ],
}


class StepSkipped(Exception):
    """An incident that cannot go as planned on this database; it is rolled back and reported."""


# --- Applying it --------------------------------------------------------------------------------


class IncidentSeeder:
    """Puts ``INCIDENTS`` and ``ALERT`` on the demo's agenda: the opening at its moment and each step at its
    minute after it, through the incidents services. An incident whose feature already has one with its
    title (or, for the alert, its fingerprint) is left as it is. A step that is refused is undone and
    reported, and the incident's later steps are left out."""

    def __init__(self, *, created: Counter, regions: dict[str, Region], clock):
        self.created = created
        self.regions = regions
        self.clock = clock
        self.skipped: list[str] = []

    def plan(self, agenda) -> None:
        for spec in INCIDENTS:
            self.plan_incident(agenda, spec)
        self.plan_alert(agenda, ALERT)

    def moment(self, opened: tuple):
        kind, *args = opened
        return {"workday": self.clock.workday, "day": self.clock.day, "hours": self.clock.hours_ago}[kind](*args)

    def plan_incident(self, agenda, spec: dict) -> None:
        if len(spec["after"]) != len(spec["steps"]):
            raise ValueError(f"Incident {spec['title']!r}: one time per step in 'after'")
        state = {"incident": None}
        label = f"incident {spec['title']!r} on {spec['feature']}"
        opened = self.moment(spec["opened"])
        agenda.add(opened, lambda: self.guarded(label, state, self._open, spec, state))
        for minutes, step in zip(spec["after"], spec["steps"], strict=True):
            agenda.add(
                opened + timedelta(minutes=minutes),
                lambda step=step: self.guarded(label, state, self.apply_step, state, step),
            )

    def plan_alert(self, agenda, spec: dict) -> None:
        state = {"incident": None}
        label = f"alert {spec['fingerprint']}"
        opened = self.moment(spec["opened"])
        agenda.add(opened, lambda: self.guarded(label, state, self._fire, spec, state))
        for minutes, step in zip(spec["after"], spec["while_firing"], strict=True):
            agenda.add(
                opened + timedelta(minutes=minutes),
                lambda step=step: self.guarded(label, state, self.apply_step, state, step),
            )
        agenda.add(
            opened + timedelta(minutes=spec["cleared"]), lambda: self.guarded(label, state, self._clear, spec, state)
        )
        for minutes, step in zip(spec["after_cleared"], spec["after_resolved"], strict=True):
            agenda.add(
                opened + timedelta(minutes=minutes),
                lambda step=step: self.guarded(label, state, self.apply_step, state, step),
            )

    def guarded(self, label: str, state: dict, apply, *args) -> None:
        """One entry in a savepoint: if it cannot go as planned, it is undone and reported, and the
        incident's later entries are left out."""
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

    @staticmethod
    def _user(username: str):
        """A fresh instance per entry: no roles or object permissions cached from an earlier moment."""
        return get_user_model().objects.get(username=username)

    def _open(self, spec: dict, state: dict) -> None:
        state["done"] = True  # until it is opened
        if Incident.objects.filter(feature__slug=spec["feature"], title=spec["title"]).exists():
            return  # done on an earlier run (or by hand): whatever state it is in stays
        feature = AIFeature.objects.get(slug=spec["feature"])
        region = self.regions[spec["region"]]
        label = f"incident {spec['title']!r} on {feature.slug}"
        if spec.get("live"):
            deployment = (
                Deployment.objects.filter(feature=feature, environment=spec["environment"], region=region)
                .select_related("version")
                .first()
            )
            if deployment is None or deployment.version.number != spec["live"]:
                live = f"v{deployment.version.number}" if deployment else "nothing"
                raise StepSkipped(
                    f"{label}: needs v{spec['live']} live in {spec['environment']}/{region.code}, {live} is"
                )
        state["incident"] = services.incident_open(
            actor=self._user(spec["reporter"]),
            feature=feature,
            environment=spec["environment"],
            region=region,
            severity=spec["severity"],
            impact_start=timezone.now() - timedelta(minutes=spec["impact_minutes"]),
            title=spec["title"],
            description=spec["description"],
            customer_impact=spec.get("customer_impact", ""),
        )
        state["done"] = False
        self.created["incidents"] += 1

    @staticmethod
    def _alert_payload(spec: dict, status: str) -> dict:
        starts = timezone.now() - timedelta(minutes=spec["impact_minutes"])
        alert = {
            "status": status,
            "fingerprint": spec["fingerprint"],
            "labels": spec["labels"],
            "annotations": spec["annotations"],
            "startsAt": starts.isoformat(),
        }
        return {"version": "4", "receiver": "gatehouse", "status": status, "alerts": [alert]}

    def _fire(self, spec: dict, state: dict) -> None:
        state["done"] = True  # until it is opened
        if Incident.objects.filter(alert_fingerprint=spec["fingerprint"]).exists():
            return  # an incident for this alert exists (made earlier, or by hand): leave it
        [outcome] = services.alertmanager_ingest(
            actor=self._user(spec["actor"]), payload=self._alert_payload(spec, "firing")
        )
        if outcome.get("result") != "opened":
            raise StepSkipped(f"alert {spec['fingerprint']}: {outcome}")
        state["incident"], state["done"] = Incident.objects.get(pk=outcome["incident"]), False
        self.created["incidents"] += 1

    def _clear(self, spec: dict, state: dict) -> None:
        [outcome] = services.alertmanager_ingest(
            actor=self._user(spec["actor"]), payload=self._alert_payload(spec, "resolved")
        )
        if outcome.get("result") != "alert_resolved":
            raise StepSkipped(f"alert {spec['fingerprint']}: the resolved payload gave {outcome}")

    def apply_step(self, state: dict, step: tuple) -> None:
        kind, username, *args = step
        incident = Incident.objects.get(pk=state["incident"].pk)
        actor = self._user(username)
        if kind == "status":
            status, note, *rest = args
            services.incident_transition(
                actor=actor, incident=incident, status=status, note=note, **(rest[0] if rest else {})
            )
        elif kind == "comment":
            services.incident_comment(actor=actor, incident=incident, body=args[0])
        elif kind == "link":
            url, title = args
            services.incident_add_link(actor=actor, incident=incident, url=url, title=title)
        elif kind == "assign":
            services.incident_assign(actor=actor, incident=incident, owner=self._user(args[0]))
        elif kind == "rollback":
            number, reason = args
            kept = incident.snapshots.count()
            services.incident_rollback(
                actor=actor, incident=incident, reason=reason, to_version=incident.feature.versions.get(number=number)
            )
            self.created["rollbacks"] += 1
            self.created["evidence snapshots"] += incident.snapshots.count() - kept
        elif kind == "serious":
            criteria, reason = args
            services.incident_mark_serious(
                actor=actor, incident=incident, criteria=criteria, aware_at=timezone.now(), reason=reason
            )
            self.created["serious incidents"] += 1
        elif kind == "notes":
            services.report_notes_save(actor=actor, incident=incident, **args[0])
        elif kind == "submit":
            report, authority, reference, note = args
            services.incident_record_submission(
                actor=actor,
                incident=incident,
                kind=report,
                authority=authority,
                submitted_at=timezone.now(),
                reference=reference,
                note=note,
            )
            self.created["report submissions"] += 1
        else:
            raise ValueError(f"Unknown incident step {kind!r}")


def incident_totals() -> list[tuple[str, int]]:
    """Counts for seed_demo's summary: incidents by status."""
    totals = [("incidents", Incident.objects.count())]
    for status in IncidentStatus.values:
        totals.append((f"  {status}", Incident.objects.filter(status=status).count()))
    totals.append(
        (
            "  serious, report due",
            Incident.objects.exclude(serious_criteria=[]).filter(report_completed_at=None).count(),
        )
    )
    totals.append(("evidence snapshots", EvidenceSnapshot.objects.count()))
    return totals
