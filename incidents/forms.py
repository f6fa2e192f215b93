from datetime import UTC

from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.widgets import RadioGroup, SuggestionsInput, in_time_zone
from incidents.choices import INCIDENT_TRANSITIONS, IncidentStatus, ReportKind, SeriousCriterion, Severity
from incidents.models import SeriousReport
from registry.choices import Environment
from registry.models import Region
from registry.widgets import FeatureSlugField

DATETIME_INPUT = {
    "widget": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    "input_formats": ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
}


class IncidentForm(forms.Form):
    # Not a <select> of every visible feature: it grew with the registry (5,000 features: 280 kB of HTML on
    # every view of this page).
    feature = FeatureSlugField()
    environment = forms.ChoiceField(choices=Environment.choices, initial=Environment.PRODUCTION)
    region = forms.ModelChoiceField(queryset=Region.objects.order_by("code"), to_field_name="code")
    severity = forms.ChoiceField(
        choices=Severity.choices,
        initial=Severity.SEV3,
        help_text="SEV1 and SEV2 freeze promotions of the feature while open or investigating.",
    )
    impact_start = forms.DateTimeField(label="Impact started at", help_text="May be in the past.", **DATETIME_INPUT)
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    customer_impact = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, features, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["feature"].queryset = features
        self.fields["impact_start"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
        in_time_zone(self.fields["impact_start"], "May be in the past.")
        self.fields["region"].label_from_instance = lambda region: f"{region.code} ({region.name})"


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Comment")
    corrective = forms.BooleanField(
        required=False,
        label="This records a corrective action taken",
        help_text="A serious incident's report lists it among the corrective actions.",
    )


class TransitionForm(forms.Form):
    status = forms.ChoiceField(choices=())
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    root_cause = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Required to close a SEV1 or SEV2."
    )
    follow_ups = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One action per line. Required to close a SEV1 or SEV2.",
    )
    postmortem_url = forms.URLField(required=False, assume_scheme="https", label="Postmortem URL")

    def __init__(self, *args, incident, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = INCIDENT_TRANSITIONS[incident.status]
        self.fields["status"].choices = [(value, label) for value, label in IncidentStatus.choices if value in allowed]
        self.fields["root_cause"].initial = incident.root_cause
        self.fields["follow_ups"].initial = incident.follow_ups


class AssignForm(forms.Form):
    """The new owner by username, in a box that suggests people as you type: a <select> of every active
    user grew with the organisation (1,500 people: 70 kB and 60 ms on every view of the incident page)."""

    owner = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True),
        to_field_name="username",
        widget=SuggestionsInput(attrs={"placeholder": "Type a name or username"}),
        error_messages={"invalid_choice": "No active user has the username “%(value)s”."},
    )

    def __init__(self, *args, incident=None, **kwargs):
        super().__init__(*args, **kwargs)
        if incident is not None:
            self.fields["owner"].widget.suggestions_url = reverse("incidents:owner_suggestions", args=[incident.pk])
            # Who cannot hold the job is refused in the service, with the reason, on this field.


class LinkForm(forms.Form):
    url = forms.URLField(assume_scheme="https", label="URL")
    title = forms.CharField(required=False, max_length=200)


class IncidentRollbackForm(forms.Form):
    # Radio buttons, not a menu: each choice is read whole (its change summary wraps instead of being cut).
    to_version = forms.ModelChoiceField(
        queryset=None, label="Roll back to", empty_label=None, widget=RadioGroup(label="Roll back to")
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_version"].queryset = candidates
        self.fields["to_version"].label_from_instance = lambda version: (
            f"v{version.number}" + (f" ({version.change_summary})" if version.change_summary else "")
        )


class SeriousForm(forms.Form):
    """Marking an incident serious (EU AI Act Art. 3(49)) and when the provider became aware of it."""

    criteria = forms.MultipleChoiceField(
        choices=SeriousCriterion.choices,
        widget=forms.CheckboxSelectMultiple,
        label="It meets",
        help_text="At least one: these make an incident serious.",
    )
    death = forms.BooleanField(required=False, label="A person died (the report is due within 10 days)")
    widespread = forms.BooleanField(
        required=False, label="The infringement is widespread (the report is due within 2 days)"
    )
    aware_at = forms.DateTimeField(label="We became aware it is serious at", **DATETIME_INPUT)
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Why")

    def __init__(self, *args, incident=None, **kwargs):
        super().__init__(*args, **kwargs)
        in_time_zone(self.fields["aware_at"])
        if incident is not None and incident.is_serious:
            self.initial.update(
                criteria=incident.serious_criteria,
                death=incident.serious_death,
                widespread=incident.serious_widespread,
                aware_at=timezone.localtime(incident.aware_at).strftime("%Y-%m-%dT%H:%M"),
            )
        else:
            self.initial.setdefault("aware_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))


class ReportNotesForm(forms.ModelForm):
    """The parts of a serious incident's report only people know; the rest is drafted from the record."""

    class Meta:
        model = SeriousReport
        fields = list(SeriousReport.WRITTEN_FIELDS)
        labels = {
            "affected_persons": "Who was affected",
            "root_cause": "Root cause so far",
            "corrective_actions_planned": "Corrective actions planned",
            "further_information": "Anything else the authority should know",
        }
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in SeriousReport.WRITTEN_FIELDS}


class SubmissionForm(forms.Form):
    """Recording a report sent to the authority: the draft read (its moment and SHA-256) comes along."""

    kind = forms.ChoiceField(choices=ReportKind.choices, label="What was sent")
    authority = forms.CharField(max_length=200, label="Sent to (the market surveillance authority)")
    submitted_at = forms.DateTimeField(label="Sent at", **DATETIME_INPUT)
    reference = forms.CharField(max_length=200, required=False, label="The authority's reference")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    as_of = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    draft_sha256 = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        in_time_zone(self.fields["submitted_at"])
        if kinds is not None:
            self.fields["kind"].choices = [(value, label) for value, label in ReportKind.choices if value in kinds]
        self.initial.setdefault("submitted_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))

    def clean_as_of(self):
        """The moment of the draft read, as the page wrote it (ISO 8601); none: now."""
        typed = self.cleaned_data["as_of"]
        if not typed:
            return None
        moment = moment_from(typed)
        if moment is None:
            raise forms.ValidationError("That is not the moment of a draft: read the draft again.")
        return moment


def moment_from(typed: str):
    """An ISO 8601 moment (UTC when it names no zone), or None."""
    try:
        moment = parse_datetime(typed.strip())
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = timezone.make_aware(moment, UTC)
    return moment


class SnapshotForm(forms.Form):
    note = forms.CharField(required=False, max_length=2000, label="Why now", widget=forms.TextInput(attrs={"size": 40}))
