"""The FilterSet shared by a campaign's page and the API's item list: search by person, decision, kind."""

import django_filters
from django import forms

from core.filters import SearchFilterSet
from identity.choices import ReviewDecision, ReviewItemKind
from identity.models import AccessReviewItem


class ReviewItemFilter(SearchFilterSet):
    search_fields = ("user__username", "user__first_name", "user__last_name", "user__email")
    decision = django_filters.ChoiceFilter(choices=ReviewDecision.choices, empty_label="Any decision")
    kind = django_filters.ChoiceFilter(choices=ReviewItemKind.choices, empty_label="Roles and teams")

    class Meta:
        model = AccessReviewItem
        fields = ["q", "decision", "kind"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["q"].label = "Person"
        self.filters["q"].field.widget = forms.TextInput(
            attrs={"type": "search", "placeholder": "Name, username or email…"}
        )
