"""Forms parse and validate browser input; the services decide. Errors from services land back here."""

from __future__ import annotations

import json
from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from core.widgets import SearchableCheckboxes, SearchableSelect, ToolsPicker, in_time_zone, slug_from
from registry.choices import FEATURE_TRANSITIONS, DataClassification, DatasetUsage, FeatureStatus
from registry.models import (
    AIFeature,
    CatalogModel,
    Dataset,
    Evaluation,
    FeatureVersion,
    PolicyPack,
    PromptVersion,
    Region,
    Team,
    Vendor,
)
from registry.models.tokens import SCOPE_HELP, TokenScope
from registry.permissions import dataset_owner_choices, feature_owner_candidates, is_governance, user_team_ids

User = get_user_model()


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        full = user.get_full_name()
        return f"{full} ({user.username})" if full else user.username


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows; use a finite number.")


class JSONTextField(forms.CharField):
    """A textarea holding JSON; keeps what was typed when it does not parse."""

    def __init__(self, *, expect: type, example: str, **kwargs):
        self.expect = expect
        self.example = example
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3, "class": "mono", "placeholder": example}))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, (list, dict)):
            return json.dumps(value, indent=2) if value else ""
        return value

    def clean(self, value):
        text = super().clean(value)
        if not text or not text.strip():
            return self.expect()
        try:
            parsed = json.loads(text, parse_constant=_refuse_constant)
        except ValueError as error:
            if not isinstance(error, json.JSONDecodeError):
                raise forms.ValidationError(str(error)) from error
            raise forms.ValidationError(
                f"This is not valid JSON ({error.msg} at line {error.lineno}). Example: {self.example}"
            ) from error
        if not isinstance(parsed, self.expect):
            raise forms.ValidationError(
                f"Expected {'a list' if self.expect is list else 'an object'}, e.g. {self.example}"
            )
        return parsed


