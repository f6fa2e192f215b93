from django import forms

from registry.models import Team
from registry.permissions import is_governance
from webhooks.choices import EVENT_DESCRIPTIONS, SUBSCRIBABLE_EVENT_CHOICES, SUBSCRIBABLE_EVENTS
from webhooks.permissions import managed_team_ids


class SubscriptionForm(forms.Form):
    """Creates a subscription, or (given ``subscription``) edits one: its team is fixed once created."""

    name = forms.CharField(max_length=120, help_text="After its receiver, e.g. release-bot or pagerduty-bridge.")
    target_url = forms.URLField(
        label="Target URL",
        max_length=500,
        assume_scheme="https",
        help_text="Gatehouse POSTs each event here as signed JSON. Redirects are not followed.",
    )
    events = forms.MultipleChoiceField(
        choices=SUBSCRIBABLE_EVENT_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(),
        required=False,
        to_field_name="slug",
        help_text="Only events of this team's features are delivered.",
    )
    active = forms.BooleanField(required=False, initial=True, label="Active: deliver events as they happen")

    def __init__(self, *args, user, subscription=None, **kwargs):
        if subscription is not None:
            current = {
                "name": subscription.name,
                "target_url": subscription.target_url,
                "events": subscription.events,
                "active": subscription.active,
            }
            kwargs["initial"] = {**current, **(kwargs.get("initial") or {})}
        super().__init__(*args, **kwargs)
        self.event_descriptions = [
            (event.value, event.label, EVENT_DESCRIPTIONS[event]) for event in SUBSCRIBABLE_EVENTS
        ]
        if subscription is not None:
            del self.fields["team"]
        elif is_governance(user):
            self.fields["team"].queryset = Team.objects.order_by("name")
            self.fields["team"].empty_label = "Every feature, restricted ones included"
        else:
            self.fields["team"].queryset = Team.objects.filter(pk__in=managed_team_ids(user)).order_by("name")
            self.fields["team"].required = True
            self.fields["team"].empty_label = None
