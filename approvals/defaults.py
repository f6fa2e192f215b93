"""The gates as shipped: sensible defaults governance admins then edit in the app.

Used by the data migration, and by tests and seed_demo (a flushed test database loses migration data).
"""

SIGNOFF, EVIDENCE, READINESS = "signoff", "evidence", "readiness"

POLICIES = {
    "sandbox": {
        "description": "Basic safety checks and a clear data boundary before anyone outside the team sees it.",
        "review_sla_hours": 72,
        "approval_valid_days": 30,
        "requirements": [
            (SIGNOFF, {"role": "ml", "count": 1}),
            (EVIDENCE, {"evidence_kind": "safety", "max_age_days": 180}),
        ],
    },
    "production": {
        "description": "Benchmarks, privacy review, a rollback plan and a monitor before customers see it.",
        "review_sla_hours": 48,
        "approval_valid_days": 14,
        "requirements": [
            (SIGNOFF, {"role": "ml", "count": 1}),
            (SIGNOFF, {"role": "security", "count": 1}),
            (SIGNOFF, {"role": "legal", "count": 1}),
            (SIGNOFF, {"role": "product", "count": 1}),
            (EVIDENCE, {"evidence_kind": "benchmark", "max_age_days": 90}),
            (EVIDENCE, {"evidence_kind": "safety", "max_age_days": 90}),
            (EVIDENCE, {"evidence_kind": "privacy_review", "max_age_days": 365}),
            (READINESS, {"readiness_item": "rollback_path"}),
            (READINESS, {"readiness_item": "monitor"}),
        ],
    },
    "regulated": {
        "description": "Production's checks plus red team, regional-language evidence and two security reviewers.",
        "review_sla_hours": 48,
        "approval_valid_days": 7,
        "requirements": [
            (SIGNOFF, {"role": "ml", "count": 1}),
            (SIGNOFF, {"role": "security", "count": 2}),
            (SIGNOFF, {"role": "legal", "count": 1}),
            (SIGNOFF, {"role": "product", "count": 1}),
            (EVIDENCE, {"evidence_kind": "benchmark", "max_age_days": 90}),
            (EVIDENCE, {"evidence_kind": "safety", "max_age_days": 90}),
            (EVIDENCE, {"evidence_kind": "privacy_review", "max_age_days": 365}),
            (EVIDENCE, {"evidence_kind": "red_team", "max_age_days": 180}),
            (EVIDENCE, {"evidence_kind": "regional_language", "max_age_days": 180}),
            (READINESS, {"readiness_item": "rollback_path"}),
            (READINESS, {"readiness_item": "monitor"}),
            (READINESS, {"readiness_item": "incident_owner"}),
            (READINESS, {"readiness_item": "slos"}),
        ],
    },
}

ASSIGNMENTS = {
    ("low", "sandbox"): "sandbox",
    ("medium", "sandbox"): "sandbox",
    ("high", "sandbox"): "sandbox",
    ("regulated", "sandbox"): "sandbox",
    ("low", "production"): "production",
    ("medium", "production"): "production",
    ("high", "production"): "production",
    ("regulated", "production"): "regulated",
}


def install_default_policies(GatePolicy, GateRequirement, GateAssignment) -> None:
    """Create the shipped gates where missing. Takes the model classes so migrations can pass theirs."""
    for gate, spec in POLICIES.items():
        policy, created = GatePolicy.objects.get_or_create(
            gate=gate,
            defaults={key: spec[key] for key in ("description", "review_sla_hours", "approval_valid_days")},
        )
        if created:
            for kind, fields in spec["requirements"]:
                GateRequirement.objects.create(policy=policy, kind=kind, **fields)
    for (tier, environment), gate in ASSIGNMENTS.items():
        GateAssignment.objects.get_or_create(risk_tier=tier, environment=environment, defaults={"gate": gate})