class LinesField(forms.CharField):
    """A textarea where each non-empty line is one item of a list."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value

    def clean(self, value):
        text = super().clean(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


def _regions_field(**kwargs):
    field = forms.ModelMultipleChoiceField(
        queryset=Region.objects.order_by("code"), widget=forms.CheckboxSelectMultiple, **kwargs
    )
    field.label_from_instance = lambda region: f"{region.code} ({region.name})"
    return field


class FeatureForm(forms.ModelForm):
    regions = _regions_field(help_text="Where the feature serves users.")
    accountable_owner = UserChoiceField(
        queryset=User.objects.none(), help_text="Someone with a team or a role; not an auditor."
    )
    incident_owner = UserChoiceField(
        queryset=User.objects.none(),
        help_text="Who is called when it breaks; someone with a team or a role, not an auditor.",
    )

    class Meta:
        model = AIFeature
        fields = [
            "name",
            "slug",
            "purpose",
            "team",
            "accountable_owner",
            "incident_owner",
            "escalation_path",
            "risk_tier",
            "regions",
            "intended_uses",
            "disallowed_uses",
            "data_classification",
            "slos",
            "monitors",
            "operational_fallback",
            "rollback_path",
            "stop_expansion_criteria",
            "status",
            "restricted",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in (
                "purpose",
                "escalation_path",
                "intended_uses",
                "disallowed_uses",
                "slos",
                "monitors",
                "operational_fallback",
                "rollback_path",
                "stop_expansion_criteria",
            )
        }
        help_texts = {
            "slug": "Filled in from the name; lower-case letters, digits and hyphens, used in URLs and by routers. "
            "Cannot change later."
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            slug_from(self.fields["slug"], "name")
        teams = Team.objects.order_by("name")
        if not is_governance(user):
            teams = teams.filter(pk__in=user_team_ids(user))
        self.fields["team"].queryset = teams
        # People who can hold the job; an existing owner stays choosable so unrelated edits still save.
        current = [pk for pk in (self.instance.accountable_owner_id, self.instance.incident_owner_id) if pk]
        owners = User.objects.filter(Q(pk__in=feature_owner_candidates().values("pk")) | Q(pk__in=current)).order_by(
            "username"
        )
        self.fields["accountable_owner"].queryset = owners
        self.fields["incident_owner"].queryset = owners
        if teams.count() == 1 and not self.instance.pk:
            self.fields["team"].initial = teams.first()
        if self.instance.pk:
            del self.fields["slug"]
            current = self.instance.status
            allowed = {current, *FEATURE_TRANSITIONS[current]}
            self.fields["status"].choices = [
                (value, label) for value, label in FeatureStatus.choices if value in allowed
            ]
        elif not self.initial.get("accountable_owner"):
            self.initial["accountable_owner"] = user.pk
            self.initial["incident_owner"] = user.pk


class FeatureEditForm(FeatureForm):
    reason = forms.CharField(
        label="Why this change",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded in the audit trail with the change.",
    )


class VersionForm(forms.Form):
    model = forms.ModelChoiceField(
        queryset=CatalogModel.objects.select_related("vendor"), help_text="The primary model.", widget=SearchableSelect
    )
    fallback_1 = forms.ModelChoiceField(
        queryset=CatalogModel.objects.select_related("vendor"),
        required=False,
        label="First fallback",
        widget=SearchableSelect,
    )
    fallback_2 = forms.ModelChoiceField(
        queryset=CatalogModel.objects.select_related("vendor"),
        required=False,
        label="Second fallback",
        widget=SearchableSelect,
    )
    fallback_3 = forms.ModelChoiceField(
        queryset=CatalogModel.objects.select_related("vendor"),
        required=False,
        label="Third fallback",
        widget=SearchableSelect,
    )
    prompt = forms.ModelChoiceField(queryset=PromptVersion.objects.order_by("name", "-version"), label="Prompt version")
    policy_pack = forms.ModelChoiceField(queryset=PolicyPack.objects.order_by("name", "-version"))
    retrieval_index = forms.CharField(
        required=False, max_length=200, help_text="e.g. claims-kb-2026-10 (blank if none)."
    )
    tools = JSONTextField(
        expect=list,
        example='[{"name": "crm.lookup", "scopes": ["read"]}]',
        help_text="Tools with scopes, as JSON: pick the ones declared before, or type a new one.",
        widget=ToolsPicker(
            attrs={"rows": 3, "class": "mono", "placeholder": '[{"name": "crm.lookup", "scopes": ["read"]}]'}
        ),
    )
    parameters = JSONTextField(
        expect=dict, example='{"temperature": 0.2, "max_tokens": 800}', help_text="Model parameters, as JSON."
    )
    training_datasets = forms.ModelMultipleChoiceField(
        queryset=Dataset.objects.order_by("name"), required=False, widget=SearchableCheckboxes
    )
    evaluation_datasets = forms.ModelMultipleChoiceField(
        queryset=Dataset.objects.order_by("name"), required=False, widget=SearchableCheckboxes
    )
    retrieval_datasets = forms.ModelMultipleChoiceField(
        queryset=Dataset.objects.order_by("name"), required=False, widget=SearchableCheckboxes
    )
    parent = forms.ModelChoiceField(
        queryset=FeatureVersion.objects.none(),
        required=False,
        label="Parent version",
        help_text="Lineage: the version this one derives from.",
    )
    change_summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), help_text="What changed and why.")

    DATASET_FIELDS = {
        "training_datasets": DatasetUsage.TRAINING,
        "evaluation_datasets": DatasetUsage.EVALUATION,
        "retrieval_datasets": DatasetUsage.RETRIEVAL,
    }

    def __init__(self, *args, feature: AIFeature, exclude_version: FeatureVersion | None = None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:  # no prompt or dataset that only features hidden from the user use
            from registry.selectors import dataset_list, known_tools, prompt_list

            self.fields["prompt"].queryset = prompt_list(user=user).select_related(None)
            self.fields["tools"].widget.known = known_tools(user=user)
            for name in self.DATASET_FIELDS:
                self.fields[name].queryset = dataset_list(user=user).select_related(None).order_by("name")
        parents = feature.versions.order_by("-number")
        if exclude_version is not None:
            parents = parents.filter(number__lt=exclude_version.number)
        self.fields["parent"].queryset = parents
        self.fields["parent"].label_from_instance = lambda version: (
            f"v{version.number} ({version.get_status_display().lower()})"
        )
        for name in ("model", "fallback_1", "fallback_2", "fallback_3"):
            self.fields[name].label_from_instance = lambda model: (
                f"{model.vendor.name} · {model.identifier} ({model.get_status_display().lower()})"
            )

    @classmethod
    def initial_from(cls, version: FeatureVersion, *, derive: bool = False) -> dict:
        """Prefill a form from a version: to edit it (a draft), or with ``derive`` to start the next one from it."""
        fallbacks = [link.model for link in version.fallbacks.all()]
        initial = {
            "model": version.model,
            "prompt": version.prompt,
            "policy_pack": version.policy_pack,
            "retrieval_index": version.retrieval_index,
            "tools": version.tools,
            "parameters": version.parameters,
            "parent": version if derive else version.parent,
            "change_summary": "" if derive else version.change_summary,
        }
        for position, model in enumerate(fallbacks[:3], start=1):
            initial[f"fallback_{position}"] = model
        for field, usage in cls.DATASET_FIELDS.items():
            initial[field] = [link.dataset for link in version.dataset_links.all() if link.usage == usage]
        return initial

    def clean(self):
        data = super().clean()
        chosen = [data.get(f"fallback_{position}") for position in (1, 2, 3)]
        if any(chosen[later] and not chosen[earlier] for earlier in range(3) for later in range(earlier + 1, 3)):
            raise forms.ValidationError(
                "Fill the fallbacks in order: the first before the second, the second before the third."
            )
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "model": data["model"],
            "fallback_models": [
                data[f"fallback_{position}"] for position in (1, 2, 3) if data.get(f"fallback_{position}")
            ],
            "prompt": data["prompt"],
            "policy_pack": data["policy_pack"],
            "retrieval_index": data.get("retrieval_index", ""),
            "tools": data.get("tools") or [],
            "parameters": data.get("parameters") or {},
            "datasets": [
                (dataset, usage) for field, usage in self.DATASET_FIELDS.items() for dataset in data.get(field) or []
            ],
            "parent": data.get("parent"),
            "change_summary": data["change_summary"],
        }


class EvaluationForm(forms.ModelForm):
    run_at = forms.DateTimeField(
        label="Ran at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
    )

    class Meta:
        model = Evaluation
        fields = [
            "kind",
            "suite",
            "metric",
            "score",
            "threshold",
            "higher_is_better",
            "region",
            "language",
            "run_at",
            "artifact_url",
            "notes",
        ]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}
        labels = {"higher_is_better": "Higher scores are better", "artifact_url": "Artifact link"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["run_at"].initial = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
        in_time_zone(self.fields["run_at"])

    def _post_clean(self):
        # The service validates the model (``passed`` is derived there), not the ModelForm.
        pass


class VendorForm(forms.ModelForm):
    class Meta:
        model = Vendor
        fields = ["name", "slug", "status", "website", "notes"]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "slug": forms.TextInput(attrs={"data-slug-from": "name"}),
        }


class CatalogModelForm(forms.ModelForm):
    regions = _regions_field(help_text="Where the model is hosted.")

    class Meta:
        model = CatalogModel
        fields = [
            "vendor",
            "identifier",
            "display_name",
            "regions",
            "context_window",
            "modality",
            "status",
            "deprecation_date",
            "notes",
        ]
        widgets = {
            "deprecation_date": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }


class PromptVersionForm(forms.Form):
    name = forms.SlugField(max_length=80, help_text="An existing name adds its next version; a new name starts at 1.")
    template = forms.CharField(widget=forms.Textarea(attrs={"rows": 10, "class": "mono"}))
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class PolicyPackForm(forms.Form):
    name = forms.SlugField(max_length=80, help_text="An existing name adds its next version; a new name starts at 1.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    allowed_regions = _regions_field(help_text="Data residency: where data may be processed.")
    safety_requirements = LinesField(required=False, help_text="One rule per line.")
    allowed_tools = JSONTextField(expect=list, example='[{"tool": "crm.lookup", "authorisation": "user-delegated"}]')
    data_classifications = forms.MultipleChoiceField(
        choices=DataClassification.choices, required=False, widget=forms.CheckboxSelectMultiple
    )


class DatasetForm(forms.ModelForm):
    class Meta:
        model = Dataset
        fields = ["name", "version", "uri", "classification", "owner", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {"uri": "URI"}
        help_texts = {"owner": "One of your teams (governance admins may name any team)."}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            self.fields["owner"].queryset = dataset_owner_choices(user)


class ApiTokenForm(forms.Form):
    """Name, scopes and expiry of a new token; "never" is offered to governance admins only (the service
    refuses it for anyone else too)."""

    EXPIRY_CHOICES = [
        ("7", "In 7 days"),
        ("30", "In 30 days"),
        ("90", "In 90 days"),
        ("180", "In 180 days"),
        ("365", "In a year"),
    ]

    name = forms.CharField(max_length=80, help_text="What will use it, e.g. ci-pipeline or claims-router.")
    scopes = forms.MultipleChoiceField(
        choices=[(scope.value, f"{scope.label} — {SCOPE_HELP[scope]}") for scope in TokenScope],
        widget=forms.CheckboxSelectMultiple,
        initial=[TokenScope.READ],
        help_text="Choose the least it needs. A token never does more than you may.",
        error_messages={"required": "Choose at least one scope: what will the token be used for?"},
    )
    expires = forms.ChoiceField(
        choices=EXPIRY_CHOICES,
        initial="90",
        label="Expires",
        help_text="Anything using it gets 401 token_expired from then on.",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None and is_governance(user):
            self.fields["expires"].choices = [*self.EXPIRY_CHOICES, ("never", "Never (governance only)")]
        else:  # SCIM provisioning is for a governance admin's token (the service refuses it for anyone else too)
            self.fields["scopes"].choices = [
                choice for choice in self.fields["scopes"].choices if choice[0] != TokenScope.SCIM
            ]

    def expires_at(self):
        choice = self.cleaned_data["expires"]
        if choice == "never":
            return "never"
        return timezone.now() + timedelta(days=int(choice))


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


class ReviewerGrantForm(forms.Form):
    """Governance brings one person into a restricted feature. The service checks the rest."""

    user = UserChoiceField(
        queryset=User.objects.none(),
        label="Person",
        help_text="Active people who cannot see the feature yet and hold a role that signs gates.",
    )
    days = forms.IntegerField(
        min_value=1,
        max_value=90,
        initial=14,
        label="For how many days",
        help_text="The grant ends on its own after this; revoke it sooner on the feature's page.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why this person needs to see it",
        help_text="Kept in the audit trail and shown on the feature.",
    )

    def __init__(self, *args, feature, **kwargs):
        super().__init__(*args, **kwargs)
        from registry.choices import Role
        from registry.selectors import seers_of_restricted

        signing_roles = [role for role in Role.values if role not in {Role.GOVERNANCE, Role.AUDITOR}]
        self.fields["user"].queryset = (
            (
                User.objects.filter(is_active=True, is_superuser=False, groups__name__in=signing_roles)
                .exclude(pk__in=seers_of_restricted([feature]).get(feature.pk, ()))
                .prefetch_related("groups")
                .distinct()
                .order_by("username")
            )
            if feature.restricted
            else User.objects.none()
        )  # everyone already sees an open feature

        def label(user):
            roles = sorted(Role(group.name).label.lower() for group in user.groups.all() if group.name in signing_roles)
            name = f"{user.get_full_name()} ({user.username})" if user.get_full_name() else user.username
            return f"{name}: {', '.join(roles)}"

        self.fields["user"].label_from_instance = label


class EndReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Why the grant ends")
