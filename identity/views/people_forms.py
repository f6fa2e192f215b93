"""Forms of the People, Teams and Account pages. Each change takes a reason, kept in the audit trail."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse

from core.widgets import SuggestionsInput
from registry.choices import Role
from registry.models import Team

REASON_REQUIRED = "Say why: the reason is kept in the audit trail."


def reason_field(*, required: bool = True, help_text: str = "Kept in the audit trail.") -> forms.CharField:
    return forms.CharField(
        label="Reason",
        max_length=2000,
        required=required,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=help_text,
        error_messages={"required": REASON_REQUIRED},
    )


class ReasonForm(forms.Form):
    reason = reason_field()


class RoleGrantForm(forms.Form):
    role = forms.ChoiceField(choices=(), error_messages={"invalid_choice": "Choose one of the roles listed."})
    reason = reason_field(help_text="Why this person needs the role. Kept in the audit trail.")

    def __init__(self, *args, held=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", "Choose a role…")] + [
            (value, label) for value, label in Role.choices if value not in held
        ]


class TeamJoinForm(forms.Form):
    """Put the person on the page in a team."""

    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        to_field_name="slug",
        empty_label="Choose a team…",
        error_messages={"invalid_choice": "Choose one of the teams listed."},
    )
    reason = reason_field(help_text="Why this person joins the team. Kept in the audit trail.")

    def __init__(self, *args, teams=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams if teams is not None else Team.objects.order_by("name")


class MemberAddForm(forms.Form):
    """A person by username, in a box that suggests active people as you type."""

    user = forms.ModelChoiceField(
        label="Person",
        queryset=get_user_model().objects.filter(is_active=True),
        to_field_name="username",
        widget=SuggestionsInput(attrs={"placeholder": "Type a name, username or email"}),
        error_messages={
            "invalid_choice": "No active person has the username “%(value)s”: pick one of the suggestions."
        },
    )
    reason = reason_field(help_text="Why this person joins the team. Kept in the audit trail.")

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].widget.suggestions_url = reverse("identity:member_suggestions", args=[team.slug])


class TeamCreateForm(forms.Form):
    name = forms.CharField(max_length=120)
    slug = forms.SlugField(
        max_length=60,
        help_text="Filled in from the name; in addresses and the API, e.g. claims. Lower-case letters, digits "
        "and hyphens; it stays.",
        widget=forms.TextInput(attrs={"data-slug-from": "name"}),
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class TeamEditForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    reason = reason_field(required=False, help_text="Optional; kept in the audit trail with the change.")
