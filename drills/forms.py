from django import forms

from drills.choices import MAX_DAYS, DrillKind
from registry.models import CatalogModel, Region, Vendor


class ModelChoice(forms.ModelChoiceField):
    def label_from_instance(self, model):
        return f"{model.vendor.name} · {model.identifier} ({model.get_status_display().lower()})"


class DrillForm(forms.Form):
    """Types only; which subject a scenario needs is checked by the service (``drills.scenarios.drill_spec``)."""

    kind = forms.ChoiceField(choices=DrillKind.choices, widget=forms.RadioSelect, label="Scenario")
    vendor = forms.ModelChoiceField(
        queryset=Vendor.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="Choose a vendor",
        help_text="For “vendor unavailable”.",
    )
    model = ModelChoice(
        queryset=CatalogModel.objects.select_related("vendor").order_by("vendor__name", "identifier"),
        required=False,
        empty_label="Choose a model",
        help_text="For “model suspended”.",
    )
    region = forms.ModelChoiceField(
        queryset=Region.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label="Choose a region",
        help_text="For “region lost”.",
    )
    days = forms.IntegerField(
        min_value=1,
        max_value=MAX_DAYS,
        required=False,
        label="Days",
        help_text="For “evidence older”: judge every live version's evidence as if this many days had passed.",
    )
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text="Why this drill (kept with the report).",
    )

    def subject(self) -> dict:
        data = self.cleaned_data
        return {key: data.get(key) for key in ("kind", "vendor", "model", "region", "days")}
