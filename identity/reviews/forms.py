"""Forms of the access review pages. Their valid input goes to ``identity.reviews.services``."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

DEFAULT_DAYS = 14


def default_name(today=None) -> str:
    today = today or timezone.localdate()
    return f"{today.year} Q{(today.month - 1) // 3 + 1} access review"


def end_of_day(day) -> datetime:
    """The last second of ``day`` in the server's time zone: a campaign due on a date runs through it."""
    return timezone.make_aware(datetime.combine(day, time(23, 59, 59)))


class ReviewStartForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="How auditors will find it, e.g. “2026 Q4 access review”.")
    due_date = forms.DateField(
        label="Due",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Reviewers are reminded in the last days before it; what is still open after it is escalated "
        "to governance.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["name"].initial = default_name(today)
        self.fields["due_date"].initial = today + timedelta(days=DEFAULT_DAYS)

    @property
    def due_at(self) -> datetime:
        return end_of_day(self.cleaned_data["due_date"])


class ReviewCloseForm(forms.Form):
    close_anyway = forms.BooleanField(
        required=False,
        label="Close anyway: record the items still awaiting review as not reviewed",
    )


class ItemDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("confirm", "Confirm"), ("revoke", "Revoke")])
    note = forms.CharField(required=False, max_length=500)
    confirmed = forms.BooleanField(required=False)  # the consequences of a revocation were shown
