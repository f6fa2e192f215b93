"""The compliance pages' forms."""

from __future__ import annotations

from django import forms

from compliance.choices import AnnexIIIArea, Category, HighRiskBasis, Role, TransparencyDuty
from compliance.services.documents import MAX_BODY
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
