"""Forms of the connector pages."""

from __future__ import annotations

from django import forms

from registry.choices import Environment, EvaluationKind
from registry.models import AIFeature, CatalogModel, Team
from registry.permissions import is_governance, user_team_ids


class ServerForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="How Gatehouse names it, e.g. ML platform MLflow.")
    url = forms.URLField(
        label="Tracking server URL",
        max_length=300,
        assume_scheme="https",
        help_text="e.g. https://mlflow.example.internal",
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        required=False,
        empty_label="Governance (every team)",
        help_text="The team that owns it: its members manage it, and it feeds only that team's features.",
    )
    token = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again; user:password for basic authentication.",
    )
    token_env = forms.CharField(
        label="Or the environment variable holding the token",
        max_length=100,
        required=False,
        help_text="Set on the Gatehouse workers, e.g. MLFLOW_TRACKING_TOKEN; never stored.",
    )

    import_prompts = forms.BooleanField(
        required=False,
        label="Import MLflow's prompt registry",
        help_text="Each new version of an MLflow prompt becomes the next version of the catalog prompt of that name.",
    )

    def __init__(self, *args, user, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        teams = Team.objects.order_by("name")
        if not is_governance(user):
            teams = teams.filter(pk__in=user_team_ids(user))
            self.fields["team"].required = True
            self.fields["team"].empty_label = None
        self.fields["team"].queryset = teams
        if editing:
            del self.fields["team"]
            self.fields["token"].help_text = "Leave empty to keep the stored token. " + self.fields["token"].help_text
            self.fields["active"] = forms.BooleanField(
                required=False, initial=True, help_text="An inactive server is neither polled nor heard."
            )
            self.fields["clear_token"] = forms.BooleanField(required=False, label="Remove the stored token")


class LinkForm(forms.Form):
    model_name = forms.CharField(label="MLflow registered model", max_length=256)
    feature = forms.ModelChoiceField(queryset=AIFeature.objects.none(), to_field_name="slug")
    catalog_model = forms.ModelChoiceField(
        queryset=CatalogModel.objects.select_related("vendor").order_by("vendor__name", "identifier"),
        label="Catalog model",
        help_text="The catalog's entry for this model; each imported version serves it, with the MLflow version "
        "in its parameters.",
    )
    alias = forms.CharField(
        max_length=100,
        required=False,
        label="Deploying alias",
        help_text="The MLflow alias that deploys it, e.g. champion: Gatehouse reports when it moves to a version "
        "that is not live here. Empty: no drift check.",
    )
    environment = forms.ChoiceField(choices=Environment.choices, initial=Environment.PRODUCTION)

    def __init__(self, *args, features, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["feature"].queryset = features
        self.fields["catalog_model"].label_from_instance = lambda model: f"{model.vendor.name} · {model.identifier}"


class MappingForm(forms.Form):
    metric = forms.CharField(max_length=250, help_text="The run metric, as MLflow logs it (e.g. accuracy).")
    kind = forms.ChoiceField(choices=EvaluationKind.choices, label="Evaluation kind")
    threshold = forms.FloatField()
    higher_is_better = forms.BooleanField(required=False, initial=True, label="Higher is better")
