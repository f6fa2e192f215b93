"""The compliance pages' forms."""

from __future__ import annotations

from django import forms

from compliance.choices import AnnexIIIArea, Category, HighRiskBasis, Role, TransparencyDuty
from compliance.models import Applicability, Implementation
from compliance.services.documents import MAX_BODY
from compliance.standards import ISO_CONTROLS
from core.widgets import SearchableCheckboxes, SearchableSelect
from registry.models import Region


class ProfileForm(forms.Form):
    category = forms.ChoiceField(choices=Category.choices, label="EU AI Act category")
    high_risk_basis = forms.ChoiceField(
        choices=[("", "—")] + HighRiskBasis.choices, required=False, label="Why high-risk"
    )
    annex_iii_area = forms.ChoiceField(
        choices=[("", "—")] + AnnexIIIArea.choices, required=False, label="Annex III area"
    )
    annex_i_product = forms.CharField(
        max_length=200, required=False, label="Annex I product law", help_text="For a safety component of a product."
    )
    transparency_duties = forms.MultipleChoiceField(
        choices=TransparencyDuty.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="What people must be told (limited risk; a high-risk feature may carry them too).",
    )
    role = forms.ChoiceField(
        choices=Role.choices, help_text="Provider: you place it on the market; deployer: you use it."
    )
    markets = forms.ModelMultipleChoiceField(
        queryset=Region.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        help_text="Why this category: the use, who is affected, what it decides.",
    )
    conformity_reference = forms.CharField(
        max_length=200, required=False, label="Declaration of conformity reference", help_text="Once issued."
    )
    retention_years = forms.IntegerField(
        min_value=10, max_value=50, initial=10, label="Keep the technical file for (years)"
    )
    confirm = forms.BooleanField(
        required=False, label="Confirm it now", help_text="Governance: its rules apply from now."
    )

    def __init__(self, *args, may_confirm: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["markets"].queryset = Region.objects.order_by("code")
        if not may_confirm:
            del self.fields["confirm"]


class ConfirmForm(forms.Form):
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class DraftForm(forms.Form):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 16}),
        max_length=MAX_BODY,
        label="Text",
        help_text="Plain text; blank lines separate paragraphs. Link longer material.",
    )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("send_back", "Send back")], widget=forms.RadioSelect)
    note = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), help_text="Required to send back."
    )


class _PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        name = user.get_full_name()
        return f"{name} ({user.get_username()})" if name else user.get_username()


def _active_people():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(is_active=True).order_by("username")


class ControlForm(forms.Form):
    """Governance's decision on one ISO/IEC 42001 Annex A control (``compliance.services.standards``)."""

    applicability = forms.ChoiceField(choices=Applicability.choices, widget=forms.RadioSelect)
    implementation = forms.ChoiceField(choices=Implementation.choices, label="In place?")
    justification = forms.CharField(
        required=False,
        label="Why",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Why it applies and how Gatehouse's records show it is met; or why it does not apply.",
    )
    owner = _PersonChoiceField(queryset=_active_people().none(), required=False, widget=SearchableSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _active_people()


class EvidenceForm(forms.Form):
    reference = forms.CharField(
        max_length=500,
        label="Address of the record's page",
        help_text="Open the page that shows the evidence in Gatehouse and paste its address, e.g. "
        "/features/kyc-check/versions/3/ or /incidents/12/.",
    )


class SubcategoryForm(forms.Form):
    controls = forms.MultipleChoiceField(
        choices=[(control.id, f"{control.id} {control.topic}") for control in ISO_CONTROLS],
        required=False,
        widget=SearchableCheckboxes,
        label="Annex A controls whose evidence shows it",
    )
    implementation = forms.ChoiceField(choices=Implementation.choices, label="In place?")
    notes = forms.CharField(required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 4}))
    owner = _PersonChoiceField(queryset=_active_people().none(), required=False, widget=SearchableSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _active_people()
