from django import forms

from approvals.choices import Decision, Gate, ReadinessItem, RequirementKind
from approvals.models import GatePolicy
from registry.choices import Environment, EvaluationKind, RiskTier, Role
from registry.models import AIFeature

SIGNING_ROLES = [role for role in Role if role != Role.AUDITOR]


class GateRequestForm(forms.Form):
    environment = forms.ChoiceField(
        choices=Environment.choices, widget=forms.RadioSelect, initial=Environment.PRODUCTION
    )
    regions = forms.ModelMultipleChoiceField(queryset=None, widget=forms.CheckboxSelectMultiple)
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Note for the reviewers",
        help_text="What changed, what to look at, links to anything they need.",
    )

    def __init__(self, *args, feature: AIFeature, previews: dict[str, dict] | None = None, **kwargs):
        """``previews``: what resolve would answer per region code were the version live there
        (``registry.extensions.route_preview``): regions it would refuse are not ticked, and say why."""
        super().__init__(*args, **kwargs)
        previews = previews or {}
        refused = {code: answer for code, answer in previews.items() if answer["refusal"]}

        def label(region):
            answer = refused.get(region.code)
            if answer is None:
                return f"{region.code} ({region.name})"
            why = " ".join(answer["reasons"]) or answer["refusal"]
            return f"{region.code} ({region.name}): resolve would refuse it. {why}"

        self.fields["regions"].queryset = feature.regions.order_by("code")
        self.fields["regions"].label_from_instance = label
        self.fields["regions"].initial = [region for region in feature.regions.all() if region.code not in refused]
        if refused:
            self.fields["regions"].help_text = (
                f"Not ticked: {', '.join(sorted(refused))}. This version could not serve there, so a request for "
                "it is refused; fix the version (policy pack, models) or leave the region out."
            )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=Decision.choices)
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class PromoteForm(forms.Form):
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Note",
        help_text="Recorded with the deployment, e.g. the change ticket.",
    )


class GatePolicyForm(forms.Form):
    """The whole policy on one screen: how many signers per role, which evidence, which readiness."""

    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    review_sla_hours = forms.IntegerField(min_value=1, max_value=24 * 30, label="Review SLA (hours)")
    approval_valid_days = forms.IntegerField(min_value=1, max_value=365, label="Approval valid for (days)")
    due_soon_days = forms.IntegerField(
        min_value=0,
        max_value=365,
        label="Evidence due soon (days before its maximum age)",
        help_text="The freshness sweep warns owners this long before evidence goes stale.",
    )
    escalation_grace_days = forms.IntegerField(
        min_value=0,
        max_value=365,
        label="Escalate after (days)",
        help_text="Stale, failing or missing production evidence opens a governance incident after this long.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why this change",
        help_text="Recorded in the audit trail with the old and new policy.",
    )
    previewed = forms.CharField(
        required=False,
        widget=forms.HiddenInput,
        help_text="Names the requirements whose preview was shown: saving confirms them.",
    )

    def __init__(self, *args, policy: GatePolicy, previewing: bool = False, **kwargs):
        requirements = list(policy.requirements.all())
        initial = {
            "description": policy.description,
            "review_sla_hours": policy.review_sla_hours,
            "approval_valid_days": policy.approval_valid_days,
            "due_soon_days": policy.due_soon_days,
            "escalation_grace_days": policy.escalation_grace_days,
        }
        for requirement in requirements:
            if requirement.kind == RequirementKind.SIGNOFF:
                initial[f"signoff_{requirement.role}"] = requirement.count
            elif requirement.kind == RequirementKind.EVIDENCE:
                initial[f"evidence_{requirement.evidence_kind}"] = True
                initial[f"evidence_{requirement.evidence_kind}_max_age_days"] = requirement.max_age_days
                initial[f"evidence_{requirement.evidence_kind}_min_score"] = requirement.min_score
            else:
                initial[f"readiness_{requirement.readiness_item}"] = True
        kwargs["initial"] = {**initial, **(kwargs.get("initial") or {})}  # FormView always passes initial={}
        super().__init__(*args, **kwargs)
        for role in SIGNING_ROLES:
            self.fields[f"signoff_{role}"] = forms.IntegerField(
                min_value=0,
                max_value=5,
                required=False,
                label=role.label,
                widget=forms.NumberInput(attrs={"class": "input-5rem"}),
            )
        for kind in EvaluationKind:
            self.fields[f"evidence_{kind}"] = forms.BooleanField(required=False, label=kind.label)
            self.fields[f"evidence_{kind}_max_age_days"] = forms.IntegerField(
                min_value=1,
                required=False,
                label="max age (days)",
                widget=forms.NumberInput(attrs={"class": "input-6rem"}),
            )
            self.fields[f"evidence_{kind}_min_score"] = forms.FloatField(
                required=False,
                label="min score",
                widget=forms.NumberInput(attrs={"class": "input-6rem", "step": "any"}),
            )
        for item in ReadinessItem:
            self.fields[f"readiness_{item}"] = forms.BooleanField(required=False, label=item.label)
        if previewing:  # a preview changes nothing: the reason is asked for when saving
            self.fields["reason"].required = False

    def freshness_fields(self):
        return [self["due_soon_days"], self["escalation_grace_days"]]

    def signoff_rows(self):
        return [self[f"signoff_{role}"] for role in SIGNING_ROLES]

    def evidence_rows(self):
        return [
            (self[f"evidence_{kind}"], self[f"evidence_{kind}_max_age_days"], self[f"evidence_{kind}_min_score"])
            for kind in EvaluationKind
        ]

    def readiness_rows(self):
        return [self[f"readiness_{item}"] for item in ReadinessItem]

    def requirements(self) -> list[dict]:
        data = self.cleaned_data
        found = [
            {"kind": RequirementKind.SIGNOFF, "role": role.value, "count": data[f"signoff_{role}"]}
            for role in SIGNING_ROLES
            if data.get(f"signoff_{role}")
        ]
        found += [
            {
                "kind": RequirementKind.EVIDENCE,
                "evidence_kind": kind.value,
                "max_age_days": data.get(f"evidence_{kind}_max_age_days"),
                "min_score": data.get(f"evidence_{kind}_min_score"),
            }
            for kind in EvaluationKind
            if data.get(f"evidence_{kind}")
        ]
        found += [
            {"kind": RequirementKind.READINESS, "readiness_item": item.value}
            for item in ReadinessItem
            if data.get(f"readiness_{item}")
        ]
        return found


class GateAssignmentForm(forms.Form):
    """Which gate each risk tier needs per environment, as a grid of selects."""

    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Why this change")

    def __init__(self, *args, assignments: dict[tuple[str, str], str], **kwargs):
        super().__init__(*args, **kwargs)
        for environment in Environment:
            for tier in RiskTier:
                self.fields[f"{environment}__{tier}"] = forms.ChoiceField(
                    choices=Gate.choices,
                    initial=assignments.get((tier.value, environment.value)),
                    label=f"{tier.label} → {environment.label}",
                )

    def grid(self):
        return [(environment, [self[f"{environment}__{tier}"] for tier in RiskTier]) for environment in Environment]

    def changed_assignments(self):
        for name in self.changed_data:
            if "__" in name:
                environment, tier = name.split("__")
                yield tier, environment, self.cleaned_data[name]
