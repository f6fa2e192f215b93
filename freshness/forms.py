"""Forms of the monitoring plan pages. They parse; ``freshness.plans`` decides."""

from __future__ import annotations

from django import forms

from freshness.plans import MAX_INTERVAL_DAYS, NOTE_LENGTH, REVIEWER_ROLES
from registry.choices import EvaluationKind
from registry.permissions import feature_owner_candidates


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        name = user.get_full_name()
        return f"{name} ({user.get_username()})" if name else user.get_username()


class MonitoringPlanForm(forms.Form):
    monitors = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        label="Monitors",
        help_text="The feature's dashboards and alerts this plan relies on. Add others on the feature first.",
    )
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=NOTE_LENGTH,
        label="What is watched",
        help_text="The signals that call for action (drift, complaints, error rates) and what is done then.",
    )
    reviewer = PersonChoiceField(
        queryset=feature_owner_candidates().none(),
        required=False,
        label="Reviewer (a person)",
        help_text="Who reviews what the monitoring shows. Or name a role below instead.",
    )
    reviewer_role = forms.ChoiceField(
        choices=[("", "—"), *REVIEWER_ROLES],
        required=False,
        label="Reviewer (a role)",
        help_text="Anyone holding this role who may see the feature records the review.",
    )
    review_interval_days = forms.IntegerField(
        min_value=1, max_value=MAX_INTERVAL_DAYS, initial=30, label="Review every (days)"
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why",
        help_text="Why the plan is made or changed: kept in the audit trail.",
    )

    def __init__(self, *args, feature, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["monitors"].choices = [(link, link) for link in feature.monitor_links]
        self.fields["reviewer"].queryset = feature_owner_candidates().order_by("username")
        rules = {rule.kind: rule.interval_days for rule in plan.evaluations.all()} if plan else {}
        for kind, label in EvaluationKind.choices:
            self.fields[f"every_{kind}"] = forms.IntegerField(
                min_value=1,
                max_value=MAX_INTERVAL_DAYS,
                required=False,
                initial=rules.get(kind),
                label=f"{label}: run again every (days)",
                help_text="Leave empty if the plan does not ask for it.",
            )
        if plan is not None and not self.is_bound:
            self.initial.update(
                monitors=plan.monitors,
                notes=plan.notes,
                reviewer=plan.reviewer_id,
                reviewer_role=plan.reviewer_role,
                review_interval_days=plan.review_interval_days,
            )
        elif not self.is_bound:
            self.initial.setdefault("monitors", feature.monitor_links)
        # The reason last, after the evaluation kinds.
        self.order_fields([name for name in self.fields if name != "reason"] + ["reason"])

    def evaluations(self) -> dict[str, int]:
        return {
            kind: self.cleaned_data[f"every_{kind}"]
            for kind in EvaluationKind.values
            if self.cleaned_data.get(f"every_{kind}") is not None
        }


class ReviewForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=NOTE_LENGTH,
        label="What the monitoring showed",
        help_text="What you looked at, what it showed and what, if anything, follows. Kept in the audit trail.",
    )
